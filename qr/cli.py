"""`cho qr encode` and `cho qr decode`: the codec from the command line (no database)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from qr.vietqr import VietQR, VietQRError, decode, describe, encode

qr_app = typer.Typer(help="Mã VietQR (VietQR payment codes).", no_args_is_help=True)


@qr_app.command("encode")
def encode_command(
    bin_code: Annotated[str, typer.Option("--bin", help="6-digit bank BIN, e.g. 970405")],
    account: Annotated[str, typer.Option(help="account, card or wallet number")],
    amount: Annotated[
        int | None, typer.Option(help="đồng; makes a dynamic (one-sale) code")
    ] = None,
    memo: Annotated[str | None, typer.Option(help="transfer memo (62.08), ≤ 25 ASCII")] = None,
    card: Annotated[bool, typer.Option("--card", help="the number is a card (QRIBFTTC)")] = False,
) -> None:
    """Print the payload and nothing else."""
    try:
        payload = encode(
            VietQR.build(bin=bin_code, account=account, amount=amount, memo=memo, card=card)
        )
    except VietQRError as exc:
        for problem in exc.problems:
            typer.echo(f"{problem.code}: {problem.reason}", err=True)
        raise typer.Exit(2) from None
    typer.echo(payload)


@qr_app.command("decode")
def decode_command(
    payload: Annotated[str, typer.Argument(help="the scanned text")],
    lenient: Annotated[bool, typer.Option(help="accept harmless quirks as warnings")] = False,
) -> None:
    """Print the fields as one JSON object, or the reasons and exit non-zero."""
    try:
        decoded = decode(payload, lenient=lenient)
    except VietQRError as exc:
        for problem in exc.problems:
            typer.echo(f"{problem.code}: {problem.reason}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(describe(decoded), ensure_ascii=False))
