"""Mock wallets: shoppers open a wallet with their mobile number and a PIN; every payout account
is a vendor wallet. Opening, signing in, whose wallet, top-up, withdrawal, transfer by phone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, SQLModel, select

from market.db import require_id
from market.errors import (
    DuplicateError,
    FieldError,
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    SelfPaymentError,
    WalletNotFoundError,
)
from market.money import ledger
from market.money.ids import user_id_of
from market.money.models import LedgerAccount, LedgerAccountKind, Transfer, TransferKind
from market.registry.access import Actor, require_role
from market.registry.models import (
    Role,
    Status,
    User,
)
from market.registry.payouts import readable_account
from market.registry.users import SIGNED_IN, hash_password, issue_token, login, signed_in_with
from market.settings import Settings
from market.text import InvalidPhoneError, mask_digits, normalise_mobile

PIN = re.compile(r"^[0-9]{6}$")


def _phone(text: str, field: str = "phone") -> str:
    try:
        return normalise_mobile(text)
    except InvalidPhoneError:
        raise InvalidInputError(
            "Số điện thoại không phải số di động Việt Nam (not a Vietnamese mobile number).",
            errors=[FieldError(field, "invalid-phone", "not a Vietnamese mobile number")],
        ) from None


def _username(phone: str) -> str:
    return "vi" + phone.lstrip("+")


def masked_name(full_name: str) -> str:
    """ "Nguyễn Thị Hường" → "Nguyễn T** H****": enough to confirm, not to harvest."""
    words = full_name.split()
    if len(words) <= 1:
        return full_name[:1] + "*" * max(len(full_name) - 1, 0)
    return " ".join([words[0], *(w[0] + "*" * (len(w) - 1) for w in words[1:])])


# ---------------------------------------------------------------------------------------------
# Opening and signing in


def new_wallet_number(phone: str, pin: str) -> str:
    """The phone of a wallet to open, in E.164; a bad phone and a bad PIN are refused together,
    each by its field."""
    details: list[str] = []
    errors: list[FieldError] = []
    number = ""
    try:
        number = _phone(phone)
    except InvalidInputError as bad_phone:
        details.append(bad_phone.detail)
        errors.extend(bad_phone.errors)
    if not PIN.match(pin):
        details.append("Mã PIN gồm đúng 6 chữ số (PIN: 6 digits).")
        errors.append(FieldError("pin", "invalid-pin", "6 digits"))
    if errors:
        raise InvalidInputError(" ".join(details), errors=errors)
    return number


def open_wallet(
    session: Session, *, phone: str, pin: str, full_name: str, settings: Settings, now: datetime
) -> tuple[str, User, LedgerAccount]:
    """Open a shopper wallet (mock KYC: phone and a 6-digit PIN) and sign in."""
    number = new_wallet_number(phone, pin)
    if session.exec(select(User).where(User.phone == number)).first() is not None:
        raise DuplicateError(
            "Số điện thoại này đã có ví; hãy đăng nhập (a wallet exists for this phone).",
            errors=[FieldError("phone", "duplicate", "wallet exists")],
        )
    user = User(
        username=_username(number),
        full_name=full_name,
        phone=number,
        password_hash=hash_password(pin),
        role=Role.SHOPPER,
    )
    session.add(user)
    session.flush()
    wallet = ledger.shopper_wallet(session, require_id(user))
    raw, _token = issue_token(session, user=user, settings=settings, now=now)
    return raw, user, wallet


def wallet_login(
    session: Session, *, phone: str, pin: str, client: str, settings: Settings, now: datetime
) -> tuple[str, User]:
    """Sign in with the wallet's phone and PIN (any user with that phone, throttled as logins)."""
    number = _phone(phone)
    holder = session.exec(select(User).where(User.phone == number)).first()
    username = holder.username if holder is not None else _username(number)
    try:
        raw, _token, user = login(
            session, username=username, password=pin, client=client, settings=settings, now=now
        )
    except InvalidCredentialsError:
        # the same refusal whether or not the phone has a wallet, in the wallet's own words
        raise InvalidCredentialsError(
            "Sai số điện thoại hoặc mã PIN (wrong phone number or PIN)."
        ) from None
    return raw, user


# ---------------------------------------------------------------------------------------------
# Whose wallet


def own_wallet(session: Session, actor: Actor) -> LedgerAccount:
    """The signed-in shopper's wallet."""
    require_role(actor, Role.SHOPPER)
    if actor.is_admin:
        raise ForbiddenError("Quản trị viên không có ví (admins have no wallet).")
    return ledger.shopper_wallet(session, user_id_of(actor))


# the token's columns and the caller's shopper wallet (`wallet_…` columns: None while they have
# none), in plain columns
SIGNED_IN_WITH_WALLET = SIGNED_IN.add_columns(*ledger.account_columns("wallet")).outerjoin(
    ledger.ACCOUNTS, ledger.ACCOUNTS.c.owner_user_id == SQLModel.metadata.tables["app_user"].c.id
)


def signed_in_shopper(
    session: Session, *, raw_token: str, now: datetime
) -> tuple[Actor, ledger.AccountRow | None]:
    """`signed_in`, and the caller's shopper wallet read in the same round trip (None while
    they have none): a money request on the caller's own wallet reads both at once."""
    actor, row = signed_in_with(session, SIGNED_IN_WITH_WALLET, raw_token=raw_token, now=now)
    return actor, ledger.account_of(row, "wallet")


def vendor_wallet_for(session: Session, actor: Actor, payout_account_id: int) -> LedgerAccount:
    """The vendor wallet of a payout account, for its vendor (or a manager of its market)."""
    readable_account(session, actor=actor, account_id=payout_account_id)
    return ledger.vendor_wallet(session, payout_account_id)


# ---------------------------------------------------------------------------------------------
# Operations


def top_up(session: Session, *, wallet: ledger.Account, amount: int, now: datetime) -> Transfer:
    """Nạp tiền: money enters the wallet from cash-in."""
    cash_in = ledger.system_account(session, LedgerAccountKind.CASH_IN)
    return ledger.move(
        session,
        ledger.Posting(
            kind=TransferKind.TOP_UP,
            debit=cash_in,
            credit=wallet,
            amount=amount,
            memo="Nạp tiền",
        ),
        now=now,
    )


def withdraw(session: Session, *, wallet: ledger.Account, amount: int, now: datetime) -> Transfer:
    """Rút tiền: money leaves the wallet to cash-out."""
    cash_out = ledger.system_account(session, LedgerAccountKind.CASH_OUT)
    return ledger.move(
        session,
        ledger.Posting(
            kind=TransferKind.WITHDRAWAL,
            debit=wallet,
            credit=cash_out,
            amount=amount,
            memo="Rút tiền",
        ),
        now=now,
    )


@dataclass(frozen=True)
class Recipient:
    phone_masked: str
    name_masked: str


def lookup(session: Session, *, phone: str) -> Recipient:
    """Who a phone's wallet belongs to, masked, so the payer can confirm before sending."""
    user = _wallet_user(session, _phone(phone))
    return Recipient(mask_digits(user.phone or "", 3), masked_name(user.full_name or "Ví"))


def recipient_for(session: Session, *, actor: Actor, phone: str) -> Recipient:
    """The masked recipient a shopper is about to send to, refused at once when the phone is
    the shopper's own (the transfer would be refused anyway)."""
    if actor.phone is not None and _phone(phone) == actor.phone:
        raise SelfPaymentError(
            "Không thể chuyển tiền cho chính mình (cannot pay yourself).",
            errors=[FieldError("to_phone", "self-payment", "your own wallet")],
        )
    return lookup(session, phone=phone)


def _wallet_user(session: Session, phone: str) -> User:
    user = session.exec(
        select(User).where(User.phone == phone, User.status == Status.ACTIVE)
    ).first()
    if user is None:
        raise WalletNotFoundError(
            "Không có ví nào với số điện thoại này (no wallet for phone).",
            errors=[FieldError("to_phone", "not-found", "no wallet")],
        )
    return user


def transfer_to_phone(
    session: Session,
    *,
    actor: Actor,
    wallet: ledger.Account,
    to_phone: str,
    amount: int,
    memo: str | None,
    now: datetime,
) -> Transfer:
    """Chuyển tiền to another wallet by phone number."""
    recipient = _wallet_user(session, _phone(to_phone, "to_phone"))
    if recipient.id == actor.user_id:
        raise SelfPaymentError("Không thể chuyển tiền cho chính mình (cannot pay yourself).")
    target = ledger.shopper_wallet(session, require_id(recipient))
    return ledger.move(
        session,
        ledger.Posting(
            kind=TransferKind.TRANSFER,
            debit=wallet,
            credit=target,
            amount=amount,
            memo=memo or "Chuyển tiền",
        ),
        now=now,
    )
