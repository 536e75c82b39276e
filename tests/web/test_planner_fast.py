"""The planner's workbench pages without a browser (the TestClient, SQLite and PostgreSQL):
every form queues a job through the same rules as the API, a refusal lands next to its field
and queues nothing, the job's page shows progress, results, downloads and the manifest, and
only planners (and the admin) get in."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from market.jobs import SimulationJob
from market.registry import stalls
from market.registry.access import SYSTEM
from market.registry.models import AssignmentCreate, Board, Market
from market.settings import Settings
from planner.worker import Worker
from simulator.params import LABELS, Params
from tests.conftest import World
from tests.web.test_web_fast import form_csrf, sign_in

SMALL = {"runs": "3", "days": "40", "seed": "5", "p_n_shoppers": "300", "p_n_vendors": "30"}


def _jobs(engine: Engine) -> list[SimulationJob]:
    with Session(engine) as session:
        return list(session.exec(select(SimulationJob).order_by(SimulationJob.id)))  # type: ignore[arg-type]


def _post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(
        "/plan/jobs", data={"csrf": form_csrf(client, path), **data}, follow_redirects=False
    )


@pytest.mark.slow  # runs simulations in a worker
def test_a_run_from_the_form_to_its_results(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    sign_in(client, "planner")
    form = client.get("/plan")
    assert "double_teams" in form.text
    assert "Gấp đôi tổ công nghệ số" in form.text
    assert "nguồn" in form.text
    assert "vietnamnet.vn" in form.text
    response = _post(client, "/plan", {"kind": "run", "scenario": "double_teams", **SMALL})
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    waiting = client.get(url)
    assert "Đang chờ" in waiting.text
    assert 'hx-trigger="every 1s"' in waiting.text
    poll = client.get(url, headers={"HX-Request": "true"})
    assert poll.text.lstrip().startswith('<div id="status"')
    Worker(engine, settings).run_forever(threading.Event(), once=True)
    assert client.get(url, headers={"HX-Request": "true"}).headers["HX-Refresh"] == "true"
    page = client.get(url)
    assert "Bảng chính" in page.text
    assert 'data-chart="chart-qr_tx_share"' in page.text
    assert "Bảng số liệu" in page.text  # the data table beneath each chart
    assert "Số ngày tới 50 %" in page.text
    assert "%%" not in page.text
    assert bare_parameter_names(page.text) == set()  # its changed parameters, by label
    assert 'Số người mua trong vùng <span class="code">n_shoppers</span> = 300' in page.text
    csv_bytes = client.get(f"{url}/files/runs.csv").content
    assert hashlib.sha256(csv_bytes).hexdigest() in page.text  # the manifest lists it
    manifest = page.text[page.text.index('id="manifest"') :]
    assert "<td>–</td>" not in manifest
    assert '<td class="mono">–</td>' not in manifest
    if "không cài" in manifest:  # dask is not installed here: the row says why that is fine
        assert "chỉ cần khi chạy trên một cụm Dask" in manifest
    listing = client.get("/plan/jobs").text
    assert "máy chạy nền" in listing
    assert "(cho worker)" not in listing
    assert (
        '<span class="small muted">Máy chạy nền được khởi động bằng lệnh <code>cho worker</code>'
        in listing
    )
    client.cookies.set("cho_lang", "en")  # the same page in English
    english = client.get(url)
    assert "Headline" in english.text
    assert "Daily charts" in english.text
    assert "Days to 50 %" in english.text
    assert "%%" not in english.text
    assert "Parameters" in client.get("/plan").text
    job = _jobs(engine)[-1]
    assert job.request["params"] == {"n_shoppers": 300, "n_vendors": 30}
    assert job.request["scenario"] == "double_teams"


@pytest.mark.slow  # runs simulations in a worker
def test_compare_and_sweep_forms_queue_their_jobs(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    sign_in(client, "planner")
    compared = _post(
        client, "/plan/compare", {"kind": "compare", "compare": "double_teams", **SMALL}
    )
    assert compared.status_code == 303, compared.text
    swept = _post(
        client,
        "/plan/sweep",
        {"kind": "sweep", "grid1": "members", "values1": "0, 240", "grid2": "fee_rate",
         "values2": "0;0.02", **SMALL},
    )  # fmt: skip
    assert swept.status_code == 303, swept.text
    Worker(engine, settings).run_forever(threading.Event(), once=True)
    compare_page = client.get(compared.headers["location"])
    assert "Chênh lệch so với kịch bản cơ sở" in compare_page.text
    _says_why_a_short_run_lacks_its_headline(compare_page.text)
    client.cookies.set("cho_lang", "en")
    assert "(needs ≥ 182 days)" in client.get(compared.headers["location"]).text
    client.cookies.set("cho_lang", "vi")
    sweep_page = client.get(swept.headers["location"])
    assert "Kết quả quét tham số" in sweep_page.text
    assert sweep_page.text.count("<caption>") >= 5  # one heat table per share metric
    assert bare_parameter_names(sweep_page.text) == set()
    assert "Hàng: Số thành viên tổ công nghệ số cộng đồng; cột: Phí giao dịch QR" in sweep_page.text
    assert "members \\ fee_rate" not in sweep_page.text
    assert '<th scope="col" class="num">0,02 (2\u00a0%)</th>' in sweep_page.text
    assert bare_parameter_names(client.get("/plan/jobs").text) == set()
    listing = client.get("/plan/jobs")
    assert listing.text.count("Xong") >= 2


def _says_why_a_short_run_lacks_its_headline(page: str) -> None:
    """A 40-day run: each "–" of the headline says what it needs; the baseline labelled once."""
    assert "Lượt này chạy 40 ngày, chưa tới mốc 6, 12, 24 tháng" in page
    assert '<td class="num">– <span class="muted why">(cần ≥ 182 ngày)</span></td>' in page
    assert "(cần ≥ 730 ngày)" in page
    assert "(chưa tới trong 40 ngày)" in page
    assert "<caption>Cơ sở (baseline)</caption>" in page
    assert "<caption>Gấp đôi tổ CĐS</caption>" in page  # the label alone, no code id
    assert '"name": "double_teams"' not in page  # the charts' legends
    assert '<th scope="col" class="num">Gấp đôi tổ CĐS: trung vị' in page
    assert '<td>Gấp đôi tổ CĐS</td><th scope="row">' in page  # the differences' rows
    assert "double_teams" not in re.sub(r"<[^>]+>", " ", page.split("<h2", 1)[1])


def test_refusals_sit_next_to_their_field_and_queue_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "planner")
    before = len(_jobs(engine))
    for path, data, field_id, text in [
        ("/plan", {"kind": "run", "p_members": "-5"}, "e-p-members", "−5: phải từ 0"),
        ("/plan", {"kind": "run", "p_ticket_mean": "100000000"}, "e-p-ticket_mean",
         "100.000.000: phải từ 1.000 đến 50.000.000"),
        ("/plan", {"kind": "run", "p_fee_rate": "0,5"}, "e-p-fee_rate",
         "0,5 (50\u00a0%): phải từ 0 đến 0,1"),
        ("/plan", {"kind": "run", "p_members": "nhiều"}, "e-p-members", "cần một số"),
        ("/plan", {"kind": "run", "runs": "0"}, "e-runs", "1"),
        ("/plan/compare", {"kind": "compare"}, "e-compare", "ít nhất một kịch bản"),
        ("/plan/sweep", {"kind": "sweep"}, "e-grid1", "một hoặc hai tham số"),
        ("/plan/sweep", {"kind": "sweep", "grid1": "members", "values1": "a,b"}, "e-values1",
         "“a,b” không phải một số"),
    ]:  # fmt: skip
        response = _post(client, path, data)
        assert response.status_code == 422, (data, response.status_code)
        assert f'id="{field_id}"' in response.text, data
        assert text in response.text, data
    # every wrong box is marked at once, whatever stage would have caught it
    several = _post(
        client,
        "/plan",
        {"kind": "run", "runs": "0", "days": "một năm", "p_n_shoppers": "-5", "p_members": "3"},
    )
    assert several.status_code == 422
    for field_id in ("e-runs", "e-days", "e-p-n_shoppers"):
        assert f'id="{field_id}"' in several.text, field_id
    assert 'id="e-p-members"' not in several.text
    # forms made by hand: an unknown kind of job or source of observed points queues nothing
    assert _post(client, "/plan", {"kind": "evil"}).status_code == 404
    unknown = _post(client, "/plan/calibrate", {"kind": "calibrate", "source": "elsewhere"})
    assert unknown.status_code == 422
    assert "Nguồn số liệu không có trong danh sách" in unknown.text
    assert len(_jobs(engine)) == before


def test_cancel_rerun_and_the_quota_from_the_pages(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    sign_in(client, "planner")
    for _ in range(settings.planner_job_quota):
        assert _post(client, "/plan", {"kind": "run", **SMALL}).status_code == 303
    over = _post(client, "/plan", {"kind": "run", **SMALL})
    assert over.status_code == 422
    assert "tối đa 3" in over.text
    first = _jobs(engine)[-3]
    cancel = client.post(
        f"/plan/jobs/{first.id}/cancel",
        data={"csrf": form_csrf(client, "/plan/jobs"), "back": "list"},
        follow_redirects=False,
    )
    assert cancel.status_code == 303
    assert "Đã huỷ" in client.get("/plan/jobs").text
    rerun = client.post(
        f"/plan/jobs/{first.id}/rerun",
        data={"csrf": form_csrf(client, "/plan/jobs")},
        follow_redirects=False,
    )
    assert rerun.status_code == 303
    again = _jobs(engine)[-1]
    assert again.request == first.request
    assert again.status == "queued"


def test_only_planners_and_the_admin_get_in(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    assert client.get("/plan").status_code == 403
    assert client.get(f"/plan/jobs/{world.job}").status_code == 403
    client.cookies.clear()
    assert client.get("/plan/jobs", follow_redirects=False).status_code == 303  # to sign in


@pytest.mark.slow  # runs simulations in a worker
def test_a_sensitivity_analysis_from_the_form_to_its_tornado(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    sign_in(client, "planner")
    refused = _post(
        client,
        "/plan/sensitivity",
        {"kind": "sensitivity", "range1": "members", "low1": "240", "high1": "0", **SMALL},
    )
    assert refused.status_code == 422
    assert 'id="e-ranges"' in refused.text  # fewer than two parameters
    assert 'id="e-range1"' in refused.text  # and low above high, next to that row
    ranges = {"range1": "members", "low1": "0", "high1": "240", "range2": "fee_rate",
              "low2": "0", "high2": "0.03"}  # fmt: skip
    started = _post(
        client,
        "/plan/sensitivity",
        {"kind": "sensitivity", "method": "morris", "samples": "4", **ranges, **SMALL,
         "runs": "1"},
    )  # fmt: skip
    assert started.status_code == 303, started.text
    Worker(engine, settings).run_forever(threading.Event(), once=True)
    page = client.get(started.headers["location"])
    assert "Độ nhạy: biểu đồ lốc xoáy" in page.text
    assert page.text.index(">members<") > 0
    assert bare_parameter_names(page.text) == set()
    assert page.text.count('class="bar"') == 2
    assert client.get(started.headers["location"] + "/files/tornado.png").content[:4] == b"\x89PNG"


@pytest.mark.slow
def test_a_calibration_from_an_uploaded_csv_and_from_a_market(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    sign_in(client, "planner")
    fit = {"kind": "calibrate", "range1": "campaign_efficacy", "low1": "0.5", "high1": "1",
           "particles": "10", "generations": "1", **SMALL, "runs": "2"}  # fmt: skip
    csv_text = "day,metric,value,sd\n30,vendors_accepting_share,0.6,0.1\n30,vendors_accepting,18,\n"

    def post(data: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
        return client.post(
            "/plan/jobs",
            data={"csrf": form_csrf(client, "/plan/calibrate"), **data},
            files=files,
            follow_redirects=False,
        )

    bad = post(fit | {"source": "file"}, {"file": ("d.csv", b"day,metric,value\n3,mood,1\n")})
    assert bad.status_code == 422
    assert 'id="e-file"' in bad.text
    assert "mood" in bad.text
    no_market = post(fit | {"source": "market"})
    assert no_market.status_code == 422
    assert 'id="e-market"' in no_market.text
    assert 'id="e-start"' in no_market.text
    good = post(fit | {"source": "file"}, {"file": ("d.csv", csv_text.encode())})
    assert good.status_code == 303, good.text
    from_market = post(
        fit | {"source": "market", "market": str(world.market_a), "start": "2026-10-27",
               "end": "2026-11-26"}
    )  # fmt: skip
    assert from_market.status_code == 303, from_market.text
    market_job = _jobs(engine)[-1]
    assert {p["metric"] for p in market_job.request["observed"]} >= {"vendors_accepting", "qr_tx"}
    Worker(engine, settings).run_forever(threading.Event(), once=True)
    page = client.get(good.headers["location"])
    assert "Xong" in page.text, page.text[page.text.find('id="status"') :][:600]
    assert "Tập tham số được chấp nhận" in page.text
    assert "Phần dư" in page.text
    assert bare_parameter_names(page.text) == set()
    assert '"observed": {"30": 60.0}' in page.text  # the share drawn on the forecast's chart


def bare_parameter_names(html: str) -> set[str]:
    """The model parameters a page shows by their code name alone: a name in small type next to
    its label (`<span class="code">`), in an option "label (name)", in an attribute or in a
    source citation is fine."""
    text = re.sub(r'<span class="(code|source)">.*?</span>', " ", html, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return {name for name in LABELS if re.search(rf"(?<![\w(]){name}(?![\w)])", text)}


def test_every_simulator_parameter_has_a_vietnamese_label_and_unit() -> None:
    names = {f.name for f in fields(Params)}
    assert names == set(LABELS), names ^ set(LABELS)  # a new parameter needs its label
    for name, (label, unit) in LABELS.items():
        assert label != name, name
        assert unit, name


def test_the_forms_show_parameters_by_label_and_defaults_as_a_person_reads_them(
    client: TestClient, world: World
) -> None:
    sign_in(client, "planner")
    for path in ("/plan", "/plan/sweep", "/plan/sensitivity", "/plan/calibrate"):
        page = client.get(path).text
        assert bare_parameter_names(page) == set(), path
    form = client.get("/plan").text
    assert (
        'Tỉ lệ người lớn có điện thoại thông minh <span class="code">smartphone_share</span>'
        in form
    )
    assert "tỉ lệ người lớn · mặc định 0,65 (65\u00a0%)" in form
    assert "mỗi ngày · mặc định 0,0000822 ·" in form  # p_s, not 8.219178082191781e-05
    assert "mặc định 8.000 ·" in form  # n_shoppers
    assert "e-05" not in form
    assert "e+0" not in form
    assert "nguồn: " in form
    sweep = client.get("/plan/sweep").text
    assert (
        '<option value="members">Số thành viên tổ công nghệ số cộng đồng (members)</option>'
        in sweep
    )


def test_decimal_commas_are_read_and_lists_are_split_on_semicolons(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "planner")
    single = _post(client, "/plan", {"kind": "run", **SMALL, "p_smartphone_share": "0,7"})
    assert single.status_code == 303, single.text
    assert _jobs(engine)[-1].request["params"]["smartphone_share"] == 0.7
    point = _post(client, "/plan", {"kind": "run", **SMALL, "p_account_share": "0.7"})
    assert point.status_code == 303, point.text
    assert _jobs(engine)[-1].request["params"]["account_share"] == 0.7
    swept = _post(
        client,
        "/plan/sweep",
        {"kind": "sweep", "grid1": "smartphone_share", "values1": "0,5; 0,8", **SMALL},
    )
    assert swept.status_code == 303, swept.text
    assert _jobs(engine)[-1].request["grid"] == {"smartphone_share": [0.5, 0.8]}
    before = len(_jobs(engine))
    run_together = _post(
        client,
        "/plan/sweep",
        {"kind": "sweep", "grid1": "smartphone_share", "values1": "0,5,0,8", **SMALL},
    )
    assert run_together.status_code == 422
    error = re.search(r'<p class="error" id="e-values1">(.*?)</p>', run_together.text)
    assert error is not None
    assert "“0,5,0,8” không phải một số" in error.group(1)  # what was typed
    assert "tách bằng dấu chấm phẩy hoặc dấu cách, ví dụ 0,5; 0,8" in error.group(1)
    words = _post(client, "/plan", {"kind": "run", "p_members": "nhiều"})
    assert "“nhiều” không phải một số; cần một số như 0,7 hoặc 120" in words.text
    assert "dấu chấm thập phân" not in words.text
    hint = client.get("/plan/sweep").text
    assert "Tách các giá trị bằng dấu chấm phẩy hoặc dấu cách; dấu phẩy là dấu thập phân" in hint
    assert len(_jobs(engine)) == before


def _write_summary(settings: Settings, job: int, days_to_80: dict[str, Any]) -> None:
    """A comparison's summary on the seeded job's disk: 5 runs of 400 days, where only some
    runs reach 80 % and the scenario is below the baseline."""
    band = {"p5": 40.0, "median": 50.0, "p95": 60.0}
    below = {"p5": -2.4, "median": -2.0, "p95": -1.7}
    metrics = ("qr_tx_share", "qr_value_share", "vendors_accepting_share",
               "vendors_active_share", "shoppers_ready_share")  # fmt: skip
    never = {"p5": None, "median": None, "p95": None, "reached_in_runs": 0}
    headline = {"percent_6m": band, "percent_12m": band,
                "days_to_50": {"p5": 20, "median": 30, "p95": 40, "reached_in_runs": 5},
                "days_to_80": days_to_80, "days_to_90": never}  # fmt: skip
    summary = {
        "seed": 1, "runs": 5, "days": 400, "baseline": "baseline",
        "scenarios": {
            "baseline": {"label": "Cơ sở (baseline)", "headline": dict.fromkeys(metrics, headline)},
            "no_teams": {
                "label": "Không có tổ CĐS",
                "headline": dict.fromkeys(metrics, headline),
                "difference_from_baseline": {
                    m: {"points_6m": below, "points_12m": below} for m in metrics
                },
            },
        },
    }  # fmt: skip
    folder = Path(settings.data_dir) / "simulations" / str(job)
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


def _result_cells(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)
    ]


def test_result_tables_explain_every_gap_and_print_minus_signs(
    client: TestClient, world: World, settings: Settings
) -> None:
    sign_in(client, "planner")
    three_of_five = {"p5": 58, "median": 72, "p95": None, "reached_in_runs": 3}
    _write_summary(settings, world.job, three_of_five)
    page = client.get(f"/plan/jobs/{world.job}").text
    cells = _result_cells(page)
    assert "72 (từ 58) (3/5 lượt tới)" in cells  # the band as far as known, and why
    assert "–)" not in page
    assert "––" not in page
    assert "−2 (−2,4 đến −1,7)" in cells  # a minus sign, "đến", the decimal comma
    assert "-2.4" not in page
    assert "– (chưa tới trong 400 ngày)" in cells
    assert "– (cần ≥ 730 ngày)" in cells
    assert "50\u00a0% (40 đến 60)" in cells
    assert "–" not in cells  # no dash without a note
    assert [c for c in cells if "(–" in c or "–)" in c] == []
    two_of_five = {"p5": 61, "median": None, "p95": None, "reached_in_runs": 2}
    _write_summary(settings, world.job, two_of_five)
    cells = _result_cells(client.get(f"/plan/jobs/{world.job}").text)
    assert "– (chỉ 2/5 lượt tới, sớm nhất ngày 61)" in cells


@pytest.mark.slow  # runs a simulation in a worker
def test_reality_beside_the_model_starts_with_the_market_and_ends_today(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    """The market was registered on 10/11 (day 14) and its board printed on 12/11; the
    forecast's day 0 is 27/10 and today is 26/11 (day 30): no 0 % points before the market
    existed, a point at the end of each week from then on (days 20, 27), and today's value."""
    with Session(engine) as session:
        market = session.get(Market, world.market_a)
        assert market is not None
        market.created_at = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)
        session.add(market)
        for board in session.exec(select(Board).where(Board.market_id == world.market_a)):
            board.printed_at = datetime(2026, 11, 12, 1, 0, tzinfo=UTC)
            session.add(board)
        # one vendor, two stalls: the model counts vendors, so the share is of vendors
        stalls.assign_vendor(
            session,
            actor=SYSTEM,
            stall_id=world.stall_vacant,
            data=AssignmentCreate(vendor_id=world.vendor_a),
        )
        session.commit()
    sign_in(client, "planner")
    queued = _post(client, "/plan", {"kind": "run", **SMALL})
    Worker(engine, settings).run_forever(threading.Event(), once=True)
    url = queued.headers["location"]
    page = client.get(url, params={"market": str(world.market_a), "start": "2026-10-27"}).text
    spec = re.search(r'<script type="application/json" id="chart-vendors_accepting_share">(.*?)'
                     r"</script>", page, flags=re.S)  # fmt: skip
    assert spec is not None
    observed = json.loads(spec.group(1))["observed"]
    assert set(observed) == {"20", "27", "30"}  # none on days 6 and 13, before the market
    assert observed["30"] == observed["27"] == 100  # her two stalls are one vendor with a code
    figures = page[page.index('id="reality-figures"') :]
    today = f"{observed['30']:.1f}".replace(".", ",")
    said = f"Hôm nay (ngày 30, điểm cuối) {today}\u00a0% tiểu thương đang thuê ki-ốt có bảng mã QR"
    assert said in figures
    for query in ({"market": "", "start": "2026-10-27"}, {"market": "", "start": ""}):
        refused = client.get(url, params=query).text
        assert 'id="e-market"' in refused, query  # said beside the market's field
        assert "Chọn một chợ trong danh sách." in refused
        assert 'id="reality-figures"' not in refused
    undated = client.get(url, params={"market": str(world.market_a), "start": ""}).text
    assert 'id="e-start"' in undated  # an empty date box says what to choose, not a format
    assert "Chọn ngày bắt đầu: ngày 0 của lượt chạy trên lịch." in undated
    assert 'id="e-market"' not in client.get(url).text  # the page alone asks nothing
