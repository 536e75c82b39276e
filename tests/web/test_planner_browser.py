"""The planner's workbench in a real browser (Debian's chromium) against a real server and a
real `cho worker` process, on SQLite and PostgreSQL: a planner runs the baseline and
`double_teams`, watches progress, compares them, downloads the CSV (its sha256 is the
manifest's), draws the registry's real coverage beside the forecast, runs a small sweep, and
gets a refusal next to the field for a bad value. Every page passes axe with no serious or
critical violation and calls no other host (the `console` fixture fails the test otherwise)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from market.clock import local_today
from tests.web.conftest import Site, axe_violations, screenshots, serve_demo, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PLANNER = "kehoach.vanyen"
WAIT = 120_000  # ms: a job on a loaded two-core machine


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    database_urls: dict[str, str],
) -> Iterator[Site]:
    """The demo market served by uvicorn, with one `cho worker` process beside it."""
    with serve_demo(request, tmp_path_factory, database_urls, "plan") as (served, folder, url):
        env = {**os.environ, "DATABASE_URL": url, "CHO_DATA_DIR": str(folder / "data")}
        log = (folder / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "api", "worker"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            yield served
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
            log.close()


def _check(page: Page, name: str, backend: str) -> None:
    assert axe_violations(page) == [], name
    screenshots(page, f"planner-{name}", backend)


def _settings(page: Page, runs: str, days: str, seed: str = "3") -> None:
    page.get_by_label("Số lượt chạy").fill(runs)
    page.get_by_label("Số ngày", exact=True).fill(days)
    page.get_by_label("Hạt giống", exact=True).fill(seed)


def _finished(page: Page) -> None:
    """Watch the job page until the job is done (htmx polls, then reloads the results)."""
    expect(page.locator("#status .status")).to_have_text("Xong", timeout=WAIT)


def _run(page: Page, scenario_note: str) -> str:
    page.get_by_role("navigation").get_by_role("link", name="Lượt chạy mới").click()
    page.get_by_label(re.compile(scenario_note)).check()
    _settings(page, "6", "400")
    page.get_by_role("button", name="Chạy", exact=True).click()
    expect(page).to_have_url(re.compile(r"/plan/jobs/\d+$"))
    # watch progress: the job shows as queued or running with a progress bar, then done
    expect(page.locator("#status progress")).to_be_visible()
    _finished(page)
    return page.url


def test_the_planners_first_session(site: Site, console: Page, tmp_path: Path) -> None:
    page = console
    sign_in(page, PLANNER)
    page.get_by_role("navigation").get_by_role("link", name="Lượt chạy mới").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lượt chạy mới")
    _check(page, "new-run", site.backend)
    # a bad value: refused next to its field, nothing queued
    page.get_by_text("Tổ công nghệ số và học sinh").click()
    members_label = re.compile("^Số thành viên tổ công nghệ số cộng đồng")  # its label, not members
    page.get_by_label(members_label).fill("-5")
    page.get_by_role("button", name="Chạy", exact=True).click()
    members = page.get_by_label(members_label)
    expect(members).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-p-members")).to_contain_text("−5: phải từ 0")
    expect(members).to_have_value("-5")
    _check(page, "refused", site.backend)
    # the baseline, then double_teams, each watched to the end
    baseline = _run(page, "Cơ sở: Mậu A")
    expect(page.locator('[data-chart][data-drawn="true"]')).to_have_count(5)
    expect(page.locator(".plot canvas").first).to_be_visible()
    expect(page.get_by_role("heading", name="Bảng chính")).to_be_visible()
    _check(page, "results", site.backend)
    _run(page, "Gấp đôi tổ công nghệ số")
    # compare them: paired differences with bands
    page.get_by_role("navigation").get_by_role("link", name="So sánh kịch bản").click()
    page.get_by_label(re.compile("Gấp đôi tổ công nghệ số")).check()
    _settings(page, "6", "400")
    _check(page, "compare-form", site.backend)
    page.get_by_role("button", name="So sánh", exact=True).click()
    _finished(page)
    expect(page.get_by_role("heading", name="Chênh lệch so với kịch bản cơ sở")).to_be_visible()
    expect(page.locator('[data-chart^="diff-"][data-drawn="true"]')).to_have_count(5)
    _check(page, "compare", site.backend)
    # download the CSV: its sha256 is the one the manifest gives
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="runs.csv", exact=True).click()
    csv_path = tmp_path / "runs.csv"
    csv_download.value.save_as(csv_path)
    with page.expect_download() as manifest_download:
        page.get_by_role("link", name="manifest.json", exact=True).click()
    manifest_path = tmp_path / "manifest.json"
    manifest_download.value.save_as(manifest_path)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    assert manifest["files"]["runs.csv"] == digest
    expect(page.locator("ul.downloads")).to_contain_text(digest)
    assert csv_path.read_text(encoding="utf-8").splitlines()[0] == "scenario,run,day,metric,value"
    # reality beside the model: the demo market's registry drawn on the forecast's axes
    page.goto(baseline)
    page.get_by_label("Chợ", exact=True).select_option(label="Chợ trung tâm thị trấn Mậu A")
    page.get_by_label("Ngày bắt đầu (ngày 0)").fill(local_today().replace(day=1).isoformat())
    page.get_by_role("button", name="Vẽ số liệu thực tế").click()
    expect(page.locator("#reality-figures")).to_contain_text("ki-ốt đang thuê")
    expect(page.locator('[data-chart="chart-vendors_accepting_share"] canvas')).to_be_visible()
    # a small sweep over two parameters, shown as heat map tables
    page.get_by_role("navigation").get_by_role("link", name="Quét tham số").click()
    page.get_by_label("Tham số thứ nhất").select_option("members")
    page.locator("#f-values1").fill("0, 240")
    page.get_by_label("Tham số thứ hai (không bắt buộc)").select_option("fee_rate")
    page.locator("#f-values2").fill("0; 0,02")  # the decimal comma, values split on ";"
    _settings(page, "2", "120")
    _check(page, "sweep-form", site.backend)
    page.get_by_role("button", name="Quét", exact=True).click()
    _finished(page)
    expect(page.get_by_role("heading", name="Kết quả quét tham số")).to_be_visible()
    first_table = page.locator(".heat table").first
    expect(first_table.locator("tbody tr")).to_have_count(2)
    expect(first_table.locator("thead th")).to_have_count(3)
    _check(page, "sweep", site.backend)
    # every job on the list, done
    page.get_by_role("navigation").get_by_role("link", name="Các lượt chạy").click()
    expect(page.locator("#jobs tbody tr")).to_have_count(4)
    expect(page.locator("#jobs .status.done")).to_have_count(4)
    _check(page, "jobs", site.backend)


def test_cancel_from_the_job_page(site: Site, console: Page) -> None:
    page = console
    sign_in(page, PLANNER)
    page.goto("/plan")
    _settings(page, "200", "1095")
    page.get_by_role("button", name="Chạy", exact=True).click()
    expect(page.locator("#status progress")).to_be_visible()
    page.get_by_role("button", name=re.compile("Huỷ lượt")).click()
    expect(page.locator("#status .status")).to_have_text("Đã huỷ", timeout=WAIT)
    page.get_by_role("button", name=re.compile("Chạy lại lượt")).click()
    expect(page).to_have_url(re.compile(r"/plan/jobs/\d+$"))
    page.get_by_role("button", name=re.compile("Huỷ lượt")).click()
    expect(page.locator("#status .status")).to_have_text("Đã huỷ", timeout=WAIT)


def test_sensitivity_and_calibration(site: Site, console: Page) -> None:
    page = console
    sign_in(page, PLANNER)
    # Morris over two parameters: a tornado, largest effect on top
    page.goto("/plan/sensitivity")
    page.get_by_label("Tham số 1").select_option("members")
    page.locator("#f-low1").fill("0")
    page.locator("#f-high1").fill("240")
    page.get_by_label("Tham số 2").select_option("fee_rate")
    page.locator("#f-low2").fill("0")
    page.locator("#f-high2").fill("0.05")
    page.get_by_label("Số mẫu").fill("4")
    _settings(page, "1", "120")
    _check(page, "sensitivity-form", site.backend)
    page.get_by_role("button", name="Phân tích", exact=True).click()
    _finished(page)
    bars = page.locator("table.tornado tbody tr")
    expect(bars).to_have_count(2)
    _check(page, "sensitivity", site.backend)
    # calibration to the analogue markets' targets: the accepted set, residuals, the forecast
    page.get_by_role("navigation").get_by_role("link", name="Hiệu chỉnh").click()
    page.get_by_label("Số hạt").fill("10")
    page.get_by_label("Số thế hệ").fill("0")
    _settings(page, "4", "200")
    _check(page, "calibrate-form", site.backend)
    page.get_by_role("button", name="Hiệu chỉnh", exact=True).click()
    _finished(page)
    expect(page.get_by_role("heading", name="Tập tham số được chấp nhận")).to_be_visible()
    expect(page.locator("#residuals + .table-wrap tbody tr")).to_have_count(2)
    expect(page.locator('[data-chart="chart-vendors_accepting_share"] canvas')).to_be_visible()
    _check(page, "calibration", site.backend)
