"""The one-page Vietnamese PDF report of a run (`bao-cao.pdf`): settings, the headline of each
scenario with its p5–p95 band, the paired difference from the baseline, one chart and what the
model does not say. Set in Be Vietnam Pro (shipped in qr/fonts) so diacritics render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

from qr.board import font_path

FONT = "BeVietnamPro"
ROWS = (
    ("vendors_accepting_share", "Tiểu thương nhận QR"),
    ("vendors_active_share", "Tiểu thương có giao dịch QR (7 ngày)"),
    ("shoppers_ready_share", "Người mua sẵn sàng (có ví)"),
    ("qr_tx_share", "Giao dịch bằng QR"),
    ("qr_value_share", "Giá trị thanh toán bằng QR"),
)
CAVEAT = (
    "Mô hình là công cụ so sánh kịch bản, không phải dự báo chính xác: các tham số mặc định lấy "
    "từ các chợ tương tự (Thái Nguyên, Quảng Ninh, Yên Bái) và giả định; hãy hiệu chỉnh bằng số "
    "liệu của chính chợ mình (cho simulate calibrate). Dải 5-95 % cho biết độ bất định ngẫu nhiên."
)


def _band(block: dict[str, Any] | None, unit: str = " %") -> str:
    if not block:
        return "—"
    return f"{block['median']:g}{unit} ({block['p5']:g}–{block['p95']:g})".replace(".", ",")


def write_report(path: Path, summary: dict[str, Any], chart: Path | None) -> None:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.add_font(FONT, "", str(font_path(False)))
    pdf.add_font(FONT, "B", str(font_path(True)))
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, "Báo cáo mô phỏng thanh toán QR tại chợ", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.cell(
        0,
        5,
        f"{summary['runs']} lượt mô phỏng × {summary['days']} ngày · hạt giống {summary['seed']}"
        f" · mô hình {summary['model_version']} · trung vị (dải 5–95 %)",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    months = "12m" if summary["days"] >= 365 else "6m"
    label = "12 tháng" if months == "12m" else "6 tháng"
    for entry in summary["scenarios"].values():
        if pdf.get_y() > 200:
            break
        pdf.ln(2)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(0, 6, entry["label"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 8.5)
        head = entry["headline"]
        difference = entry.get("difference_from_baseline", {})
        for key, text in ROWS:
            block = head[key].get(f"percent_{months}")
            days50 = head[key]["days_to_50"]["median"]
            line = f"{text} sau {label}: {_band(block)}"
            if days50 is not None:
                line += f" · đạt 50 % sau {days50} ngày"
            if key in difference:
                line += f" · so với cơ sở {_band(difference[key].get(f'points_{months}'), ' điểm')}"
            pdf.cell(0, 4.5, line, new_x="LMARGIN", new_y="NEXT")
        active = head["vendors_active"].get(f"count_{months}")
        receipts = head["receipts_per_accepting_vendor_day"].get(f"mean_30d_to_{months}")
        pdf.cell(
            0,
            4.5,
            f"Số tiểu thương hoạt động: {_band(active, '')} · giao dịch QR mỗi tiểu thương mỗi"
            f" ngày: {_band(receipts, '')}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if chart is not None and chart.exists():
        pdf.image(str(chart), x=15, y=max(pdf.get_y() + 3, 150), w=170)
    pdf.set_xy(10, 277)
    pdf.set_font(FONT, "", 7.5)
    pdf.multi_cell(0, 3.5, CAVEAT)
    pdf.output(str(path))
