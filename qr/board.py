"""Printable stall boards: an A6 board (PNG or PDF), A4 sheets of four A6 boards with cut marks,
and per-sale cards showing an amount in digits and in words.

The layout is computed once, in millimetres, as a list of drawing items; a PDF backend (fpdf2,
vector QR and embedded Be Vietnam Pro) and a PNG backend (Pillow) draw the same items. Text that
would overflow its box is set smaller until it fits. Callers pass the words to print: this module
knows nothing about stalls or vendors."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from qr.amounts import amount_in_words, format_vnd
from qr.render import QRMatrix, qr_matrix

if TYPE_CHECKING:
    from fpdf import FPDF

A6 = (105.0, 148.0)
A4 = (210.0, 297.0)
GREEN = (31, 111, 67)
INK = (20, 20, 20)
GREY = (90, 90, 90)
WHITE = (255, 255, 255)
CUT_MARK = (150, 150, 150)
MARGIN = 6.0
PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class BoardContent:
    """Everything printed on one board. `amount` makes it a per-sale card."""

    payload: str
    title: str  # market name
    label: str  # big label: the stall code
    details: str  # zone · category
    holder_name: str  # as banks show it: capitals, no diacritics
    bank_line: str  # "Agribank · 8800 1234 5678 9"
    footer: str  # print date and serial
    amount: int | None = None


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    color: tuple[int, int, int]


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # top of the line box
    w: float
    size_pt: float
    text: str
    bold: bool
    color: tuple[int, int, int]


@dataclass(frozen=True)
class Code:
    x: float
    y: float
    size: float
    matrix: QRMatrix


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


Item = Box | Text | Code | Line


@lru_cache(maxsize=2)
def font_path(bold: bool) -> Path:
    """The shipped Be Vietnam Pro font (SIL OFL 1.1, see qr/fonts/OFL.txt)."""
    name = "BeVietnamPro-Bold.ttf" if bold else "BeVietnamPro-Regular.ttf"
    with as_file(files("qr").joinpath("fonts", name)) as path:
        return Path(path)


@lru_cache(maxsize=256)
def _pil_font(bold: bool, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), size_px)


@lru_cache(maxsize=4096)
def text_width_mm(text: str, size_pt: float, bold: bool) -> float:
    """The printed width of `text` at `size_pt` points."""
    font = _pil_font(bold, 1000)
    return font.getlength(text) / 1000 * size_pt / PT_PER_MM


def fit_size(text: str, width_mm: float, size_pt: float, bold: bool, minimum: float = 5.0) -> float:
    """The largest size ≤ `size_pt` (in 0.5 pt steps) at which `text` fits `width_mm`."""
    size = size_pt
    while size > minimum and text_width_mm(text, size, bold) > width_mm:
        size -= 0.5
    return size


def _text(
    x: float,
    y: float,
    w: float,
    size: float,
    text: str,
    bold: bool,
    color: tuple[int, int, int] = INK,
) -> Text:
    return Text(x, y, w, fit_size(text, w, size, bold), text, bold, color)


def _lines(text: str, width_mm: float, size_pt: float, bold: bool, readable_pt: float) -> list[str]:
    """`text` on one line if it fits at `readable_pt` or more, else wrapped onto two."""
    if fit_size(text, width_mm, size_pt, bold) >= readable_pt:
        return [text]
    lines = _wrap(text, width_mm, size_pt, bold)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    return lines


def board_items(content: BoardContent, x0: float = 0.0, y0: float = 0.0) -> list[Item]:
    """The drawing of one A6 board whose top-left corner is at (x0, y0) mm."""
    width, height = A6
    inner = width - 2 * MARGIN
    items: list[Item] = [Box(x0, y0, width, height, WHITE), Box(x0, y0, width, 19, GREEN)]
    items.append(_text(x0 + MARGIN, y0 + 3.5, inner, 11, content.title.upper(), True, WHITE))
    items.append(
        _text(
            x0 + MARGIN,
            y0 + 11,
            inner,
            8,
            "Quét mã VietQR để thanh toán · Scan to pay",
            False,
            WHITE,
        )
    )
    y = y0 + 22
    items.append(_text(x0 + MARGIN, y, inner, 22, content.label, True))
    y += 10
    items.append(_text(x0 + MARGIN, y, inner, 9, content.details, False, GREY))
    y += 6
    holder_lines = _lines(content.holder_name, inner, 13, True, 10)
    if content.amount is not None:
        words = _lines(amount_in_words(content.amount), inner, 9, False, 8)
        code_size = 58.0 - 4 * (len(words) - 1) - 5 * (len(holder_lines) - 1)
        items.append(_text(x0 + MARGIN, y, inner, 20, format_vnd(content.amount), True, GREEN))
        y += 9
        for line in words:
            items.append(_text(x0 + MARGIN, y, inner, 9, line, False))
            y += 4.2
        y += 1.8
    else:
        code_size = 72.0 - 5.5 * (len(holder_lines) - 1)
    matrix = qr_matrix(content.payload)
    items.append(Code(x0 + (width - code_size) / 2, y, code_size, matrix))
    y += code_size + 2
    for line in holder_lines:
        items.append(_text(x0 + MARGIN, y, inner, 13, line, True))
        y += 5.5
    y += 1.5
    items.append(_text(x0 + MARGIN, y, inner, 10, content.bank_line, False))
    y += 6.5
    check = f"Kiểm tra tên người nhận {content.holder_name} trong ứng dụng trước khi chuyển."
    for line in _wrap(check, inner, 7.5):
        items.append(_text(x0 + MARGIN, y, inner, 7.5, line, False, GREY))
        y += 3.6
    items.append(
        _text(x0 + MARGIN, y0 + height - MARGIN - 3, inner, 7, content.footer, False, GREY)
    )
    return items


def _wrap(text: str, width_mm: float, size_pt: float, bold: bool = False) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and text_width_mm(candidate, size_pt, bold) > width_mm:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def sheet_pages(contents: Sequence[BoardContent]) -> list[list[Item]]:
    """A4 pages of four A6 boards (2 × 2) with cut marks outside each board's corners."""
    width, height = A6
    left = (A4[0] - 2 * width) / 2
    top = (A4[1] - 2 * height) / 2
    pages: list[list[Item]] = []
    for start in range(0, len(contents), 4):
        items: list[Item] = []
        for slot, content in enumerate(contents[start : start + 4]):
            items += board_items(content, left + (slot % 2) * width, top + (slot // 2) * height)
        items += _cut_marks(left, top, width, height)
        pages.append(items)
    return pages


def _cut_marks(left: float, top: float, width: float, height: float) -> list[Item]:
    """Four A6 boards fill an A4 page, so the cut lines are the page's centre lines: drawn as
    hairlines across the page, plus ticks in whatever margin the page leaves outside them."""
    right, bottom = left + 2 * width, top + 2 * height
    middle_x, middle_y = left + width, top + height
    marks: list[Item] = [
        Line(middle_x, top, middle_x, bottom),
        Line(left, middle_y, right, middle_y),
    ]
    for x in (left, middle_x, right):
        if top >= 1:
            marks.append(Line(x, 0, x, top))
        if A4[1] - bottom >= 1:
            marks.append(Line(x, bottom, x, A4[1]))
    for y in (top, middle_y, bottom):
        if left >= 1:
            marks.append(Line(0, y, left, y))
        if A4[0] - right >= 1:
            marks.append(Line(right, y, A4[0], y))
    return marks


# ---------------------------------------------------------------------------------------------
# PDF backend


def _new_pdf(page: tuple[float, float]) -> FPDF:
    from fpdf import FPDF  # imported when a PDF is drawn: fpdf2 takes ~0.5 s to import

    pdf = FPDF(unit="mm", format=page)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("BeVietnamPro", "", str(font_path(False)))
    pdf.add_font("BeVietnamPro", "B", str(font_path(True)))
    pdf.set_creator("Chợ 4.0")
    return pdf


def _draw_pdf(pdf: FPDF, items: Iterable[Item]) -> None:
    for item in items:
        if isinstance(item, Box):
            pdf.set_fill_color(*item.color)
            pdf.rect(item.x, item.y, item.w, item.h, style="F")
        elif isinstance(item, Text):
            pdf.set_font("BeVietnamPro", "B" if item.bold else "", item.size_pt)
            pdf.set_text_color(*item.color)
            pdf.text(item.x, item.y + item.size_pt / PT_PER_MM * 0.85, item.text)
        elif isinstance(item, Code):
            _draw_code(pdf, item)
        else:
            pdf.set_draw_color(*CUT_MARK)
            pdf.set_line_width(0.1)
            pdf.line(item.x1, item.y1, item.x2, item.y2)


def _draw_code(pdf: FPDF, code: Code) -> None:
    """The code as one filled path of rectangles (one per run of dark modules), written straight
    into the page's content stream: a vector code at a fraction of the cost of one fpdf2 call per
    rectangle. Coordinates go from mm, top-left origin, to points, bottom-left origin."""
    k, page_height = pdf.k, pdf.h
    module = code.size / code.matrix.size * k
    left, top = code.x * k, (page_height - code.y) * k
    height = module + 0.02  # a hair of overlap between rows avoids hairline gaps in viewers
    rects = " ".join(
        f"{left + col * module:.2f} {top - (row + 1) * module:.2f} {length * module:.2f} "
        f"{height:.2f} re"
        for row, col, length in code.matrix.dark_runs()
    )
    pdf._out(f"q 0 g {rects} f Q")


def board_pdf(content: BoardContent) -> bytes:
    """One A6 board as a one-page PDF."""
    pdf = _new_pdf(A6)
    pdf.add_page()
    _draw_pdf(pdf, board_items(content))
    return bytes(pdf.output())


def sheet_pdf(contents: Sequence[BoardContent]) -> bytes:
    """A multi-page A4 PDF, four boards a page, with cut marks."""
    pdf = _new_pdf(A4)
    pages = sheet_pages(contents) or [[]]
    for items in pages:
        pdf.add_page()
        _draw_pdf(pdf, items)
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------------
# PNG backend


def board_png(content: BoardContent, *, dpi: int = 300) -> bytes:
    """One A6 board as PNG (300 dpi: 1240 × 1748 pixels)."""
    scale = dpi / 25.4
    image = Image.new("RGB", (round(A6[0] * scale), round(A6[1] * scale)), WHITE)
    draw = ImageDraw.Draw(image)
    for item in board_items(content):
        if isinstance(item, Box):
            draw.rectangle(_px_box(item.x, item.y, item.w, item.h, scale), fill=item.color)
        elif isinstance(item, Text):
            size_px = max(1, round(item.size_pt / PT_PER_MM * scale))
            draw.text(
                (item.x * scale, item.y * scale),
                item.text,
                fill=item.color,
                font=_pil_font(item.bold, size_px),
            )
        elif isinstance(item, Code):
            module = item.size / item.matrix.size
            for row, col, length in item.matrix.dark_runs():
                draw.rectangle(
                    _px_box(
                        item.x + col * module, item.y + row * module, length * module, module, scale
                    ),
                    fill=(0, 0, 0),
                )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi), optimize=True)
    return buffer.getvalue()


def _px_box(x: float, y: float, w: float, h: float, scale: float) -> tuple[int, int, int, int]:
    return (
        round(x * scale),
        round(y * scale),
        round((x + w) * scale) - 1,
        round((y + h) * scale) - 1,
    )


# ---------------------------------------------------------------------------------------------
# SVG backend


def board_svg(content: BoardContent) -> str:
    """One A6 board as SVG (text set in Be Vietnam Pro where installed, else a sans-serif)."""
    width, height = A6
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}">'
    ]
    for item in board_items(content):
        if isinstance(item, Box):
            parts.append(
                f'<rect x="{item.x:.2f}" y="{item.y:.2f}" width="{item.w:.2f}" '
                f'height="{item.h:.2f}" fill="{_hex(item.color)}"/>'
            )
        elif isinstance(item, Text):
            size = item.size_pt / PT_PER_MM
            parts.append(
                f'<text x="{item.x:.2f}" y="{item.y + size * 0.85:.2f}" font-size="{size:.2f}" '
                f'font-family="Be Vietnam Pro, DejaVu Sans, sans-serif" '
                f'font-weight="{"700" if item.bold else "400"}" fill="{_hex(item.color)}">'
                f"{escape(item.text)}</text>"
            )
        elif isinstance(item, Code):
            module = item.size / item.matrix.size
            path = "".join(
                f"M{col} {row}h{length}v1h-{length}z"
                for row, col, length in item.matrix.dark_runs()
            )
            parts.append(
                f'<g transform="translate({item.x:.3f} {item.y:.3f}) scale({module:.5f})" '
                f'shape-rendering="crispEdges"><path d="{path}" fill="#000"/></g>'
            )
    parts.append("</svg>\n")
    return "".join(parts)


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def group_digits(number: str, size: int = 4) -> str:
    """ "8800123456789" → "8800 1234 5678 9": easier to read aloud and to check."""
    return " ".join(number[i : i + size] for i in range(0, len(number), size))
