"""`cho worker`: a process that claims planner jobs from the database and runs them, one at a
time. While a job runs, a heartbeat thread renews the job's lease and writes its progress; when
the planner cancels, or another worker took the job over (this one was presumed dead), the run
stops at the next finished replication. A job's files are written from scratch on every attempt,
so a job taken over after a crash gives the same bytes as one that never crashed. Sweeps run on
the Dask cluster when `CHO_DASK_SCHEDULER` names one, and so do sensitivity analyses."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from market.clock import Clock, utc_now
from market.db import require_id
from market.jobs import CANCELLED, DONE, FAILED, SimulationJob, claim, finish, renew
from market.settings import Settings
from planner.requests import JobRequest, points_of, scenarios_of
from planner.service import folder

log = logging.getLogger("cho.worker")


class StopRun(Exception):  # noqa: N818 (a signal, not an error)
    """The job was cancelled or taken over: stop at once."""


class Heartbeat:
    """Renews the job's lease and writes its progress every `period` seconds on its own thread;
    `stopped` is set when the job must stop."""

    def __init__(self, worker: Worker, job_id: int, total: int) -> None:
        self.worker, self.job_id, self.total = worker, job_id, total
        self.done = 0
        self.stopped = threading.Event()
        self._end = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._end.set()
        self._thread.join()

    def progress(self, finished: int) -> None:
        self.done = min(self.done + finished, self.total)  # a calibration's total is a guess
        if self.stopped.is_set():
            raise StopRun

    def _beat(self) -> None:
        while not self._end.wait(self.worker.period):
            try:
                kept = self.worker.renew(self.job_id, self.done)
            except Exception:  # a database hiccup: try again next beat, the lease has slack
                log.exception("heartbeat of job %s failed", self.job_id)
                continue
            if not kept:
                self.stopped.set()


def _run_files(out: Path, request: JobRequest, progress: Callable[[int], None]) -> None:
    # numpy, matplotlib and the PDF load with the first job, not with the worker
    from simulator.outputs import write_outputs, write_planner_files
    from simulator.params import scenario_params
    from simulator.runs import run

    names = scenarios_of(request)
    params = {name: scenario_params(name, request.params) for name in names}
    results = {
        name: run(
            params[name], runs=request.runs, days=request.days, seed=request.seed, progress=progress
        )
        for name in names
    }
    write_outputs(
        out, scenarios=params, results=results, seed=request.seed, runs=request.runs,
        days=request.days,
    )  # fmt: skip
    write_planner_files(out, results)


def _sweep_files(
    out: Path, request: JobRequest, progress: Callable[[int], None], executor: Executor | None
) -> None:
    import json

    from simulator.sweep import cells, sweep, write_parquet, write_table

    names = scenarios_of(request)
    grid = {name: [float(v) for v in values] for name, values in request.grid.items()}
    data = sweep(
        names, grid, runs=request.runs, days=request.days, seed=request.seed,
        executor=executor, overrides=request.params, progress=progress,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(out / "sweep.parquet", names, grid, data)
    write_table(out / "sweep.csv", names, grid, data)
    body = {"grid": grid, "points": points_of(request), "cells": cells(names, grid, data)}
    (out / "sweep.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")


def _sensitivity_files(
    out: Path, request: JobRequest, progress: Callable[[int], None], executor: Executor | None
) -> None:
    import csv
    import json

    from simulator.params import scenario_params
    from simulator.sensitivity import analyse, evaluate, sample, write_tornado

    ranges = {name: (float(low), float(high)) for name, (low, high) in request.ranges.items()}
    names = list(ranges)
    design = sample(request.method, ranges, request.samples, request.seed)
    output = evaluate(
        scenario_params(request.scenario, request.params), names, design,
        metric=request.metric, day=request.days, runs=request.runs, seed=request.seed,
        executor=executor, progress=progress,
    )  # fmt: skip
    indices = analyse(request.method, ranges, design, output, request.seed)
    body = {
        "method": request.method,
        "metric": request.metric,
        "day": request.days,
        "ranges": ranges,
        "indices": indices,
    }
    (out / "sensitivity.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    with (out / "sensitivity.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*names, request.metric])
        for row, value in zip(design, output, strict=True):
            writer.writerow([*(f"{v:.6g}" for v in row), f"{value:.6g}"])
    title = f"{request.metric}, ngày {request.days}"
    write_tornado(out / "tornado.png", request.method, indices, title)


def _calibration_files(out: Path, request: JobRequest, progress: Callable[[int], None]) -> None:
    import json

    from simulator.calibrate import Observation, calibrate, forecast
    from simulator.outputs import write_outputs, write_planner_files
    from simulator.params import scenario_params

    base = scenario_params(request.scenario, request.params)
    points = [
        Observation(p.day, p.metric, float(p.value), float(p.sd or default_sd(p.metric, p.value)),
                    p.window)
        for p in request.observed
    ]  # fmt: skip
    ranges = {name: (float(low), float(high)) for name, (low, high) in request.ranges.items()}
    fit = calibrate(
        base, observed=points, ranges=ranges, particles=request.particles,
        generations=request.generations, seed=request.seed, progress=progress,
    )  # fmt: skip
    data = forecast(fit, base, runs=request.runs, days=request.days, seed=request.seed)
    results = {"forecast": data}
    write_outputs(
        out, scenarios={"forecast": base}, results=results, seed=request.seed,
        runs=request.runs, days=request.days,
    )  # fmt: skip
    write_planner_files(out, results)
    report = fit.as_dict() | {"n_vendors": base.n_vendors}
    (out / "calibration.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )


def default_sd(metric: str, value: float) -> float:
    """How far off the model may be when the observer gave no sd: 5 points for a share, 10 %
    of the value (at least 1) for a count (the rule of `simulator.calibrate.parse_observed`)."""
    return 0.05 if metric.endswith("_share") else max(0.1 * abs(value), 1.0)


def produce(
    out: Path,
    request: JobRequest,
    progress: Callable[[int], None],
    *,
    scheduler: str | None = None,
) -> None:
    """Write every file of the job into `out` (emptied first), the manifest last."""
    from simulator.executors import open_executor
    from simulator.outputs import write_manifest

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if request.kind in ("sweep", "sensitivity"):
        make = _sweep_files if request.kind == "sweep" else _sensitivity_files
        with open_executor(scheduler=scheduler) as executor:
            make(out, request, progress, executor)
    elif request.kind == "calibrate":
        _calibration_files(out, request, progress)
    else:
        _run_files(out, request, progress)
    write_manifest(out, request=request.model_dump(), seed=request.seed)


class Worker:
    """One worker process's loop over the job table."""

    def __init__(self, engine: Engine, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:80]
        self.lease = timedelta(seconds=settings.worker_lease_seconds)
        self.period = min(1.0, settings.worker_lease_seconds / 3)

    def renew(self, job_id: int, done: int) -> bool:
        return renew(
            self.engine, job_id, worker=self.name, now=self.clock(), lease=self.lease,
            runs_done=done,
        )  # fmt: skip

    def run_one(self) -> SimulationJob | None:
        """Claim and run one job; the job as claimed, or None when the queue was empty."""
        job = claim(self.engine, worker=self.name, now=self.clock(), lease=self.lease)
        if job is None:
            return None
        log.info("job %s claimed by %s (attempt %s)", job.id, self.name, job.attempts)
        job_id = require_id(job)
        status, error = DONE, None
        try:
            request = JobRequest.model_validate(job.request | {"kind": job.kind})
            with Heartbeat(self, job_id, job.runs_total) as beat:
                produce(
                    folder(self.settings.data_dir, job_id), request, beat.progress,
                    scheduler=self.settings.dask_scheduler,
                )  # fmt: skip
        except StopRun:
            status = CANCELLED
        except Exception as exc:  # the job records its failure; the worker goes on
            log.exception("job %s failed", job_id)
            status, error = FAILED, f"{type(exc).__name__}: {exc}"
        kept = finish(
            self.engine, job_id, worker=self.name, status=status, now=self.clock(), error=error
        )
        if not kept:
            log.warning("job %s was taken over by another worker; its result is theirs", job_id)
        return job

    def run_forever(self, stop: threading.Event, *, once: bool = False) -> int:
        """Run jobs until `stop` is set (or, with `once`, until the queue is empty); returns
        how many jobs this worker ran."""
        count = 0
        while not stop.is_set():
            try:
                job = self.run_one()
            except OperationalError:  # the database is away: wait, then look again
                if once:
                    raise
                log.exception("cannot reach the database; retrying")
                stop.wait(self.settings.worker_poll_seconds)
                continue
            if job is not None:
                count += 1
                continue
            if once:
                break
            stop.wait(self.settings.worker_poll_seconds)
        return count
