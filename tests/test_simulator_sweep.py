"""Sweeps give the same bytes whatever runs them (this process, a process pool, a Dask
LocalCluster on 127.0.0.1, tasks finishing in any order); sensitivity finds what matters."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulator.params import ParameterError, scenario_params
from simulator.sensitivity import analyse, evaluate, sample
from simulator.sweep import grid_points, parse_grid, sweep, write_parquet

SMALL = {"n_shoppers": 400, "n_vendors": 40, "n_villages": 4}
GRID = {"members": [2.0, 20.0], "fee_rate": [0.0, 0.02]}


class BackwardsExecutor(Executor):
    """Runs the submitted tasks last-first, when the first result is asked for."""

    def __init__(self) -> None:
        self.pending: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.add_done_callback(lambda _: None)
        self.pending.append((future, fn, args))
        original = future.result

        def result(timeout: float | None = None) -> Any:
            while self.pending:
                task, function, arguments = self.pending.pop()
                task.set_result(function(*arguments))
            return original(timeout)

        future.result = result  # type: ignore[method-assign]
        return future


def swept(executor: Executor | None) -> np.ndarray:
    return sweep(
        ["baseline", "no_vendor_campaign"], GRID, runs=2, days=20, seed=3,
        executor=executor, overrides=SMALL,
    )  # fmt: skip


@pytest.mark.slow
def test_sweeps_are_byte_identical_whatever_runs_them(tmp_path: Path) -> None:
    here = swept(None)
    assert here.shape == (2, 4, 2, 21, here.shape[-1])
    assert swept(BackwardsExecutor()).tobytes() == here.tobytes()
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert swept(pool).tobytes() == here.tobytes()
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert swept(client.get_executor(pure=False)).tobytes() == here.tobytes()
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_parquet(first, ["baseline", "no_vendor_campaign"], GRID, here)
    write_parquet(second, ["baseline", "no_vendor_campaign"], GRID, swept(BackwardsExecutor()))
    assert first.read_bytes() == second.read_bytes()


def test_grid_points_are_the_product_and_cells_share_seeds() -> None:
    assert grid_points({"a": [1.0, 2.0], "b": [3.0]}) == [
        {"a": 1.0, "b": 3.0},
        {"a": 2.0, "b": 3.0},
    ]
    with pytest.raises(ParameterError):
        parse_grid(["members=a,b"])
    data = swept(None)
    # no vendor campaign changes nothing on the shopper side: same seeds, same readiness
    assert np.array_equal(data[0, :, :, :, 0], data[1, :, :, :, 0])


@pytest.mark.slow
def test_sweep_command_writes_parquet_and_the_band_table(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    result = subprocess.run(
        [
            sys.executable, "-m", "api", "simulate", "sweep", "--grid", "members=0,30",
            "--scenario", "baseline", "--scenario", "fee_1pct", "--param", "n_shoppers=300",
            "--param", "n_vendors=30", "--runs", "2", "--days", "15", "--workers", "2",
            "--out", str(tmp_path),
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pq.read_table(tmp_path / "sweep.parquet")
    assert table.num_rows == 2 * 2 * 2 * 16
    assert set(table.column("members").to_pylist()) == {0.0, 30.0}
    with (tmp_path / "sweep.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["scenario"], r["members"]) for r in rows] == [
        ("baseline", "0"), ("baseline", "30"), ("fee_1pct", "0"), ("fee_1pct", "30"),
    ]  # fmt: skip


def test_morris_screening_separates_a_lever_from_a_dummy() -> None:
    base = scenario_params("baseline", SMALL | {"blitz_end_day": 0})
    ranges = {"vendor_campaign_per_day": (0.0, 6.0), "blitz_members": (0.0, 50.0)}
    design = sample("morris", ranges, 4, seed=1)
    output = evaluate(base, list(ranges), design, metric="vendors_accepting_share", day=30,
                      runs=2, seed=1)  # fmt: skip
    indices = analyse("morris", ranges, design, output, seed=1)
    assert indices["vendor_campaign_per_day"]["mu_star"] > 0.1
    assert indices["blitz_members"]["mu_star"] == 0  # no blitz window: no effect at all


@pytest.mark.slow
def test_sensitivity_command_writes_indices_and_a_tornado(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "api", "simulate", "sensitivity", "--method", "sobol",
            "--vary", "vendor_campaign_per_day=0:6", "--vary", "members=0:30",
            "--metric", "vendors_accepting_share", "--day", "20", "--samples", "4",
            "--param", "n_shoppers=200", "--param", "n_vendors=20", "--runs", "1",
            "--workers", "1", "--out", str(tmp_path),
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "sensitivity.json").read_text(encoding="utf-8"))
    assert set(report["indices"]) == {"vendor_campaign_per_day", "members"}
    assert "ST" in report["indices"]["members"]
    assert (tmp_path / "tornado.png").read_bytes().startswith(b"\x89PNG")
