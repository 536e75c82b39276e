"""Payload → QR matrix → picture. The matrix is built with `qrcode` at error-correction level Q
(up to 25 % of the code may be dirty, torn, covered by tape or lost to glare on a laminated board
and still scan; at the A6 board's 70 mm the modules stay above 1 mm even for the longest
payloads) with a quiet zone of 4 modules, as ISO/IEC 18004 asks."""

from __future__ import annotations

import io
from dataclasses import dataclass

import qrcode
from PIL import Image

QUIET_ZONE = 4


@dataclass(frozen=True)
class QRMatrix:
    """The dark (True) and light modules of a code, quiet zone included."""

    rows: tuple[tuple[bool, ...], ...]
    version: int

    @property
    def size(self) -> int:
        return len(self.rows)

    def dark_runs(self) -> list[tuple[int, int, int]]:
        """(row, first column, length) of each horizontal run of dark modules: the fewest
        rectangles that draw the code."""
        runs = []
        for y, row in enumerate(self.rows):
            x = 0
            while x < len(row):
                if row[x]:
                    start = x
                    while x < len(row) and row[x]:
                        x += 1
                    runs.append((y, start, x - start))
                else:
                    x += 1
        return runs


def qr_matrix(payload: str, *, error_correction: str = "Q") -> QRMatrix:
    """The matrix of the smallest QR version that holds `payload` (UTF-8, byte mode)."""
    level = {
        "L": qrcode.constants.ERROR_CORRECT_L,
        "M": qrcode.constants.ERROR_CORRECT_M,
        "Q": qrcode.constants.ERROR_CORRECT_Q,
        "H": qrcode.constants.ERROR_CORRECT_H,
    }[error_correction]
    code = qrcode.QRCode(error_correction=level, border=QUIET_ZONE, box_size=1)
    code.add_data(payload.encode("utf-8"), optimize=0)
    code.make(fit=True)
    rows = tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())
    return QRMatrix(rows=rows, version=int(code.version))


def matrix_image(matrix: QRMatrix, *, module_px: int = 10) -> Image.Image:
    """A black-on-white grayscale image, `module_px` pixels per module."""
    size = matrix.size
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in matrix.rows for dark in row])
    return image.resize((size * module_px, size * module_px), Image.Resampling.NEAREST).convert("L")


def png_bytes(payload: str, *, module_px: int = 10) -> bytes:
    """The bare code as PNG."""
    buffer = io.BytesIO()
    matrix_image(qr_matrix(payload), module_px=module_px).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def svg_text(payload: str, *, module_mm: float = 1.0) -> str:
    """The bare code as a self-contained SVG: one path, one unit per module, crisp edges."""
    matrix = qr_matrix(payload)
    size = matrix.size
    path = "".join(f"M{x} {y}h{length}v1h-{length}z" for y, x, length in matrix.dark_runs())
    width = f"{size * module_mm:g}mm"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{width}" '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>\n'
    )
