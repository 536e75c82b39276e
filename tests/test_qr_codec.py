"""The VietQR codec against the public vectors, the spec's rules, and generated inputs."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qr.banks import all_banks
from qr.crc import payload_crc
from qr.vietqr import (
    MAX_AMOUNT,
    Decoded,
    Initiation,
    Service,
    VietQR,
    VietQRError,
    VnpayQR,
    decode,
    decode_any,
    encode,
)

# Real VietQR payloads published by banks, wallets and open-source codecs, good and bad.
VECTORS_FILE = Path(__file__).resolve().parent / "data" / "vietqr_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]
# The reason each rejected vector must be rejected for (from its notes in vectors.json).
REJECTED_FOR = {
    "napas-static-account-as-printed": "length-mismatch",  # 38.01.01 declares 12, 13 follow
    "napas-dynamic-card-headline-typo": "crc-mismatch",
    "subiz-readme-malformed": "crc-mismatch",
    "vietqr-ts-napas-example-1": "unexpected-tag",  # 02 nested inside 38.01 (and a wrong CRC)
    "payload-format-00": "bad-format-indicator",
    "vnpay-wallet-personal": "not-vietqr",
    "vnpayqr-myphamher": "vnpay-qr",
    "pubdev-static-with-amount": "static-with-amount",  # strict mode only
}


def _with_crc(body: str) -> str:
    return body + "6304" + payload_crc(body + "6304")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_every_public_vector(vector: dict[str, Any]) -> None:
    expected = vector["decoded"]
    if vector["kind"] == "positive":
        decoded = decode(vector["payload"])
        value = decoded.value
        assert value.bin == expected["bin"]
        assert value.account == expected["account"]
        assert value.service.value == expected["service"]
        assert value.initiation.value == expected["init_method"]
        assert value.amount == (int(expected["amount"]) if "amount" in expected else None)
        assert value.memo == expected.get("message")
        for tag, text in expected.get("additional", {}).items():
            field = {"01": "bill_number", "05": "reference_label", "08": "memo"}[tag]
            assert getattr(value, field) == text
        assert decoded.crc == vector["crc"]["given"]
        assert decoded.warnings == ()
        assert encode(value) == vector["payload"]  # our encoder writes the same bytes back
        return
    with pytest.raises(VietQRError) as refused:
        decode(vector["payload"])
    assert REJECTED_FOR[vector["id"]] in [p.code for p in refused.value.problems]
    assert all(p.reason for p in refused.value.problems)
    if vector["kind"] == "positive-lenient":
        lenient = decode(vector["payload"], lenient=True)
        assert lenient.value.amount == int(expected["amount"])
        assert [w.code for w in lenient.warnings] == ["static-with-amount"]
    if vector["kind"] == "positive-vnpay":
        found = decode_any(vector["payload"])
        assert isinstance(found, VnpayQR)
        assert (found.merchant_id, found.mcc, found.merchant_name, found.merchant_city) == (
            expected["tag26"]["01"],
            expected["mcc"],
            expected["merchant_name"],
            expected["city"],
        )


def test_crc_check_values() -> None:
    assert payload_crc("123456789") == "29B1"
    assert payload_crc("00") == "2EC9"
    assert payload_crc("01") == "3EE8"


def test_lowercase_crc_is_a_quirk() -> None:
    payload = encode(VietQR.build(bin="970422", account="0023457923442"))
    lower = payload[:-4] + payload[-4:].lower()
    if lower == payload:  # a CRC of digits only has no case; find one that has letters
        payload = encode(VietQR.build(bin="970422", account="0023457923443"))
        lower = payload[:-4] + payload[-4:].lower()
    assert lower != payload
    with pytest.raises(VietQRError) as refused:
        decode(lower)
    assert refused.value.code == "crc-lowercase"
    assert [w.code for w in decode(lower, lenient=True).warnings] == ["crc-lowercase"]


def test_tampered_amount_fails_the_crc() -> None:
    payload = encode(VietQR.build(bin="970405", account="8800123456789", amount=150000))
    tampered = payload.replace("5406150000", "5406950000")
    with pytest.raises(VietQRError) as refused:
        decode(tampered)
    assert refused.value.code == "crc-mismatch"


@pytest.mark.parametrize(
    ("amount_field", "code"),
    [
        ("5407150.000", "bad-amount"),
        ("54071,50000", "bad-amount"),
        ("540550000", None),
        ("54071500.00", "bad-amount"),
        ("54010", "bad-amount"),
        ("5409500000000", "amount-over-limit"),
        ("5407150000.", None),
        ("5406-15000", "bad-amount"),
    ],
)
def test_amount_rules(amount_field: str, code: str | None) -> None:
    body = (
        "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA5303704"
        + amount_field
        + "5802VN"
    )
    payload = _with_crc(body)
    if code is None:
        assert decode(payload).value.amount is not None
    else:
        with pytest.raises(VietQRError) as refused:
            decode(payload)
        assert code in [p.code for p in refused.value.problems]


def test_tag_order_and_missing_tags() -> None:
    good = "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN"
    swapped = "010211000201" + good[12:]
    with pytest.raises(VietQRError) as refused:
        decode(_with_crc(swapped))
    assert "tag-order" in [p.code for p in refused.value.problems]
    no_currency = good.replace("5303704", "")
    with pytest.raises(VietQRError) as refused:
        decode(_with_crc(no_currency))
    assert [p.code for p in refused.value.problems] == ["missing-tag"]
    crc_not_last = good + "6304ABCD" + "5802VN"
    with pytest.raises(VietQRError) as refused:
        decode(crc_not_last)
    assert refused.value.code == "crc-missing"


def test_unknown_bin_and_foreign_currency() -> None:
    body = "00020101021138530010A0000007270123000612345601092576788590208QRIBFTTA53038405802US"
    with pytest.raises(VietQRError) as refused:
        decode(_with_crc(body))
    assert {"unknown-bin", "bad-currency", "bad-country"} <= {
        p.code for p in refused.value.problems
    }


def test_diacritics_in_ans_fields_and_nfd_input() -> None:
    body = (
        "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA530370454"
        "0510000"
        "5802VN"
        "62150811Chuyển tiền"
    )
    payload = _with_crc(body)
    with pytest.raises(VietQRError) as refused:
        decode(payload)
    assert refused.value.code == "non-ans-characters"
    assert decode(payload, lenient=True).value.memo == "Chuyển tiền"
    ours = encode(VietQR.build(bin="970405", account="123", name_vi="Nguyễn Thị Hường"))
    nfd = unicodedata.normalize("NFD", ours)
    assert len(nfd) > len(ours)
    decoded = decode(nfd)
    assert decoded.value.name_vi == "Nguyễn Thị Hường"
    assert [w.code for w in decoded.warnings] == ["not-nfc"]


def test_lengths_count_characters_and_crc_covers_utf8() -> None:
    payload = encode(VietQR.build(bin="970405", account="123", name_vi="Chợ Mậu A"))
    assert "0109Chợ Mậu A" in payload  # 9 characters, 13 UTF-8 bytes
    assert decode(payload).value.name_vi == "Chợ Mậu A"


def test_build_strips_diacritics_and_refuses_overlong_text() -> None:
    value = VietQR.build(bin="970405", account="123", memo="  Đặt cọc   rau  ", amount=5000)
    assert value.memo == "Dat coc rau"
    assert value.initiation is Initiation.DYNAMIC
    with pytest.raises(VietQRError) as refused:
        VietQR.build(bin="970405", account="123", memo="x" * 26)
    assert refused.value.code == "value-too-long"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"bin": "999999"}, "unknown-bin"),
        ({"amount": 0}, "bad-amount"),
        ({"amount": MAX_AMOUNT + 1}, "amount-over-limit"),
        ({"account": "12-34"}, "bad-account"),
    ]
    for bad, code in cases:
        args: dict[str, Any] = {"bin": "970405", "account": "123"} | bad
        with pytest.raises(VietQRError) as refused:
            VietQR.build(**args)
        assert refused.value.code == code


VIETNAMESE = "aàáảãạăằắẳẵặâầấẩẫậđeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"
BINS = [bank.bin for bank in all_banks()]
words = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " 0123456789", min_size=1, max_size=25)


@st.composite
def codes(draw: st.DrawFn) -> VietQR:
    card = draw(st.booleans())
    account = draw(st.from_regex(r"[0-9]{16,19}" if card else r"[0-9A-Z]{1,19}", fullmatch=True))
    amount = draw(st.none() | st.integers(1, MAX_AMOUNT))
    texts = {name: draw(st.none() | words) for name in ("memo", "bill_number", "name_vi")}
    try:
        return VietQR.build(
            bin=draw(st.sampled_from(BINS)),
            account=account,
            card=card,
            amount=amount,
            memo=texts["memo"],
            bill_number=texts["bill_number"],
            name_vi=texts["name_vi"],
            city_vi=draw(st.none() | st.just("Mậu A")),
        )
    except VietQRError:
        from hypothesis import reject

        reject()


@settings(max_examples=300)
@given(codes())
def test_decode_inverts_encode(value: VietQR) -> None:
    decoded = decode(encode(value))
    assert decoded.value == value
    assert decoded.warnings == ()
    assert decoded.value.service is (
        Service.CARD if value.service is Service.CARD else Service.ACCOUNT
    )


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_the_codecs_error(text: str) -> None:
    try:
        result = decode_any(text, lenient=True)
    except VietQRError as exc:
        assert exc.problems
        assert all(p.code and p.reason for p in exc.problems)
    else:
        assert isinstance(result, Decoded | VnpayQR)


@settings(max_examples=300)
@given(codes(), st.data())
def test_mutated_payloads_are_refused_or_still_consistent(
    value: VietQR, data: st.DataObject
) -> None:
    payload = encode(value)
    index = data.draw(st.integers(0, len(payload) - 1))
    replacement = data.draw(st.characters(codec="utf-8"))
    mutated = payload[:index] + replacement + payload[index + 1 :]
    cut = payload[: data.draw(st.integers(0, len(payload) - 1))]
    for candidate in (mutated, cut):
        try:
            decoded = decode(candidate)
        except VietQRError as exc:
            assert exc.problems
        else:
            assert candidate == payload or encode(decoded.value) == candidate.strip()
