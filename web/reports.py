"""The A4 report of a closed business day: per-vendor totals, the QR share, the content hash and
who closed it, in the shipped Be Vietnam Pro font (fpdf2)."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from market.money.followup import DayReport
from market.registry.models import Market
from qr.board import font_path
from web import i18n

COLUMNS = [("Tiểu thương", 62.0), ("Ki-ốt", 30.0), ("Số GD", 16.0), ("Tổng thu", 30.0),
           ("Phí", 20.0), ("Thực nhận", 32.0)]  # fmt: skip


def day_report_pdf(market: Market, report: DayReport) -> bytes:
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_font("BeVietnamPro", "", str(font_path(False)))
    pdf.add_font("BeVietnamPro", "B", str(font_path(True)))
    pdf.set_creator("Chợ 4.0")
    pdf.set_title(f"Chốt ngày {i18n.day(report.closed.business_day)} — {market.name}")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font("BeVietnamPro", "B", 16)
    pdf.cell(0, 9, market.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("BeVietnamPro", "B", 13)
    pdf.cell(
        0,
        8,
        f"Báo cáo chốt ngày {i18n.day(report.closed.business_day)}",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font("BeVietnamPro", "", 10)
    pdf.cell(
        0,
        6,
        f"Chốt lúc {i18n.moment(report.closed.closed_at)} bởi {report.closed.closed_by} · "
        f"Giờ Việt Nam (Asia/Ho_Chi_Minh)",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    share = i18n.percent(report.share)
    pdf.cell(
        0,
        6,
        f"Ki-ốt có thanh toán QR: {report.paid_stalls}/{report.occupied} ki-ốt đang thuê ({share})",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(3)
    pdf.set_font("BeVietnamPro", "B", 9.5)
    pdf.set_fill_color(230, 236, 240)
    for title, width in COLUMNS:
        pdf.cell(width, 7, title, border=1, fill=True)
    pdf.ln()
    pdf.set_font("BeVietnamPro", "", 9.5)
    for row in report.rows:
        cells = [
            row.vendor_name,
            ", ".join(row.stall_codes),
            str(row.count),
            i18n.money(row.gross),
            i18n.money(row.fees),
            i18n.money(row.net),
        ]
        for (_title, width), text in zip(COLUMNS, cells, strict=True):
            pdf.cell(width, 6.5, text[:40], border=1, align="R" if text[:1].isdigit() else "L")
        pdf.ln()
    totals = report.totals
    pdf.set_font("BeVietnamPro", "B", 9.5)
    cells = [
        "Tổng cộng",
        "",
        str(totals["count"]),
        i18n.money(totals["gross"]),
        i18n.money(totals["fees"]),
        i18n.money(totals["net"]),
    ]
    for (_title, width), text in zip(COLUMNS, cells, strict=True):
        pdf.cell(width, 7, text, border=1, align="R" if text[:1].isdigit() else "L")
    pdf.ln(12)
    pdf.set_font("BeVietnamPro", "", 8.5)
    pdf.multi_cell(
        0,
        5,
        f"Mã băm nội dung (SHA-256): {report.closed.content_hash}",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.multi_cell(
        0,
        5,
        "Số liệu đã chốt không thay đổi; mã băm tính trên tổng theo ví của từng tiểu thương.",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())
