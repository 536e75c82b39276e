"""A4 board sheets for 400 stalls vs the 400 bare QR matrices they contain (DESIGN.md §8).

Prints both times and their ratio, measured in the same run on the same machine; the median of
several repetitions of each. Floor 2×, aim 1.2×.

    python bench/qr_sheet.py [--stalls 400] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from qr.board import BoardContent, group_digits, sheet_pdf
from qr.render import qr_matrix
from qr.vietqr import VietQR, encode


def payloads(count: int) -> list[str]:
    bins = ["971005", "970405", "970418", "970415", "970436", "970422"]
    return [
        encode(
            VietQR.build(
                bin=bins[n % len(bins)],
                account=f"{8800000000000 + n * 7919}",
                memo=f"B-{n} MAU-A",
                store_label=f"B-{n}",
                terminal_label=f"MAUA-{n:06d}",
            )
        )
        for n in range(count)
    ]


def contents(items: list[str]) -> list[BoardContent]:
    return [
        BoardContent(
            payload=p,
            title="Chợ trung tâm thị trấn Mậu A",
            label=f"Ki-ốt B-{n}",
            details="Khu B - Thịt, cá · Thịt tươi sống",
            holder_name="NGUYEN THI HUONG",
            bank_line="Agribank · " + group_digits(f"{8800000000000 + n * 7919}"),
            footer=f"In ngày 26/11/2026 · Số sê-ri MAUA-{n:06d}",
        )
        for n, p in enumerate(items)
    ]


def timed(fn: object, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalls", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    items = payloads(args.stalls)
    boards = contents(items)
    matrices = timed(lambda: [qr_matrix(p) for p in items], args.repeat)
    sheets = timed(lambda: sheet_pdf(boards), args.repeat)
    pages = (args.stalls + 3) // 4
    print(f"bare QR matrices ({args.stalls}):        {matrices * 1000:8.1f} ms")
    print(f"A4 sheet PDF ({args.stalls} boards, {pages} pages): {sheets * 1000:8.1f} ms")
    print(f"ratio sheet / matrices: {sheets / matrices:.2f}x   (floor 2x, aim 1.2x)")


if __name__ == "__main__":
    main()
