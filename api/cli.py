"""The `cho` command: serve, demo, worker, db, users, import and export."""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from api.demo import DEMO_PASSWORD, DEMO_SHOPPER_PHONE, DEMO_SHOPPER_PIN, load_demo
from market.db import (
    DatabaseNotReadyError,
    make_engine,
    require_database,
    require_id,
    unit_of_work,
    upgrade,
)
from market.errors import DomainError, ImportRowsError, NotFoundError
from market.field_messages import field_message
from market.registry import spreadsheet, stall_codes
from market.registry.access import SYSTEM
from market.registry.markets import find_zone_by_code, get_market_by_code
from market.registry.models import Role, User, UserCreate
from market.registry.stalls import find_stall_by_code
from market.registry.users import create_user
from market.settings import Settings, get_settings
from qr import board as board_render
from qr.cli import qr_app
from simulator.cli import simulate_app

app = typer.Typer(
    help="Chợ 4.0: sổ đăng ký chợ, mã VietQR, ví thử, mô phỏng.", no_args_is_help=True
)
db_app = typer.Typer(help="Cơ sở dữ liệu (database).", no_args_is_help=True)
users_app = typer.Typer(help="Người dùng (users).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(qr_app, name="qr")
app.add_typer(simulate_app, name="simulate")

console = Console()
err_console = Console(stderr=True)

HostOption = Annotated[str, typer.Option(help="address to listen on")]
PortOption = Annotated[int, typer.Option(help="port to listen on")]
WorkersOption = Annotated[int, typer.Option(min=1, help="worker processes")]


def _settings() -> Settings:
    """The settings from the environment; a bad value is one line on stderr naming its
    variable, and exit status 2."""
    try:
        return get_settings()
    except ValidationError as exc:
        _refuse(f"Cấu hình không hợp lệ (invalid setting): {_reasons(exc, 'CHO_')}")


def _reasons(exc: ValidationError, prefix: str) -> str:
    """Each invalid value as `VARIABLE: message`, the variable named by `prefix` and its field."""
    return "; ".join(
        f"{prefix}{'.'.join(str(p) for p in e['loc']).upper()}: {field_message(e)}"
        for e in exc.errors(include_input=False)
    )


def _refuse(line: str) -> NoReturn:
    typer.echo(line, err=True)
    raise typer.Exit(2)


def _engine() -> Engine:
    """The engine of the configured database, which must exist and be migrated; otherwise one
    line on stderr saying what is missing, exit status 2, and nothing created."""
    url = _settings().database_url
    try:
        require_database(url)
    except DatabaseNotReadyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    return make_engine(url)


def _first_admin(engine: Engine, settings: Settings) -> None:
    """Create the admin named by CHO_ADMIN_USERNAME with CHO_ADMIN_PASSWORD unless a user of that
    name exists (so a restart changes nothing, not even a password changed since). The password
    is never printed, nor is any validation error's input."""
    username = settings.admin_username
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    if not username and not password:
        return
    if not username or not password:
        typer.echo(
            "Cần đặt cả CHO_ADMIN_USERNAME và CHO_ADMIN_PASSWORD "
            "(set both to create the first admin).",
            err=True,
        )
        raise typer.Exit(2)
    try:
        data = UserCreate(
            username=username, password=password, full_name="Quản trị hệ thống", role=Role.ADMIN
        )
    except ValidationError as exc:
        _refuse(f"Không tạo được quản trị viên đầu tiên: {_reasons(exc, 'CHO_ADMIN_')}")
    try:
        with unit_of_work(engine) as session:
            if session.exec(select(User).where(User.username == username)).first() is not None:
                return
            create_user(session, actor=SYSTEM, data=data)
    except IntegrityError:
        return  # another instance created it at the same moment
    console.print(f"Đã tạo quản trị viên {username} (first admin created from CHO_ADMIN_*).")


def _serve(host: str, port: int, workers: int) -> None:
    settings = _settings()
    engine = _engine()
    _first_admin(engine, settings)
    engine.dispose()
    uvicorn.run(
        "api.app:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=settings.access_log,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        timeout_worker_healthcheck=settings.worker_healthcheck_timeout,
    )


@app.command()
def serve(
    host: HostOption = "127.0.0.1", port: PortOption = 8000, workers: WorkersOption = 1
) -> None:
    """Serve the API (migrate first with `cho db upgrade`)."""
    _serve(host, port, workers)


@app.command()
def demo(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: WorkersOption = 1,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="start serving")] = True,
) -> None:
    """Create or upgrade the database, load the Mậu A demo market and users, then serve."""
    settings = _settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with unit_of_work(engine) as session:
        market, logins, created = load_demo(session)
    engine.dispose()
    console.print(
        f"[bold]{market.name}[/bold] ({'vừa tạo' if created else 'đã có'}) — "
        f"database {settings.database_url}"
    )
    table = Table(title="Tài khoản thử (demo logins)")
    for column in ("vai trò (role)", "tên đăng nhập", "mật khẩu"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.role.value, login.username, login.password)
    console.print(table)
    base = f"http://{host}:{port}"
    pages = [
        ("Trang quản lý chợ (manager's console)", f"{base}/login", "quanly.maua"),
        ("Loa báo tiền của tiểu thương (vendor's phone)", f"{base}/v", "tieuthuong.b12"),
        (
            "Ví của người mua (shopper's wallet)",
            f"{base}/w/login",
            f"phone 0{DEMO_SHOPPER_PHONE[3:]}, PIN {DEMO_SHOPPER_PIN}",
        ),
        ("Trang kế hoạch (planner's workbench)", f"{base}/plan", "kehoach.vanyen"),
        ("API docs", f"{base}/docs", ""),
    ]
    for title, url, who in pages:
        console.print(f"{title}: {url}  {who}".rstrip(), soft_wrap=True)
    console.print(
        f"curl -s -X POST {base}/auth/token -d 'username=quanly.maua&password={DEMO_PASSWORD}'",
        soft_wrap=True,
    )
    if serve_after:
        # one `cho worker` beside the server runs the planners' jobs; it stops with the server
        worker = subprocess.Popen([sys.executable, "-m", "api", "worker", "--with-parent"])
        try:
            _serve(host, port, workers)
        finally:
            worker.terminate()  # it finishes its job; a job cut short is claimed again later
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="run the queued jobs, then exit")] = False,
    with_parent: Annotated[
        bool, typer.Option("--with-parent", hidden=True, help="stop when the parent exits")
    ] = False,
) -> None:
    """Run planners' simulation jobs from the database (start as many as you like on
    PostgreSQL; one on SQLite). SIGTERM or Ctrl-C stops it after the current job."""
    import logging

    from planner.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for chatty in ("alembic", "fontTools"):  # plugin set-up and font subsetting are not news
        logging.getLogger(chatty).setLevel(logging.WARNING)
    engine = _engine()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if with_parent:  # `cho demo`'s worker does not outlive the server, even one killed with -9
        parent = os.getppid()

        def watch() -> None:
            while not stop.wait(1.0):
                if os.getppid() != parent:
                    stop.set()

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    runner = Worker(engine, _settings())
    console.print(f"cho worker {runner.name}: đang chờ việc (waiting for jobs)")
    count = runner.run_forever(stop, once=once)
    engine.dispose()
    console.print(f"cho worker {runner.name}: đã chạy {count} lượt (ran {count} jobs)")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Run the migrations up to the newest schema."""
    url = _settings().database_url
    upgrade(url)
    console.print(f"Đã cập nhật cấu trúc dữ liệu (schema upgraded): {url}")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="tên đăng nhập (lower case)")],
    role: Annotated[Role, typer.Option(help="vai trò")],
    market: Annotated[
        list[str] | None, typer.Option(help="market code (managers; repeatable)")
    ] = None,
    vendor_id: Annotated[int | None, typer.Option(help="vendor record (vendor users)")] = None,
    full_name: Annotated[str, typer.Option(help="họ tên")] = "",
    password: Annotated[str | None, typer.Option(help="asked for when omitted")] = None,
) -> None:
    """Create a user."""
    secret = password or getpass.getpass("Mật khẩu (password): ")
    engine = _engine()
    try:
        with unit_of_work(engine) as session:
            market_ids = [require_id(get_market_by_code(session, code)) for code in market or []]
            user = create_user(
                session,
                actor=SYSTEM,
                data=UserCreate(
                    username=username,
                    password=secret,
                    full_name=full_name,
                    role=role,
                    market_ids=market_ids,
                    vendor_id=vendor_id,
                ),
            )
            console.print(f"Đã tạo người dùng {user.username} ({user.role}), id {user.id}")
    except DomainError as exc:
        _fail(exc)
    except ValueError as exc:
        err_console.print(str(exc))
        raise typer.Exit(2) from None


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".xlsx or .csv")],
    market: Annotated[str, typer.Option(help="market code, e.g. mau-a")],
    commit: Annotated[bool, typer.Option("--commit", help="apply (default: dry run)")] = False,
) -> None:
    """Import stalls, vendors and payout accounts; a dry run unless --commit."""
    engine = _engine()
    try:
        with unit_of_work(engine) as session:
            market_row = get_market_by_code(session, market)
            report = spreadsheet.import_table(
                session,
                actor=SYSTEM,
                market_id=require_id(market_row),
                content=path.read_bytes(),
                filename=path.name,
                dry_run=not commit,
            )
    except ImportRowsError as exc:
        for error in exc.errors:
            err_console.print(error.message)
        _fail(exc)
    except DomainError as exc:
        _fail(exc)
    for error in report.errors:
        err_console.print(error.message)
    console.print(
        f"{'Đã nhập' if report.committed else 'Chạy thử'}: {report.rows} dòng, "
        f"{report.zones_created} khu mới, "
        f"{report.stalls_created} ki-ốt mới, {report.stalls_updated} ki-ốt sửa, "
        f"{report.vendors_created} tiểu thương mới, {report.accounts_created} tài khoản mới, "
        f"{report.unchanged_rows} dòng không đổi, {len(report.errors)} lỗi."
    )
    if report.errors:
        raise typer.Exit(1)


@app.command("export")
def export_file(
    market: Annotated[str, typer.Option(help="market code")],
    output: Annotated[Path, typer.Option("-o", "--output", help=".xlsx or .csv")],
) -> None:
    """Export a market's stalls, vendors and default payout accounts."""
    engine = _engine()
    with unit_of_work(engine) as session:
        market_id = require_id(get_market_by_code(session, market))
        if output.suffix.lower() == ".csv":
            content = spreadsheet.export_csv(session, actor=SYSTEM, market_id=market_id)
        else:
            content = spreadsheet.export_xlsx(session, actor=SYSTEM, market_id=market_id)
    output.write_bytes(content)
    console.print(f"Đã xuất {output}")


def _fail(exc: DomainError) -> None:
    err_console.print(f"[red]{exc.code}[/red]: {exc.detail}")
    raise typer.Exit(1)


@qr_app.command("board")
def qr_board(
    market: Annotated[str, typer.Option(help="market code, e.g. mau-a")],
    stall: Annotated[str, typer.Option(help="stall code, e.g. B-12 (b12 works too)")],
    output: Annotated[Path, typer.Option("-o", "--output", help=".png, .svg or .pdf")],
) -> None:
    """Write a stall's A6 board."""
    engine = _engine()
    try:
        with unit_of_work(engine) as session:
            market_row = get_market_by_code(session, market)
            stall_row = find_stall_by_code(session, market_id=require_id(market_row), code=stall)
            if stall_row is None:
                raise NotFoundError(f"Không có ki-ốt '{stall}' ở chợ {market} (no such stall).")
            content = stall_codes.board_content(
                stall_codes.stall_code(session, actor=SYSTEM, stall_id=require_id(stall_row))
            )
    except DomainError as exc:
        _fail(exc)
    suffix = output.suffix.lower()
    if suffix == ".pdf":
        output.write_bytes(board_render.board_pdf(content))
    elif suffix == ".svg":
        output.write_text(board_render.board_svg(content), encoding="utf-8")
    else:
        output.write_bytes(board_render.board_png(content))
    console.print(f"Đã ghi {output}")


@qr_app.command("sheet")
def qr_sheet(
    market: Annotated[str, typer.Option(help="market code")],
    output: Annotated[Path, typer.Option("-o", "--output", help="PDF file")],
    zone: Annotated[str | None, typer.Option(help="zone code (default: whole market)")] = None,
) -> None:
    """Write A4 sheets of four boards with cut marks, for a zone or the whole market."""
    engine = _engine()
    try:
        with unit_of_work(engine) as session:
            market_row = get_market_by_code(session, market)
            zone_id = None
            if zone is not None:
                zone_row = find_zone_by_code(session, market_id=require_id(market_row), code=zone)
                if zone_row is None:
                    raise NotFoundError(f"Không có khu '{zone}' (no such zone).")
                zone_id = zone_row.id
            codes = stall_codes.market_codes(
                session, actor=SYSTEM, market_id=require_id(market_row), zone_id=zone_id
            )
            contents = [stall_codes.board_content(code) for code in codes]
    except DomainError as exc:
        _fail(exc)
    output.write_bytes(board_render.sheet_pdf(contents))
    console.print(f"Đã ghi {output}: {len(contents)} bảng, {(len(contents) + 3) // 4} trang A4")
