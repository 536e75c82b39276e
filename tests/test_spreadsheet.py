"""Excel/CSV: template, dry run listing every bad row, all-or-nothing commit, idempotent
re-import, exports that Excel reads with Vietnamese intact."""

from __future__ import annotations

import io

import httpx
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine

from market.registry.spreadsheet import COLUMNS
from tests.conftest import World, snapshot_database

HEADER = [label for _, label in COLUMNS]


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD_ROWS: list[list[object]] = [
    [
        "C",
        "C-01",
        6,
        "Rau củ",
        240000,
        "Phạm Thị Hiền",
        "0961 234 567",
        "",
        "",
        "971005",
        "0961234567",
        "",
        "Ví điện tử",
    ],
    [
        "C",
        "c 2",
        "8",
        "Tạp hóa",
        "320000",
        "Hà Văn Lợi",
        982223344,
        "015000111222",
        "",
        "Agribank",
        "8800123456789",
        "",
        "",
    ],
    ["C", "C-03", 4, "", 0, "", "", "", "", "", "", "", ""],
    [
        "B",
        "B-12",
        0,
        "Khác",
        0,
        "Nguyễn Thị Hường",
        "0912345678",
        "",
        "",
        "971005",
        "0912345678",
        "",
        "",
    ],
]


def _upload(
    client: TestClient, world: World, content: bytes, *, commit: bool, name: str = "ki-ot.xlsx"
) -> httpx.Response:
    return client.post(
        f"/markets/{world.market_a}/import",
        headers=world.headers("manager"),
        params={"dry_run": str(not commit).lower()},
        files={"file": (name, io.BytesIO(content), "application/octet-stream")},
    )


def test_template_is_an_xlsx_with_the_columns(client: TestClient, world: World) -> None:
    response = client.get("/import-template.xlsx", headers=world.headers("manager"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in workbook.worksheets[0][1]] == HEADER
    assert "Rau củ" in [row[0].value for row in workbook["Huong dan"].iter_rows()]


def test_dry_run_lists_every_bad_row_and_changes_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    rows = [
        GOOD_ROWS[0],
        [
            "C",
            "C-09",
            6,
            "Rau củ",
            240000,
            "Lò Thị Ợt",
            "0212345678",
            "",
            "",
            "999999",
            "12ab",
            "",
            "",
        ],
        ["C", "C-01", 6, "Vũ khí", -5, "Bàn Văn Tài", "0973334455", "123", "", "", "", "", ""],
    ]
    response = _upload(client, world, _xlsx(rows), commit=False)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["committed"] is False
    found = {(e["row"], e["column"]) for e in report["errors"]}
    assert {
        (3, "Số điện thoại"),
        (3, "Ngân hàng (BIN)"),
        (3, "Số tài khoản"),
        (4, "Ngành hàng"),
        (4, "Phí tháng (đồng)"),
        (4, "Số CCCD"),
        (4, "Mã ki-ốt"),
    } <= found
    assert all(e["message"].startswith(f"Dòng {e['row']}, cột") for e in report["errors"])
    assert any("không phải số di động Việt Nam" in e["message"] for e in report["errors"])
    assert snapshot_database(engine) == before


def test_junk_stall_codes_are_refused_in_the_import(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    rows = [["C", "ô@#", 6, "", 0, "", "", "", "", "", "", "", ""], *GOOD_ROWS[:1]]
    for commit in (False, True):
        response = _upload(client, world, _xlsx(rows), commit=commit)
        errors = response.json()["errors"]
        assert [(e["row"], e["column"]) for e in errors] == [(2, "Mã ki-ốt")]
        assert "chữ cái và chữ số" in errors[0]["message"]
        assert "'ô@#'" in errors[0]["message"]
    assert response.status_code == 422
    assert snapshot_database(engine) == before


def _stall_row(zone: str, code: str) -> list[object]:
    return [zone, code, 4, "", 0, "", "", "", "", "", "", "", ""]


def test_zones_as_people_write_them(client: TestClient, world: World, engine: Engine) -> None:
    rows = [
        _stall_row("Khu B", "C-01"),
        _stall_row("khu b", "C-02"),
        _stall_row("b", "C-03"),
        _stall_row("Dãy D", "C-04"),
        _stall_row("DAY d", "C-05"),
        _stall_row("Khu Rau", "C-06"),
        _stall_row("", "C-07"),
    ]
    before = snapshot_database(engine)
    dry = _upload(client, world, _xlsx(rows), commit=False)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["errors"] == []
    assert (report["stalls_created"], report["zones_created"]) == (7, 2)
    assert report["new_zones"] == [
        {"code": "D", "name": "Dãy D"},
        {"code": "RAU", "name": "Khu Rau"},
    ]
    assert snapshot_database(engine) == before  # a dry run creates no zone

    applied = _upload(client, world, _xlsx(rows), commit=True).json()
    assert applied["committed"] is True
    assert (applied["zones_created"], applied["new_zones"]) == (2, report["new_zones"])
    h = world.headers("manager")
    zones = client.get(f"/markets/{world.market_a}/zones", headers=h).json()
    by_id = {z["id"]: (z["code"], z["name"]) for z in zones}
    assert sorted(by_id.values()) == [("B", "Khu B"), ("D", "Dãy D"), ("RAU", "Khu Rau")]
    stalls = client.get(f"/markets/{world.market_a}/stalls", headers=h, params={"q": "c0"}).json()
    zone_of = {s["code"]: by_id[s["zone_id"]][0] if s["zone_id"] else None for s in stalls["items"]}
    assert zone_of == {
        "C-01": "B",
        "C-02": "B",
        "C-03": "B",
        "C-04": "D",
        "C-05": "D",
        "C-06": "RAU",
        "C-07": None,
    }
    again = _upload(client, world, _xlsx(rows), commit=True).json()
    assert (again["zones_created"], again["unchanged_rows"]) == (0, 7)


def test_a_dry_run_with_bad_rows_counts_what_the_good_rows_would_do(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    bad_rows: list[list[object]] = [
        ["C", "C-10", 6, "", 0, "Đặng Thị Nga", "12345", "", "", "", "", "", ""],
        _stall_row("Khu thực phẩm tươi sống", "C-11"),
        _stall_row("C", "ô@#"),
        ["C", "C-12", 4, "", 0, "Mai Văn Tú", "0977000111", "", "", "971005", "0912345678", "", ""],
    ]
    content = _xlsx([*GOOD_ROWS, *bad_rows])
    report = _upload(client, world, content, commit=False).json()
    assert report["committed"] is False
    assert [(e["row"], e["column"], e["code"]) for e in report["errors"]] == [
        (6, "Số điện thoại", "invalid"),
        (7, "Khu", "invalid"),
        (8, "Mã ki-ốt", "invalid"),
        (9, "Số tài khoản", "conflict"),  # the account of row 5, in the file
        (9, "Số tài khoản", "conflict"),  # and in the market
    ]
    assert "'12345'" in report["errors"][0]["message"]
    assert all("(giá trị: '0912345678')" in e["message"] for e in report["errors"][3:])
    assert "'Khu thực phẩm tươi sống'" in report["errors"][1]["message"]
    counts = {k: report[k] for k in ("rows", "bad_rows", "stalls_created", "vendors_created")}
    assert counts == {"rows": 8, "bad_rows": 4, "stalls_created": 3, "vendors_created": 2}
    assert (report["accounts_created"], report["unchanged_rows"]) == (2, 1)
    assert (report["zones_created"], report["new_zones"]) == (1, [{"code": "C", "name": "Khu C"}])
    assert snapshot_database(engine) == before
    refused = _upload(client, world, content, commit=True)
    assert refused.status_code == 422
    assert [e["row"] for e in refused.json()["errors"]] == [6, 7, 8, 9, 9]
    assert snapshot_database(engine) == before
    good = _upload(client, world, _xlsx(GOOD_ROWS), commit=True).json()
    assert {k: good[k] for k in counts if k != "rows"} == {
        "bad_rows": 0,
        "stalls_created": 3,
        "vendors_created": 2,
    }


def test_commit_with_bad_rows_is_all_or_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    rows = [*GOOD_ROWS, ["C", "C-10", 6, "", 0, "Đặng Thị Nga", "12345", "", "", "", "", "", ""]]
    response = _upload(client, world, _xlsx(rows), commit=True)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import-rows-invalid"
    assert body["errors"][0]["row"] == 6
    assert snapshot_database(engine) == before


def test_commit_then_reimport_changes_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    content = _xlsx(GOOD_ROWS)
    dry = _upload(client, world, content, commit=False).json()
    assert dry["errors"] == []
    assert dry["stalls_created"] == 3
    report = _upload(client, world, content, commit=True).json()
    assert report["committed"] is True
    assert (report["stalls_created"], report["vendors_created"], report["accounts_created"]) == (
        3,
        2,
        2,
    )
    assert report["unchanged_rows"] == 1  # B-12 with its vendor and account was already there
    h = world.headers("manager")
    stalls = client.get(f"/markets/{world.market_a}/stalls", headers=h, params={"q": "c2"}).json()[
        "items"
    ]
    assert stalls[0]["code"] == "C-2"
    assert stalls[0]["current_vendor_name"] == "Hà Văn Lợi"
    vendor = client.get("/vendors", headers=h, params={"q": "loi"}).json()["items"][0]
    assert vendor["phone"] == "+84982223344"  # Excel dropped the leading 0; the import put it back
    accounts = client.get(f"/vendors/{vendor['id']}/payout-accounts", headers=h).json()
    assert accounts[0]["bin"] == "970405"
    assert accounts[0]["holder_name"] == "HA VAN LOI"

    after_first = snapshot_database(engine)
    again = _upload(client, world, content, commit=True).json()
    assert again["unchanged_rows"] == 4
    assert snapshot_database(engine) == after_first


def test_export_round_trips_and_csv_has_a_bom(
    client: TestClient, world: World, engine: Engine
) -> None:
    _upload(client, world, _xlsx(GOOD_ROWS), commit=True)
    h = world.headers("manager")
    csv_response = client.get(f"/markets/{world.market_a}/export.csv", headers=h)
    assert csv_response.content.startswith(b"\xef\xbb\xbf")
    text = csv_response.content.decode("utf-8-sig")
    assert "Phạm Thị Hiền" in text
    assert "Hiá»" not in text
    assert "015000111222" not in text  # national IDs leave masked
    xlsx = client.get(f"/markets/{world.market_a}/export.xlsx", headers=h)
    before = snapshot_database(engine)
    for content, name in [(xlsx.content, "export.xlsx"), (csv_response.content, "export.csv")]:
        report = _upload(client, world, content, commit=True, name=name).json()
        assert report["errors"] == [], report
        assert report["unchanged_rows"] == report["rows"]
    assert snapshot_database(engine) == before


def test_a_bare_carriage_return_in_a_csv_row_is_refused(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    header = ",".join(HEADER)
    for content in [
        f"{header}\nC,C-01,6\rC-02,,,,,,,,,,\n".encode(),
        f"{header}\r\nC,C-01,6\r\nC,C-02\r4,,,,,,,,,,\r\n".encode(),
    ]:
        for commit in (False, True):
            response = _upload(client, world, content, commit=commit, name="ki-ot.csv")
            assert response.status_code == 422, response.text
            body = response.json()
            assert body["code"] == "invalid-spreadsheet"
            assert body["detail"].startswith("Dòng ")
            assert "CR" in body["detail"]
    assert snapshot_database(engine) == before


def test_files_that_are_not_spreadsheets_are_refused(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    for content, name in [
        (png, "anh.png"),
        (b"PK\x03\x04garbage", "ki-ot.xlsx"),
        (b"", "empty.xlsx"),
        (b"not;a;template\n1;2;3\n", "x.csv"),
        (b"hello", "x.xlsx"),
    ]:
        response = _upload(client, world, content, commit=True, name=name)
        assert response.status_code == 422, (name, response.text)
        assert response.json()["code"] == "invalid-spreadsheet"
    assert snapshot_database(engine) == before


def test_an_import_places_no_new_stall_in_a_stopped_zone(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("manager")
    assert client.delete(f"/markets/{world.market_a}/zones/{world.zone_a}", headers=h).status_code
    before = snapshot_database(engine)
    new_stall = ["Khu B", "B-30", 6, "Rau củ", 240000, "", "", "", "", "", "", "", ""]
    response = _upload(client, world, _xlsx([new_stall]), commit=True)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(2, "Khu")]
    assert "khu B đã ngừng" in errors[0]["message"]
    assert snapshot_database(engine) == before
    # a stall already in the stopped zone may stay there (a re-import changes nothing)
    staying = ["B", "B-12", 0, "Khác", 0, "", "", "", "", "", "", "", ""]
    dry = _upload(client, world, _xlsx([staying]), commit=False)
    assert dry.status_code == 200, dry.text
    assert dry.json()["errors"] == []
