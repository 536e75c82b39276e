"""The phone pages through TestClient (fast), on SQLite and PostgreSQL: the vendor's code,
per-sale code, slip and refunds; the shopper's wallet from opening to paying and sending; every
bad input answered next to its field in Vietnamese with nothing changed; refusals (insufficient
funds, a replaced board, a used per-sale code) in plain words; a resent form paying once; the
installable app's files; and the vendor page's JavaScript budget."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from market.money import ledger, payments
from market.money.models import Transfer, TransferKind
from market.registry import boards
from market.registry.access import Actor
from market.registry.models import Board, BoardStatus, Role, SaleCode, User
from tests.conftest import FrozenClock, World, count_rows, seed_payment, snapshot_database
from tests.web.test_web_fast import csrf_of, form_csrf, sign_in
from web.pages.vendor import feed_event

ROOT = Path(__file__).resolve().parents[2]
SHOPPER_PHONE = "0901111111"  # the world's shopper (+84901111111), password = PIN
PAGE_JS_BUDGET = 60 * 1024  # gzipped JavaScript of the vendor's soundbox page


def wallet_sign_in(client: TestClient, phone: str = SHOPPER_PHONE, pin: str = "") -> None:
    from tests.conftest import PASSWORD

    csrf = form_csrf(client, "/w/login")
    response = client.post(
        "/w/login",
        data={"csrf": csrf, "phone": phone, "pin": pin or PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="error" id="e-{name}">([^<]+)</p>', html)
    assert match, f"no message next to {name}"
    return match.group(1)


def key_of(html: str) -> str:
    match = re.search(r'name="key" value="([^"]+)"', html)
    assert match
    return match.group(1)


def live_payload(engine: Engine, stall_id: int) -> str:
    with Session(engine) as session:
        board = boards.live_board(session, stall_id)
        assert board is not None
        return board.payload


def pay_as_world_shopper(engine: Engine, world: World, payload: str, amount: int | None) -> int:
    with Session(engine, expire_on_commit=False) as session:
        user = session.get(User, world.user_ids["shopper"])
        assert user is not None
        actor = Actor(user.id, user.username, Role.SHOPPER, phone=user.phone)
        wallet = ledger.shopper_wallet(session, user.id or 0)
        paid = payments.pay_by_qr(
            session,
            actor=actor,
            wallet=wallet,
            payload=payload,
            amount=amount,
            now=user.created_at,
        )
        session.commit()
        return paid.id or 0


# ---------------------------------------------------------------------------------------------
# Vendor


def test_a_vendor_lands_on_the_soundbox_with_todays_total(
    client: TestClient, world: World, engine: Engine
) -> None:
    from market.money.models import OutboxEvent

    with Session(engine) as session:
        events = session.exec(select(OutboxEvent).where(OutboxEvent.vendor_id == world.vendor_a))
        last = max(e.id or 0 for e in events)
    sign_in(client, "vendor.a")
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/v"
    page = client.get("/v")
    assert page.status_code == 200
    assert "Loa báo tiền" in page.text
    assert "Bật âm thanh" in page.text
    assert "Thử âm thanh" in page.text
    assert 'id="today-total" data-total="100000"' in page.text  # the world's payment today
    assert 'role="status" data-state="connecting"' in page.text
    assert f'data-after="{last}"' in page.text  # the feed brings only what comes from now on
    assert 'rel="manifest" href="/static/phone/vendor.webmanifest"' in page.text


def test_vendor_pages_are_for_vendors(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    assert client.get("/v").status_code == 403
    assert client.get("/v/events").status_code == 401
    client.cookies.clear()
    assert client.get("/v", follow_redirects=False).headers["location"].startswith("/login")


def test_the_feed_event_carries_what_to_say(engine: Engine, world: World) -> None:
    from market.money.models import OutboxEvent

    with Session(engine) as session:
        event = session.exec(select(OutboxEvent)).first()
        assert event is not None
        body = feed_event(event)
    assert body["clips"] == ["chime", "da_nhan", "mot", "tram", "nghin", "dong"]
    assert body["words"] == "đã nhận một trăm nghìn đồng"
    assert body["tiny"] is False


def test_my_code_full_screen_and_a_confirmed_reprint(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "vendor.a")
    page = client.get("/v/code")
    assert page.status_code == 200
    assert "<svg" in page.text
    with Session(engine) as session:
        old = boards.live_board(session, world.stall_a)
        assert old is not None
    assert old.serial in page.text
    # not confirmed: refused next to the box, the board unchanged
    refused = client.post(
        "/v/code/reprint", data={"csrf": csrf_of(page.text), "stall": str(world.stall_a)}
    )
    assert refused.status_code == 422
    assert "Hãy đánh dấu xác nhận" in field_error(refused.text, "confirm")
    with Session(engine) as session:
        assert boards.live_board(session, world.stall_a) == old
    done = client.post(
        "/v/code/reprint",
        data={"csrf": csrf_of(page.text), "stall": str(world.stall_a), "confirm": "yes"},
    )
    assert done.status_code == 200
    assert "bảng mã cũ không còn nhận tiền" in done.text
    with Session(engine) as session:
        new = boards.live_board(session, world.stall_a)
        replaced = session.get(Board, old.id)
        assert new is not None
        assert replaced is not None
        assert new.serial != old.serial
        assert replaced.status == BoardStatus.REPLACED
    assert new.serial in done.text
    board = client.get(f"/v/code/board.png?stall={world.stall_a}")
    assert board.content[:8] == b"\x89PNG\r\n\x1a\n"
    # another vendor's stall is not found
    assert client.get(f"/v/code?stall={world.stall_b}").status_code == 404


BAD_AMOUNTS = [
    ("", "Hãy nhập số tiền"),
    ("0", "lớn hơn 0"),
    ("-5000", "lớn hơn 0"),
    ("−150k", "lớn hơn 0"),
    ("12,5", "số nguyên đồng"),
    ("abc", "số nguyên đồng"),
    ("600.000.000", "quá lớn: phải dưới 500.000.000"),
    ("100000000000000000000", "quá lớn: phải dưới 500.000.000"),
    ("1.000.000.000.000.000.000.000", "quá lớn"),
]


def test_a_bad_sale_amount_is_refused_by_the_field(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "vendor.a")
    csrf = form_csrf(client, "/v/sell")
    before = count_rows(engine, SaleCode)
    for typed, message in BAD_AMOUNTS:
        response = client.post("/v/sell", data={"csrf": csrf, "stall": "", "amount": typed})
        assert response.status_code == 422, typed
        assert message in field_error(response.text, "amount"), typed
    assert count_rows(engine, SaleCode) == before


def test_a_per_sale_code_turns_paid(client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "vendor.a")
    csrf = form_csrf(client, "/v/sell")
    made = client.post("/v/sell", data={"csrf": csrf, "stall": "", "amount": "150k"})
    assert made.status_code == 200
    assert [r.status_code for r in made.history] == [303]  # the code has its own address
    issued = count_rows(engine, SaleCode)
    again = client.get(str(made.url))  # a reload shows the same code and makes no other
    assert again.status_code == 200
    assert count_rows(engine, SaleCode) == issued
    assert "150.000\u00a0₫" in made.text
    assert "Một trăm năm mươi nghìn đồng" in made.text
    reference = re.search(r'hx-get="/v/sell/(HD[0-9A-F]+)\?stall=(\d+)"', made.text)
    assert reference
    state_url = f"/v/sell/{reference.group(1)}?stall={reference.group(2)}"
    waiting = client.get(state_url, headers={"HX-Request": "true"})
    assert 'data-paid="no"' in waiting.text
    assert "<html" not in waiting.text
    with Session(engine) as session:
        sale = session.exec(select(SaleCode).where(SaleCode.reference == reference.group(1))).one()
        board = session.get(Board, sale.board_id)
        assert board is not None
    from market.registry import stall_codes
    from market.registry.access import SYSTEM

    with Session(engine) as session:
        code = stall_codes.stall_code(session, actor=SYSTEM, stall_id=world.stall_a)
        payload = stall_codes.issued_sale_payload(session, code, reference=reference.group(1))[0]
    pay_as_world_shopper(engine, world, payload, None)
    paid = client.get(state_url, headers={"HX-Request": "true"})
    assert 'data-paid="yes"' in paid.text
    assert "Đã nhận 150.000\u00a0₫" in paid.text
    assert "hx-trigger" not in paid.text  # the page stops asking
    reopened = client.get(str(made.url))
    assert "Đã nhận 150.000\u00a0₫" in reopened.text
    assert 'class="qr-image"' not in reopened.text  # a paid code is not shown to be paid again
    missing = "/v/sell/HD000000000000?stall=" + reference.group(2)
    assert client.get(missing, headers={"HX-Request": "true"}).status_code == 404
    assert client.get(state_url, follow_redirects=False).status_code == 303  # not a page


def test_todays_slip_cash_share_download_and_refunds(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "vendor.a")
    page = client.get("/v/today?cash=100.000")
    assert page.status_code == 200
    assert 'id="slip-count">1<' in page.text
    assert 'id="slip-share">50,0\u00a0%<' in page.text
    assert "Tiền mặt đã thu hôm nay (đồng)" in page.text
    past = client.get("/v/today?day=2026-11-20")
    assert "Tiền mặt đã thu trong ngày này (đồng)" in past.text  # not "today" for a past day
    bad = client.get("/v/today?cash=nhiều")
    assert bad.status_code == 422
    assert "số nguyên đồng" in field_error(bad.text, "cash")
    text = client.get("/v/today/slip.txt?cash=300000").text
    assert "Tổng tiền QR: 100.000\u00a0₫" in text
    assert "Tỉ lệ không tiền mặt: 25,0\u00a0%" in text
    # the text carries the page's lines: the fee that makes the net add up, first and last
    assert "Phí: 0\u00a0₫" in text
    assert "Thực nhận: 100.000\u00a0₫" in text
    assert "Khoản đầu tiên: 26/11/2026 17:00" in text
    assert "Khoản cuối cùng: 26/11/2026 17:00" in text
    # refunds: more than the payment is refused and changes nothing; a part is given back
    before = snapshot_database(engine)
    csrf, key = csrf_of(page.text), key_of(page.text)
    form = {"csrf": csrf, "payment": str(world.payment_a), "key": key}
    too_much = client.post("/v/refund", data=form | {"amount": "200.000"})
    assert too_much.status_code == 409
    assert "hoàn" in too_much.text.lower()
    assert snapshot_database(engine) | {"idempotency_record": []} == before | {
        "idempotency_record": []
    }
    fresh = key_of(client.get("/v/today").text)
    done = client.post(
        "/v/refund", data=form | {"key": fresh, "amount": "40000"}, follow_redirects=True
    )
    assert done.status_code == 200
    assert "Đã hoàn tiền." in done.text
    assert 'data-kind="refund"' in done.text
    again = client.post(
        "/v/refund", data=form | {"key": fresh, "amount": "40000"}, follow_redirects=False
    )
    assert again.status_code == 303  # the same form again: replayed, not refunded twice
    with Session(engine) as session:
        refunds = session.exec(select(Transfer).where(Transfer.kind == TransferKind.REFUND)).all()
        assert [r.amount for r in refunds] == [40_000]


def test_a_refused_refund_is_told_beside_its_box_which_keeps_the_typed_amount(
    client: TestClient, world: World
) -> None:
    sign_in(client, "vendor.a")
    page = client.get("/v/today")
    box = f'id="f-refund-{world.payment_a}" name="amount" inputmode="numeric" value="'
    assert box + '100.000"' in page.text  # prefilled as the pages write amounts
    form = {"csrf": csrf_of(page.text), "payment": str(world.payment_a), "key": key_of(page.text)}
    too_much = client.post("/v/refund", data=form | {"amount": "130.000"})
    assert too_much.status_code == 409
    assert "hoàn" in field_error(too_much.text, f"refund-{world.payment_a}").lower()
    assert box + '130.000"' in too_much.text  # not the whole payment, ready for one more tap
    assert 'id="problem"' not in too_much.text  # not only in a banner far above the box
    bad = client.post("/v/refund", data=form | {"amount": "nhiều"})
    assert "số nguyên đồng" in field_error(bad.text, f"refund-{world.payment_a}")
    assert box + 'nhiều"' in bad.text


def test_a_day_or_cash_the_slip_cannot_read_is_refused_beside_its_field(
    client: TestClient, world: World
) -> None:
    sign_in(client, "vendor.a")
    huge = client.get("/v/today?cash=" + "9" * 21)
    assert huge.status_code == 422  # like a 20-digit amount, not a missing page
    assert "quá lớn" in field_error(huge.text, "cash")
    assert 'value="' + "9" * 21 + '"' in huge.text
    for day in ("2026-02-31", "hôm qua", "2026-1-5"):
        bad = client.get("/v/today", params={"day": day})
        assert bad.status_code == 422, day
        assert "Ngày không hợp lệ" in field_error(bad.text, "day"), day
        assert "Không tìm thấy" not in bad.text
    later = client.get("/v/today?day=2099-01-01")
    assert later.status_code == 422
    assert "Ngày chưa tới" in field_error(later.text, "day")
    today = re.search(r'id="f-day" name="day" type="date" max="([0-9-]+)"', later.text)
    assert today
    assert client.get(f"/v/today?day={today.group(1)}").status_code == 200
    text = client.get("/v/today/slip.txt?day=2099-01-01")
    assert text.status_code == 422
    assert "Ngày chưa tới" in text.text
    assert client.get("/v/today?stall=abc").status_code == 404  # a malformed id stays missing


# ---------------------------------------------------------------------------------------------
# Shopper


def test_the_wallet_needs_a_wallet_sign_in(client: TestClient, world: World) -> None:
    assert client.get("/w", follow_redirects=False).headers["location"] == "/w/login"
    sign_in(client, "vendor.a")  # a vendor has no wallet pages
    assert client.get("/w", follow_redirects=False).headers["location"] == "/w/login"


BAD_WALLETS = [
    ({"full_name": "Lò Văn A", "phone": "0212345678", "pin": "123456"}, "open-phone", "di động"),
    ({"full_name": "Lò Văn A", "phone": "0911222333", "pin": "12a4"}, "open-pin", "6 chữ số"),
    ({"full_name": "", "phone": "0911222333", "pin": "123456"}, "full_name", "họ tên"),
    ({"full_name": "Lò Văn A", "phone": SHOPPER_PHONE, "pin": "123456"}, "open-phone", "đã có ví"),
]


def test_opening_a_wallet_refuses_bad_input_by_the_field(
    client: TestClient, world: World, engine: Engine
) -> None:
    users = count_rows(engine, User)
    csrf = form_csrf(client, "/w/login")
    for form, field, message in BAD_WALLETS:
        response = client.post("/w/open", data={"csrf": csrf, **form})
        assert response.status_code == 422, form
        assert message in field_error(response.text, field), form
    # everything wrong is told at once, each beside its field
    all_wrong = client.post(
        "/w/open", data={"csrf": csrf, "full_name": "", "phone": "0212345678", "pin": "12a4"}
    )
    assert all_wrong.status_code == 422
    assert "họ tên" in field_error(all_wrong.text, "full_name")
    assert "di động" in field_error(all_wrong.text, "open-phone")
    assert "6 chữ số" in field_error(all_wrong.text, "open-pin")
    assert count_rows(engine, User) == users


@pytest.mark.slow  # five PIN hashes
def test_open_top_up_and_a_wrong_pin(client: TestClient, world: World, engine: Engine) -> None:
    csrf = form_csrf(client, "/w/login")
    opened = client.post(
        "/w/open",
        data={"csrf": csrf, "full_name": "Lò Văn An", "phone": "0911 222 333", "pin": "246810"},
    )
    assert opened.status_code == 200
    assert "Ví của tôi" in opened.text
    assert 'id="balance">0\u00a0₫<' in opened.text
    key = key_of(opened.text)
    bad = client.post("/w/topup", data={"csrf": csrf_of(opened.text), "key": key, "amount": "-5"})
    assert bad.status_code == 422
    assert "phải lớn hơn 0" in field_error(bad.text, "amount")
    form = {"csrf": csrf_of(opened.text), "key": key, "amount": "200.000"}
    assert client.post("/w/topup", data=form, follow_redirects=False).status_code == 303
    assert client.post("/w/topup", data=form, follow_redirects=False).status_code == 303
    home = client.get("/w?done=topup")
    assert 'id="balance">200.000\u00a0₫<' in home.text  # the resent form topped up once
    # signing in again: a wrong PIN is refused in words
    client.cookies.clear()
    csrf = form_csrf(client, "/w/login")
    wrong = client.post("/w/login", data={"csrf": csrf, "phone": "0911222333", "pin": "000000"})
    assert wrong.status_code == 401
    assert 'role="alert"' in wrong.text
    wallet_sign_in(client, "0911222333", "246810")
    assert "200.000\u00a0₫" in client.get("/w").text


def test_scan_shows_the_masked_recipient_then_pays(
    client: TestClient, world: World, engine: Engine
) -> None:
    wallet_sign_in(client)
    scan = client.get("/w/scan")
    assert scan.status_code == 200
    assert "/static/vendor/jsqr-1.4.0/jsQR.js" in scan.text
    csrf = csrf_of(scan.text)
    garbage = client.post("/w/pay/check", data={"csrf": csrf, "payload": "hello"})
    assert garbage.status_code == 422
    assert "Mã QR không hợp lệ" in garbage.text
    assert "không phải mã thanh toán VietQR" in garbage.text  # said plainly
    assert "chi tiết" not in garbage.text  # the parser's details are the API's, not a shopper's
    assert "Không đọc được mã này" in field_error(garbage.text, "payload")
    empty = client.post("/w/pay/check", data={"csrf": csrf, "payload": ""})
    assert "Chưa có mã" in field_error(empty.text, "payload")
    payload = live_payload(engine, world.stall_a)
    check = client.post("/w/pay/check", data={"csrf": csrf, "payload": payload})
    assert check.status_code == 200
    assert "Chợ Mậu A" in check.text
    assert "B-12" in check.text
    holder = re.search(r'<dd id="holder">([^<]+)</dd>', check.text)
    assert holder
    # the registered name, masked as the receipt shows it (not the bank's "NGUYEN T** H****")
    assert holder.group(1) == "Nguyễn T** H****"
    assert "đã đăng ký với ban quản lý chợ" in check.text
    assert "Nguyễn Thị Hường" not in check.text
    form = {"csrf": csrf, "payload": payload, "key": key_of(check.text)}
    before = snapshot_database(engine)
    poor = client.post("/w/pay", data=form | {"amount": "5.000.000"})
    assert poor.status_code == 409
    assert "Số dư không đủ" in field_error(poor.text, "amount")  # beside the amount box
    assert 'aria-invalid="true"' in poor.text
    assert 'value="5.000.000"' in poor.text  # what was typed, to be corrected
    after = snapshot_database(engine)
    assert {k: v for k, v in after.items() if k != "idempotency_record"} == {
        k: v for k, v in before.items() if k != "idempotency_record"
    }
    paid = client.post("/w/pay", data=form | {"key": key_of(poor.text), "amount": "35.000"})
    assert paid.status_code == 200
    assert "Thành công" in paid.text
    assert "35.000\u00a0₫" in paid.text
    assert 'id="balance">865.000\u00a0₫<' in paid.text  # 1.000.000 − 100.000 − 35.000
    assert "Nguyễn T** H****" in paid.text  # the same name as before paying
    assert "Quét mã khác" in paid.text


def test_a_replaced_board_and_a_used_per_sale_code_are_refused_in_words(
    client: TestClient, world: World, engine: Engine
) -> None:
    from market.registry import stall_codes
    from market.registry.access import SYSTEM

    old_payload = live_payload(engine, world.stall_a)
    with Session(engine) as session:
        code = stall_codes.stall_code(session, actor=SYSTEM, stall_id=world.stall_a)
        sale_payload, _reference = stall_codes.sale_payload(session, code, amount=20_000)
        session.commit()
    pay_as_world_shopper(engine, world, sale_payload, None)
    wallet_sign_in(client)
    csrf = form_csrf(client, "/w/scan")
    # a paid per-sale code is refused as soon as it is scanned, before any amount is shown
    check = client.post("/w/pay/check", data={"csrf": csrf, "payload": sale_payload})
    assert check.status_code == 422
    assert "đã được thanh toán" in check.text
    assert 'id="fixed-amount"' not in check.text
    # and a payment sent anyway (a page left open) is refused too
    used = client.post("/w/pay", data={"csrf": csrf, "payload": sale_payload, "key": "k-used"})
    assert used.status_code == 422  # back to the scanner, with the reason
    assert "đã được thanh toán" in used.text
    with Session(engine) as session:
        stall_codes.reprint(session, actor=SYSTEM, stall_id=world.stall_a)
        session.commit()
    revoked = client.post("/w/pay/check", data={"csrf": csrf, "payload": old_payload})
    assert revoked.status_code == 422
    assert "đã được in lại" in revoked.text


def test_send_to_a_phone_after_confirming_the_masked_name(
    client: TestClient, world: World, engine: Engine
) -> None:
    csrf = form_csrf(client, "/w/login")
    client.post(
        "/w/open",
        data={"csrf": csrf, "full_name": "Đỗ Thị Bích", "phone": "0933444555", "pin": "135790"},
    )
    client.cookies.clear()
    wallet_sign_in(client)
    page = client.get("/w/send")
    csrf = csrf_of(page.text)
    form = {"csrf": csrf, "key": key_of(page.text), "memo": "tiền rau"}
    unknown = client.post("/w/send", data=form | {"to_phone": "0999888777", "amount": "10000"})
    assert unknown.status_code == 422
    assert "Không có ví" in field_error(unknown.text, "to_phone")
    own = client.post("/w/send", data=form | {"to_phone": SHOPPER_PHONE, "amount": "10000"})
    assert own.status_code == 422  # refused at once, before any name is shown to confirm
    assert "chính mình" in field_error(own.text, "to_phone")
    assert 'id="recipient-name"' not in own.text
    bad_amount = client.post("/w/send", data=form | {"to_phone": "0933444555", "amount": "0"})
    assert "lớn hơn 0" in field_error(bad_amount.text, "amount")
    confirm = client.post("/w/send", data=form | {"to_phone": "0933444555", "amount": "10000"})
    assert confirm.status_code == 200
    assert '<dd id="recipient-name">Đỗ T** B***</dd>' in confirm.text
    with Session(engine) as session:
        assert (
            session.exec(select(Transfer).where(Transfer.kind == TransferKind.TRANSFER)).first()
            is None
        )  # nothing sent before the confirmation
    sent = client.post(
        "/w/send", data=form | {"to_phone": "0933444555", "amount": "10000", "confirm": "yes"}
    )
    assert sent.status_code == 200
    assert "Thành công" in sent.text
    assert re.search(r'<dd id="other-wallet">Đỗ T\*\* B\*\*\* · •+555</dd>', sent.text)
    assert "Quét mã khác" not in sent.text  # a transfer to a phone has no code to scan again
    statement = client.get("/w/statement")
    assert "Chuyển tiền" in statement.text
    assert "-10.000\u00a0₫" in statement.text
    assert "ki-ốt B-12" in statement.text  # the earlier payment, with its stall


def test_a_receipt_has_its_own_address_and_a_form_address_reopened_shows_its_page(
    client: TestClient, world: World, engine: Engine
) -> None:
    wallet_sign_in(client)
    payload = live_payload(engine, world.stall_a)
    check = client.post(
        "/w/pay/check", data={"csrf": csrf_of(client.get("/w/scan").text), "payload": payload}
    )
    form = {"csrf": csrf_of(check.text), "payload": payload, "key": key_of(check.text)}
    paid = client.post("/w/pay", data=form | {"amount": "35.000"}, follow_redirects=False)
    assert paid.status_code == 303  # post, redirect, get: reloading the receipt pays nothing
    address = paid.headers["location"]
    assert re.fullmatch(r"/w/receipt/[0-9]+", address)
    again = client.get(address)
    assert again.status_code == 200
    assert "Thành công" in again.text
    assert "35.000\u00a0₫" in again.text
    assert 'id="balance">865.000\u00a0₫<' in again.text
    assert "B-12" in again.text
    with Session(engine) as session:
        assert len(session.exec(select(Transfer).where(Transfer.amount == 35_000)).all()) == 1
    # another wallet's transfer is not there
    with Session(engine) as session:
        from market.money import wallets

        other = ledger.shopper_wallet(session, world.user_ids["planner"])
        theirs = wallets.top_up(session, wallet=other, amount=5_000, now=datetime.now(UTC)).id
        session.commit()
    assert client.get(f"/w/receipt/{theirs}").status_code == 404
    assert client.get("/w/receipt/abc").status_code == 404
    for address, home in [
        ("/w/pay", "/w/scan"),
        ("/w/pay/check", "/w/scan"),
        ("/w/topup", "/w"),
        ("/w/send", None),
    ]:
        reopened = client.get(address, follow_redirects=False)
        if home is None:
            assert reopened.status_code == 200, address
        else:
            assert (reopened.status_code, reopened.headers["location"]) == (303, home), address
        assert "method-not-allowed" not in client.get(address).text
    client.cookies.clear()
    assert client.get("/w/open", follow_redirects=False).headers["location"] == "/w/login"
    sign_in(client, "vendor.a")
    assert client.get("/v/refund", follow_redirects=False).headers["location"] == "/v/today"
    assert client.get("/v/code/reprint", follow_redirects=False).headers["location"] == "/v/code"


def test_a_money_form_without_csrf_changes_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    wallet_sign_in(client)
    before = snapshot_database(engine)
    response = client.post("/w/topup", data={"key": "k" * 20, "amount": "10000"})
    assert response.status_code == 403
    assert snapshot_database(engine) == before


# ---------------------------------------------------------------------------------------------
# Installable, and within budget


def test_the_app_shell_is_installable(client: TestClient) -> None:
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["service-worker-allowed"] == "/"
    assert "/static/clips/da_nhan.ogg" in worker.text
    assert "__CLIPS__" not in worker.text
    for app, start in (("vendor", "/v"), ("wallet", "/w")):
        manifest = json.loads(client.get(f"/static/phone/{app}.webmanifest").text)
        assert manifest["start_url"] == start
        assert manifest["display"] == "standalone"
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert sizes == {"192x192", "512x512"}
        for icon in manifest["icons"]:
            assert client.get(icon["src"]).status_code == 200


def test_the_soundbox_page_loads_under_60_kb_of_javascript(
    client: TestClient, world: World
) -> None:
    sign_in(client, "vendor.a")
    page = client.get("/v").text
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert "/static/phone/soundbox.js" in scripts
    total = sum(len(gzip.compress(client.get(src).content, 9)) for src in scripts)
    total += len(gzip.compress(client.get("/sw.js").content, 9))
    assert total < PAGE_JS_BUDGET


def test_each_refund_form_carries_its_own_key(
    client: TestClient, world: World, engine: Engine, clock: FrozenClock
) -> None:
    """Two payments, two refund forms: refunding one and then the other from the same page
    (say, back after the first) refunds both, instead of the second being read as a replay."""
    with Session(engine) as session:
        shopper = session.get(User, world.user_ids["shopper"])
        assert shopper is not None
        assert shopper.phone
        second = seed_payment(
            session, world.user_ids["shopper"], shopper.phone, world.stall_a, clock()
        )
        session.commit()
    sign_in(client, "vendor.a")
    page = client.get("/v/today")
    forms = re.findall(
        r'name="payment" value="(\d+)">\s*<input type="hidden" name="key" value="([^"]+)"',
        page.text,
    )
    assert sorted(int(payment) for payment, _key in forms) == sorted([second, world.payment_a])
    assert len({key for _payment, key in forms}) == 2
    csrf = csrf_of(page.text)
    for payment, key in forms:
        done = client.post(
            "/v/refund",
            data={"csrf": csrf, "payment": str(payment), "key": key, "amount": "10.000"},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
    with Session(engine) as session:
        refunds = session.exec(select(Transfer).where(Transfer.kind == TransferKind.REFUND)).all()
        assert sorted(r.original_id or 0 for r in refunds) == sorted([second, world.payment_a])


def test_kinds_of_transfer_are_said_in_the_readers_language(
    client: TestClient, world: World
) -> None:
    sign_in(client, "vendor.a")
    client.cookies.set("cho_lang", "en")
    today = client.get("/v/today")
    assert '<html lang="en">' in today.text
    assert "<strong>Payment</strong>" in today.text  # the world's payment today
    assert "Thanh toán" not in today.text
