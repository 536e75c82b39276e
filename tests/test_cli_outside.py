"""`cho` away from its database: one line saying what is missing, exit status 2, nothing
created. And `cho serve`'s start: the first admin from CHO_ADMIN_* (idempotent, the password never
shown) and uvicorn's worker health-check timeout from the settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, select
from typer.testing import CliRunner

from api import cli
from market.db import make_engine
from market.registry.models import Role, User
from market.settings import get_settings

runner = CliRunner()
COMMANDS = [
    ["users", "add", "someone", "--role", "planner", "--password", "a-long-password"],
    ["export", "--market", "mau-a", "-o", "out.csv"],
    ["import", "stalls.csv", "--market", "mau-a"],
    ["qr", "board", "--market", "mau-a", "--stall", "B-12", "-o", "b.png"],
    ["qr", "sheet", "--market", "mau-a", "-o", "s.pdf"],
    ["serve"],
    ["worker"],
]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with no database in it, and no DATABASE_URL."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "stalls.csv").write_text("Mã ki-ốt\nQ-1\n", encoding="utf-8")
    monkeypatch.chdir(folder)
    for name in list(os.environ):
        if name == "DATABASE_URL" or name.startswith("CHO_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def _one_line_refusal(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_a_command_without_a_database_says_so_and_creates_nothing(
    elsewhere: Path, args: list[str]
) -> None:
    before = sorted(p.name for p in elsewhere.iterdir())
    result = runner.invoke(cli.app, args)
    _one_line_refusal(result, "cho db upgrade", "DATABASE_URL")
    assert sorted(p.name for p in elsewhere.iterdir()) == before  # no ./cho.db, nothing


def test_the_real_command_prints_one_line_and_exits_2(elsewhere: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("CHO_")}
    done = subprocess.run(
        [sys.executable, "-m", "api", "export", "--market", "mau-a", "-o", "x.csv"],
        env=env | {"COLUMNS": "60"},
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cho db upgrade" in done.stderr
    assert "DATABASE_URL" in done.stderr
    assert not (elsewhere / "cho.db").exists()


def test_a_database_not_migrated_asks_for_an_upgrade(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (elsewhere / "empty.db").write_bytes(b"")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{elsewhere / 'empty.db'}")
    result = runner.invoke(cli.app, COMMANDS[1])
    _one_line_refusal(result, "cho db upgrade")
    assert (elsewhere / "empty.db").read_bytes() == b""


def test_an_unreachable_database_is_one_line(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://cho:secret@127.0.0.1:9/cho")
    result = runner.invoke(cli.app, COMMANDS[1])
    _one_line_refusal(result, "DATABASE_URL")
    assert "secret" not in result.output


# ---------------------------------------------------------------------------------------------
# cho serve's start


@pytest.fixture
def migrated(
    elsewhere: Path, database_urls: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> str:
    copy = elsewhere / "cho.db"
    shutil.copyfile(make_url(database_urls["sqlite"]).database or "", copy)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append(kwargs))
    return calls


def _admins(url: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        names = [u.username for u in session.exec(select(User).where(User.role == Role.ADMIN))]
    engine.dispose()
    return names


def test_serve_creates_the_first_admin_once_and_never_shows_the_password(
    migrated: str, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHO_ADMIN_USERNAME", "quantri")
    monkeypatch.setenv("CHO_ADMIN_PASSWORD", "mat-khau-bi-mat-9")
    first = runner.invoke(cli.app, ["serve"])
    assert first.exit_code == 0, first.output
    assert "quantri" in first.output
    assert _admins(migrated) == ["quantri"]
    get_settings.cache_clear()
    monkeypatch.setenv("CHO_ADMIN_PASSWORD", "another-password-7")
    again = runner.invoke(cli.app, ["serve"])  # a restart: nothing changes
    assert again.exit_code == 0, again.output
    assert _admins(migrated) == ["quantri"]
    for output in (first.output, again.output):
        assert "mat-khau-bi-mat-9" not in output
        assert "another-password-7" not in output
    assert len(served) == 2
    login = get_settings()
    assert login.admin_password is not None
    assert "another-password-7" not in repr(login)


def test_a_bad_first_admin_password_is_refused_without_showing_it(
    migrated: str, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHO_ADMIN_USERNAME", "quantri")
    monkeypatch.setenv("CHO_ADMIN_PASSWORD", "ngan7")
    result = runner.invoke(cli.app, ["serve"])
    _one_line_refusal(result, "CHO_ADMIN_PASSWORD", "8")
    assert "ngan7" not in result.output
    assert served == []
    assert _admins(migrated) == []


def test_serve_without_admin_variables_creates_no_user(
    migrated: str, served: list[dict[str, Any]]
) -> None:
    result = runner.invoke(cli.app, ["serve"])
    assert result.exit_code == 0, result.output
    assert _admins(migrated) == []


def test_the_worker_health_check_timeout_is_a_setting(
    migrated: str, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(cli.app, ["serve", "--workers", "2"]).exit_code == 0
    assert served[-1]["timeout_worker_healthcheck"] == 60
    assert served[-1]["workers"] == 2
    get_settings.cache_clear()
    monkeypatch.setenv("CHO_WORKER_HEALTHCHECK_TIMEOUT", "120")
    assert runner.invoke(cli.app, ["serve"]).exit_code == 0
    assert served[-1]["timeout_worker_healthcheck"] == 120


def test_the_access_log_can_be_left_to_the_proxy(
    migrated: str, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(cli.app, ["serve"]).exit_code == 0
    assert served[-1]["access_log"] is True
    get_settings.cache_clear()
    monkeypatch.setenv("CHO_ACCESS_LOG", "false")
    assert runner.invoke(cli.app, ["serve"]).exit_code == 0
    assert served[-1]["access_log"] is False


def test_forwarded_headers_are_trusted_only_from_the_proxies_named(
    migrated: str, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(cli.app, ["serve"]).exit_code == 0
    assert served[-1]["proxy_headers"] is False
    get_settings.cache_clear()
    monkeypatch.setenv("CHO_TRUSTED_PROXIES", " 10.0.0.5, 172.18.0.0/16 ")
    assert runner.invoke(cli.app, ["serve"]).exit_code == 0
    assert served[-1]["proxy_headers"] is True
    assert served[-1]["forwarded_allow_ips"] == "10.0.0.5,172.18.0.0/16"


def test_a_proxy_that_is_not_an_address_is_refused_in_one_line(
    migrated: str, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHO_TRUSTED_PROXIES", "10.0.0.5,nginx")
    result = runner.invoke(cli.app, ["serve"])
    _one_line_refusal(result, "CHO_TRUSTED_PROXIES", "'nginx'")
    assert served == []


def test_uvicorn_takes_the_timeout_option() -> None:
    import inspect

    import uvicorn

    assert "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters


def test_a_worker_starts_without_hashing_or_heavy_imports() -> None:
    code = (
        "import sys\n"
        "import argon2\n"
        "calls = []\n"
        "real = argon2.PasswordHasher.hash\n"
        "argon2.PasswordHasher.hash = lambda *a, **k: calls.append(1) or real(*a, **k)\n"
        "import api.app\n"
        "api.app.create_app()\n"
        "heavy = [m for m in ('numpy', 'matplotlib', 'fpdf', 'alembic', 'simulator.runs')"
        " if m in sys.modules]\n"
        "print(f'{len(calls)}|{\",\".join(heavy)}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=os.environ | {"DATABASE_URL": "sqlite://"},
    )
    hashes, heavy = done.stdout.strip().split("|")
    assert hashes == "0", done.stdout
    # numpy still comes with openpyxl (the spreadsheet routes); the others must not load
    assert set(heavy.split(",")) - {"", "numpy"} == set(), heavy
