"""Rendering: every picture we make scans back (with zxing-cpp) to the same payload; the shipped
font has every Vietnamese letter; the longest realistic texts fit their boxes."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import cairosvg
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageDraw

from qr import render
from qr.amounts import amount_in_words, format_vnd
from qr.board import (
    A6,
    BoardContent,
    Text,
    _pil_font,
    board_items,
    board_pdf,
    board_png,
    board_svg,
    font_path,
    group_digits,
    sheet_pdf,
    text_width_mm,
)
from qr.vietqr import VietQR, encode

VOWELS = "aăâeêioôơuưy"
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]


def vietnamese_letters() -> list[str]:
    """The 146 letters: 12 vowels × 6 tones and đ, in both cases."""
    import unicodedata

    lower = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES] + ["đ"]
    return lower + [letter.upper() for letter in lower]


def _scan(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def _content(payload: str, **extra: object) -> BoardContent:
    fields: dict[str, object] = {
        "payload": payload,
        "title": "Chợ trung tâm thị trấn Mậu A",
        "label": "Ki-ốt B-12",
        "details": "Khu B - Thịt, cá · Thịt tươi sống",
        "holder_name": "NGUYEN THI HUONG",
        "bank_line": "Agribank · 8800 1234 5678 9",
        "footer": "In ngày 26/11/2026 · MAUA-000001",
    } | extra
    return BoardContent(**fields)  # type: ignore[arg-type]


PAYLOADS = [
    encode(
        VietQR.build(
            bin="970405",
            account="8800123456789",
            store_label="B-12",
            terminal_label="MAUA-000001",
            memo="B-12 MAU-A",
        )
    ),
    encode(
        VietQR.build(
            bin="971005",
            account="0912345678",
            amount=150000,
            memo="Thanh toán",
            name_vi="Nguyễn Thị Hường",
            city_vi="Mậu A",
        )
    ),
    encode(VietQR.build(bin="970418", account="2151000012345678901", card=True)),
]


def test_there_are_146_letters() -> None:
    assert len(set(vietnamese_letters())) == 146


@pytest.mark.parametrize("bold", [False, True])
def test_font_covers_every_vietnamese_letter_and_the_dong_sign(bold: bool) -> None:
    font = TTFont(str(font_path(bold)))
    cmap = font.getBestCmap()
    missing = [ch for ch in [*vietnamese_letters(), "₫"] if ord(ch) not in cmap]
    assert missing == []
    # and each renders as itself, not as the missing-glyph box
    pil = _pil_font(bold, 48)

    def draw(ch: str) -> Image.Image:
        image = Image.new("L", (80, 80), 0)
        ImageDraw.Draw(image).text((10, 5), ch, fill=255, font=pil)
        return image

    notdef = draw("\ue000")
    boxes = [
        ch for ch in vietnamese_letters() if not ImageChops.difference(draw(ch), notdef).getbbox()
    ]
    assert boxes == []


def test_font_licence_is_shipped() -> None:
    licence = font_path(False).parent / "OFL.txt"
    assert "SIL Open Font License" in licence.read_text(encoding="utf-8")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_bare_png_and_svg_scan_back(payload: str) -> None:
    assert _scan(Image.open(io.BytesIO(render.png_bytes(payload)))) == [payload]
    raster = cairosvg.svg2png(bytestring=render.svg_text(payload).encode("utf-8"), output_width=600)
    assert _scan(Image.open(io.BytesIO(raster))) == [payload]
    matrix = render.qr_matrix(payload)
    assert all(not any(row[:4]) and not any(row[-4:]) for row in matrix.rows)  # quiet zone
    assert not any(matrix.rows[0])
    assert not any(matrix.rows[-1])


@pytest.mark.parametrize("payload", PAYLOADS)
def test_board_png_and_svg_scan_back(payload: str) -> None:
    png = Image.open(io.BytesIO(board_png(_content(payload))))
    assert png.size == (1240, 1748)  # A6 at 300 dpi
    assert _scan(png) == [payload]
    raster = cairosvg.svg2png(bytestring=board_svg(_content(payload)).encode("utf-8"), dpi=200)
    assert _scan(Image.open(io.BytesIO(raster))) == [payload]


def _pdf_pages(pdf: bytes, tmp_path: Path, dpi: int = 150) -> list[Image.Image]:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (Debian poppler-utils) is needed: .ci/run installs it")
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(source), str(tmp_path / "page")], check=True
    )
    return [Image.open(p) for p in sorted(tmp_path.glob("page-*.png"))]


def test_board_pdf_scans_back(tmp_path: Path) -> None:
    pages = _pdf_pages(board_pdf(_content(PAYLOADS[1], amount=150000)), tmp_path)
    assert len(pages) == 1
    assert _scan(pages[0]) == [PAYLOADS[1]]


def test_every_board_on_a_sheet_scans_back(tmp_path: Path) -> None:
    payloads = [
        encode(
            VietQR.build(
                bin="970405",
                account=f"88001234{n:05d}",
                store_label=f"A-{n}",
                terminal_label=f"MAUA-{n:06d}",
            )
        )
        for n in range(1, 11)
    ]
    pages = _pdf_pages(
        sheet_pdf([_content(p, label=f"Ki-ốt A-{i}") for i, p in enumerate(payloads)]), tmp_path
    )
    assert len(pages) == 3  # 4 + 4 + 2
    found = [text for page in pages for text in _scan(page)]
    assert sorted(found) == sorted(payloads)
    assert [len(_scan(page)) for page in pages] == [4, 4, 2]


def test_longest_realistic_texts_fit_their_boxes() -> None:
    longest = _content(
        PAYLOADS[2],
        title="Chợ trung tâm thương mại thị trấn Mậu A huyện Văn Yên",
        label="Ki-ốt KHU-NGOÀI-TRỜI-128",
        details="Khu chợ tạm phía sau nhà văn hóa · Điện thoại, điện tử",
        holder_name="TON NU HOANG PHUONG THUY NGUYEN NGOC BAO TRAN",
        bank_line="VietCapitalBank · " + group_digits("2151000012345678901"),
        amount=499_999_999,
    )
    texts = [item for item in board_items(longest) if isinstance(item, Text)]
    for item in texts:
        assert text_width_mm(item.text, item.size_pt, item.bold) <= item.w + 0.01, item.text
        assert item.size_pt >= 6, item.text
    holder = [t for t in texts if t.bold and t.text in longest.holder_name]
    assert " ".join(t.text for t in holder) == longest.holder_name  # wrapped, not shrunk
    assert all(t.size_pt >= 10 for t in holder)
    assert all(item.x + item.w <= A6[0] for item in texts)
    bottom = max(item.y for item in texts if item.text != longest.footer)
    assert bottom < A6[1] - 6 - 3  # nothing runs into the footer


def test_amounts_for_people() -> None:
    assert format_vnd(150000) == "150.000\u00a0₫"
    assert amount_in_words(150000) == "Một trăm năm mươi nghìn đồng"
    assert amount_in_words(1_250_000) == "Một triệu hai trăm năm mươi nghìn đồng"
    assert group_digits("8800123456789") == "8800 1234 5678 9"
