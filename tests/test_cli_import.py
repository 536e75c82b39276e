"""`cho import` applies the import's rules: junk stall codes refused with the rule, zones as
people write them counted as new zones by the dry run, nothing changed by a refused file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from market.registry.spreadsheet import COLUMNS
from tests.conftest import World, snapshot_database

HEADER = ",".join(label for _, label in COLUMNS)


def _import(db_url: str, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api", "import", str(path), "--market", "mau-a", *extra],
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_cli_import_refuses_junk_codes_and_lists_new_zones(
    world: World, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    before = snapshot_database(engine)
    junk = tmp_path / "junk.csv"
    junk.write_text(f"{HEADER}\nKhu B,ô@#\nDãy E,E-1\n", encoding="utf-8")
    refused = _import(db_url, junk, "--commit")
    assert refused.returncode == 1, refused.stderr
    assert "Dòng 2, cột 'Mã ki-ốt'" in refused.stderr
    assert "chữ cái và chữ số" in refused.stderr
    assert snapshot_database(engine) == before

    good = tmp_path / "good.csv"
    good.write_text(f"{HEADER}\nKhu B,B-20\nDãy E,E-1\n", encoding="utf-8")
    dry = _import(db_url, good)
    assert dry.returncode == 0, dry.stderr
    assert "1 khu mới, 2 ki-ốt mới" in dry.stdout
    assert snapshot_database(engine) == before
