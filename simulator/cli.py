"""`cho simulate …`: run, compare and list scenarios from the command line."""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from simulator.calibrate import calibrate, forecast, read_observed
from simulator.charts import CHART_LABELS
from simulator.drive import drive
from simulator.executors import open_executor
from simulator.observed import fetch_observed, write_observed
from simulator.outputs import write_outputs
from simulator.params import (
    SCENARIO_LABELS,
    SCENARIOS,
    ParameterError,
    Params,
    parse_overrides,
    scenario_params,
)
from simulator.runs import run
from simulator.sensitivity import Method, analyse, evaluate, sample, write_tornado
from simulator.summary import SHARE_METRICS
from simulator.sweep import grid_points, parse_grid, sweep, write_parquet, write_table

simulate_app = typer.Typer(
    help="Mô phỏng chấp nhận thanh toán QR (adoption simulator).", no_args_is_help=True
)
console = Console()

RunsOption = Annotated[int, typer.Option(min=1, max=1000, help="Monte Carlo repetitions")]
DaysOption = Annotated[int, typer.Option(min=1, max=3650, help="days to simulate")]
SeedOption = Annotated[int, typer.Option(help="root seed; same seed → same numbers")]
WorkersOption = Annotated[int, typer.Option(min=1, max=64, help="worker processes")]
OutOption = Annotated[Path, typer.Option(help="output folder")]
ParamOption = Annotated[list[str] | None, typer.Option("--param", help="KEY=VALUE override")]


def _fail(exc: Exception) -> typer.Exit:
    """One clear line on stderr, exit status 2 (a usage error)."""
    message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
    if isinstance(exc, ParameterError):
        message = f"--param {exc.field}: {exc.message}"
    typer.echo(f"lỗi (error): {message}", err=True)
    return typer.Exit(2)


def _simulate(
    names: list[str],
    overrides: dict[str, object],
    runs: int,
    days: int,
    seed: int,
    workers: int,
    out: Path,
) -> None:
    scenarios = {name: scenario_params(name, overrides) for name in names}
    results = {}
    with Progress(console=console, transient=True) as progress, open_executor(workers) as pool:
        for name, params in scenarios.items():
            task = progress.add_task(f"{SCENARIO_LABELS.get(name, name)}", total=runs)
            results[name] = run(
                params,
                runs=runs,
                days=days,
                seed=seed,
                executor=pool,
                progress=partial(progress.advance, task),
            )
    summary = write_outputs(
        out, scenarios=scenarios, results=results, seed=seed, runs=runs, days=days
    )
    months = "12m" if days >= 365 else "6m"
    table = Table(title=f"Kết quả chính sau {months[:-1]} tháng · trung vị (dải 5–95 %)")
    columns = ("kịch bản", "nhận QR", "hoạt động", "GD QR/tiểu thương/ngày", "GD QR", "giá trị QR")
    for column in (*columns, "ngày tới 50/80/90 % nhận QR"):
        table.add_column(column)

    def band(block: dict[str, float] | None, unit: str = " %") -> str:
        if not block:
            return "—"
        return f"{block['median']:g}{unit} ({block['p5']:g}–{block['p95']:g})"

    for entry in summary["scenarios"].values():
        head = entry["headline"]
        reach = head["vendors_accepting_share"]
        table.add_row(
            entry["label"],
            band(reach.get(f"percent_{months}")),
            band(head["vendors_active"].get(f"count_{months}"), ""),
            band(head["receipts_per_accepting_vendor_day"].get(f"mean_30d_to_{months}"), ""),
            band(head["qr_tx_share"].get(f"percent_{months}")),
            band(head["qr_value_share"].get(f"percent_{months}")),
            "/".join(str(reach[f"days_to_{level}"]["median"] or "—") for level in (50, 80, 90)),
        )
    console.print(table)
    for entry in summary["scenarios"].values():
        difference = entry.get("difference_from_baseline")
        if difference:
            qr = difference["qr_tx_share"].get(f"points_{months}")
            accepting = difference["vendors_accepting_share"].get(f"points_{months}")
            console.print(
                f"{entry['label']} so với cơ sở: GD QR {band(qr, ' điểm')}, "
                f"nhận QR {band(accepting, ' điểm')}"
            )
    console.print(f"Đã ghi {out}/runs.csv, summary.json, bao-cao.pdf và biểu đồ PNG/SVG")


@simulate_app.command("run")
def run_command(
    scenario: Annotated[
        str, typer.Option(help="scenario name (cho simulate scenarios)")
    ] = "baseline",
    param: ParamOption = None,
    runs: RunsOption = 20,
    days: DaysOption = 365,
    seed: SeedOption = 1,
    workers: WorkersOption = 1,
    out: OutOption = Path("simulation"),
) -> None:
    """Run one scenario; writes runs.csv, summary.json, bao-cao.pdf and charts to OUT."""
    try:
        scenario_params(scenario, parse_overrides(param or []))
    except (KeyError, ValueError) as exc:
        raise _fail(exc) from None
    _simulate([scenario], parse_overrides(param or []), runs, days, seed, workers, out)


@simulate_app.command("compare")
def compare_command(
    scenarios: Annotated[list[str], typer.Argument(help="scenario names")],
    param: ParamOption = None,
    runs: RunsOption = 20,
    days: DaysOption = 365,
    seed: SeedOption = 1,
    workers: WorkersOption = 1,
    out: OutOption = Path("comparison"),
) -> None:
    """Run several scenarios on the same seeds (common random numbers); with `baseline` among
    them, report each one's paired difference from it."""
    try:
        for name in scenarios:
            scenario_params(name, parse_overrides(param or []))
    except (KeyError, ValueError) as exc:
        raise _fail(exc) from None
    _simulate(scenarios, parse_overrides(param or []), runs, days, seed, workers, out)


@simulate_app.command("scenarios")
def scenarios_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the scenarios with the parameters they change, and every parameter's default."""
    if as_json:
        typer.echo(
            json.dumps(
                {"scenarios": SCENARIOS, "parameters": Params.describe()},
                ensure_ascii=False,
                default=str,
            )
        )
        return
    table = Table(title="Kịch bản (scenarios)")
    table.add_column("tên")
    table.add_column("mô tả")
    table.add_column("thay đổi so với cơ sở")
    for name, changes in SCENARIOS.items():
        table.add_row(
            name, SCENARIO_LABELS[name], ", ".join(f"{k}={v}" for k, v in changes.items()) or "—"
        )
    console.print(table)
    params = Table(title="Tham số (parameters)")
    for column in ("tên", "mặc định", "đơn vị", "nguồn"):
        params.add_column(column)
    for row in Params.describe():
        params.add_row(row["name"], str(row["default"]), row["unit"], row["source"])
    console.print(params)


@simulate_app.command("calibrate")
def calibrate_command(
    observed: Annotated[
        Path | None,
        typer.Option(
            help="CSV of day,metric,value[,sd][,window] (default: the analogue markets' targets)"
        ),
    ] = None,
    fit: Annotated[list[str] | None, typer.Option(help="NAME=LOW:HIGH to fit (repeatable)")] = None,
    scenario: Annotated[str, typer.Option(help="starting scenario")] = "baseline",
    param: ParamOption = None,
    particles: Annotated[int, typer.Option(min=10, max=2000)] = 60,
    generations: Annotated[int, typer.Option(min=0, max=20)] = 4,
    forecast_days: Annotated[int, typer.Option(min=1, max=3650)] = 365,
    runs: RunsOption = 20,
    seed: SeedOption = 1,
    out: OutOption = Path("calibration"),
) -> None:
    """Fit parameters to observed points by ABC-SMC; writes calibration.json (accepted set,
    credible intervals, residuals) and a forecast drawn from the accepted set (runs.csv,
    summary.json, charts, bao-cao.pdf)."""
    try:
        base = scenario_params(scenario, parse_overrides(param or []))
        points = read_observed(observed) if observed else None
        ranges = {}
        for item in fit or []:
            name, _, bounds = item.partition("=")
            low, _, high = bounds.partition(":")
            if not hasattr(base, name) or not low or not high or float(low) >= float(high):
                raise ValueError(f"--fit {item!r}: expected NAME=LOW:HIGH with a parameter name")
            ranges[name] = (float(low), float(high))
    except (KeyError, ValueError, OSError) as exc:
        raise _fail(exc) from None
    with console.status("Đang hiệu chỉnh (calibrating)…"):
        result = calibrate(
            base,
            observed=points,
            ranges=ranges or None,
            particles=particles,
            generations=generations,
            seed=seed,
        )
        data = forecast(result, base, runs=runs, days=forecast_days, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    report = result.as_dict()
    (out / "calibration.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    write_outputs(
        out,
        scenarios={"forecast": base},
        results={"forecast": data},
        seed=seed,
        runs=runs,
        days=forecast_days,
    )
    table = Table(
        title=f"Hiệu chỉnh ABC-SMC · {report['accepted_points']} điểm được chấp nhận"
        f" / {report['evaluated_points']} lần chạy · ngưỡng {report['tolerances'][-1]}"
    )
    for column in ("tham số", "trung bình", "khoảng tin cậy 90 %", "tiên nghiệm"):
        table.add_column(column)
    for name, entry in report["fitted"].items():
        low, high = entry["interval_90"]
        table.add_row(name, f"{entry['mean']:.4g}", f"{low:.4g} – {high:.4g}", f"{entry['prior']}")
    console.print(table)
    console.print(f"Đã ghi {out}/calibration.json và dự báo từ tập được chấp nhận")


SchedulerOption = Annotated[
    str | None,
    typer.Option(help="a Dask scheduler address (tcp://HOST:8786); default: local processes"),
]


def _ranges(items: list[str], base: Params) -> dict[str, tuple[float, float]]:
    ranges = {}
    for item in items:
        name, _, bounds = item.partition("=")
        low, _, high = bounds.partition(":")
        try:
            valid = hasattr(base, name) and float(low) < float(high)
        except ValueError:
            valid = False
        if not valid:
            raise ParameterError(name or item, "cần NAME=LOW:HIGH (expected NAME=LOW:HIGH)")
        ranges[name] = (float(low), float(high))
    return ranges


@simulate_app.command("sweep")
def sweep_command(
    grid: Annotated[list[str], typer.Option(help="NAME=V1,V2,… (repeatable; the product)")],
    scenario: Annotated[list[str] | None, typer.Option(help="scenario (repeatable)")] = None,
    param: ParamOption = None,
    runs: RunsOption = 20,
    days: DaysOption = 365,
    seed: SeedOption = 1,
    workers: WorkersOption = 2,
    scheduler: SchedulerOption = None,
    out: OutOption = Path("sweep"),
) -> None:
    """Every grid point × scenario × run, on local processes or a Dask cluster; writes
    sweep.parquet (every day of every run) and sweep.csv (bands on the last day)."""
    names = scenario or ["baseline"]
    try:
        values = parse_grid(grid)
        overrides = parse_overrides(param or [])
        for name in names:
            for point in grid_points(values):
                scenario_params(name, overrides | point)
    except (KeyError, ValueError) as exc:
        raise _fail(exc) from None
    out.mkdir(parents=True, exist_ok=True)
    cells = len(names) * max(len(grid_points(values)), 1)
    with console.status(f"{cells} ô × {runs} lượt…"), open_executor(workers, scheduler) as pool:
        data = sweep(
            names, values, runs=runs, days=days, seed=seed, executor=pool, overrides=overrides
        )
    write_parquet(out / "sweep.parquet", names, values, data)
    write_table(out / "sweep.csv", names, values, data)
    console.print(f"Đã ghi {out}/sweep.parquet ({data.shape[0] * data.shape[1]} ô) và sweep.csv")


@simulate_app.command("sensitivity")
def sensitivity_command(
    vary: Annotated[list[str], typer.Option(help="NAME=LOW:HIGH (repeatable)")],
    method: Annotated[str, typer.Option(help="morris (screening) or sobol")] = "morris",
    metric: Annotated[str, typer.Option(help="a share metric")] = "qr_tx_share",
    day: Annotated[int, typer.Option(min=1, max=3650)] = 365,
    samples: Annotated[int, typer.Option(min=2, max=4096, help="trajectories / base samples")] = 10,
    scenario: Annotated[str, typer.Option()] = "baseline",
    param: ParamOption = None,
    runs: RunsOption = 5,
    seed: SeedOption = 1,
    workers: WorkersOption = 2,
    scheduler: SchedulerOption = None,
    out: OutOption = Path("sensitivity"),
) -> None:
    """Morris screening or Sobol indices (SALib) of one share on one day; writes
    sensitivity.json and a tornado chart."""
    try:
        if method not in ("morris", "sobol"):
            raise ValueError("--method: morris hoặc sobol (morris or sobol)")
        if metric not in SHARE_METRICS:
            raise ValueError(f"--metric: một trong (one of) {', '.join(SHARE_METRICS)}")
        base = scenario_params(scenario, parse_overrides(param or []))
        ranges = _ranges(vary, base)
    except (KeyError, ValueError) as exc:
        raise _fail(exc) from None
    chosen: Method = "morris" if method == "morris" else "sobol"
    design = sample(chosen, ranges, samples, seed)
    status = console.status(f"{len(design)} bộ tham số × {runs} lượt…")
    with status, open_executor(workers, scheduler) as pool:
        output = evaluate(
            base, list(ranges), design, metric=metric, day=day, runs=runs, seed=seed, executor=pool
        )
    indices = analyse(chosen, ranges, design, output, seed)
    out.mkdir(parents=True, exist_ok=True)
    report = {"method": chosen, "metric": metric, "day": day, "runs": runs,
              "evaluations": len(design), "indices": indices}  # fmt: skip
    (out / "sensitivity.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    title = f"Độ nhạy: {CHART_LABELS.get(metric, metric).lower()}, ngày {day}"
    write_tornado(out / "tornado.png", chosen, indices, title)
    table = Table(title=title)
    for column in ("tham số", *next(iter(indices.values()))):
        table.add_column(column)
    for name, values in indices.items():
        table.add_row(name, *(f"{v:.4g}" for v in values.values()))
    console.print(table)
    console.print(f"Đã ghi {out}/sensitivity.json và tornado.png")


@simulate_app.command("observed")
def observed_command(
    base_url: Annotated[
        str, typer.Option("--base-url", help="the running service, e.g. http://127.0.0.1:8000")
    ],
    market_id: Annotated[int, typer.Option("--market-id", min=1)],
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="day 0")],
    end: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"])],
    username: Annotated[str, typer.Option(help="a planner or admin login")] = "admin",
    password: Annotated[
        str | None,
        typer.Option(
            help="its password (or CHO_OBSERVED_PASSWORD)", envvar="CHO_OBSERVED_PASSWORD"
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="CSV to write")] = Path("observed.csv"),
) -> None:
    """Export a market's observed points (vendors with a QR code and with a payment by week,
    wallets opened, QR payments and value by month) from a running service, for calibrate."""
    if not password:
        typer.echo("lỗi (error): --password (or CHO_OBSERVED_PASSWORD) is required", err=True)
        raise typer.Exit(2)
    try:
        rows = fetch_observed(
            base_url, username=username, password=password, market_id=market_id,
            start=start.date(), end=end.date(),
        )  # fmt: skip
    except (RuntimeError, httpx.HTTPError) as exc:
        typer.echo(f"lỗi (error): {exc}", err=True)
        raise typer.Exit(1) from None
    write_observed(out, rows)
    console.print(f"Đã ghi {len(rows)} điểm quan sát vào {out}")


@simulate_app.command("drive")
def drive_command(
    base_url: Annotated[
        str, typer.Option("--base-url", help="the running service, e.g. http://127.0.0.1:8000")
    ],
    days: DaysOption = 7,
    rate: Annotated[
        float, typer.Option(min=0, help="requests per second at most (0 = no limit)")
    ] = 20.0,
    username: Annotated[str, typer.Option(help="an admin login of the service")] = "admin",
    password: Annotated[
        str | None,
        typer.Option(help="its password (or CHO_DRIVE_PASSWORD)", envvar="CHO_DRIVE_PASSWORD"),
    ] = None,
    stalls: Annotated[int, typer.Option(min=1, max=500)] = 20,
    shoppers: Annotated[int, typer.Option(min=1, max=5000)] = 40,
    seed: SeedOption = 1,
) -> None:
    """Play the simulated market against a running service over HTTP and report what it said."""
    if not password:
        console.print("[red]--password (or CHO_DRIVE_PASSWORD) is required[/red]")
        raise typer.Exit(2)
    try:
        report = drive(
            base_url,
            username=username,
            password=password,
            days=days,
            rate=rate,
            stalls=stalls,
            shoppers=shoppers,
            seed=seed,
        )
    except (RuntimeError, httpx.HTTPError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    table = Table(title=f"Đã gửi tới {base_url} · chợ {report.market_id}")
    table.add_column("yêu cầu · mã trả lời")
    table.add_column("số lần", justify="right")
    for label, count in sorted(report.sent.items()):
        table.add_row(label, str(count))
    console.print(table)
    console.print(
        f"Thanh toán QR thành công: {report.payments}, tổng {report.paid_total:,} đồng".replace(
            ",", "."
        )
    )
