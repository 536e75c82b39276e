"""The closed vocabulary of domain errors. Each has a stable kebab-case code, documented at
`/problems/{code}`; the HTTP status for each code lives in `api/problems.py`, not here.

    DomainError
    ├── NotFoundError              not-found
    ├── InvalidInputError           validation-error        (carries per-field errors)
    ├── ConflictError              conflict
    │   ├── DuplicateError         duplicate
    │   └── StallOccupiedError     stall-occupied
    ├── InvalidStateError          invalid-state
    ├── SpreadsheetError           invalid-spreadsheet
    ├── ImportRowsError            import-rows-invalid      (carries per-row errors)
    └── auth errors                unauthenticated, forbidden, invalid-credentials,
                                   login-throttled, login-locked
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field. `field` is a dotted path ("phone", "rows.3.bin")."""

    field: str
    code: str
    message: str
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "code": self.code, "message": self.message}
        if self.row is not None:
            data["row"] = self.row
        if self.column is not None:
            data["column"] = self.column
        return data


@dataclass(frozen=True)
class ProblemType:
    """Documentation of one error code: what a person reads at `/problems/{code}`."""

    code: str
    title_vi: str
    title_en: str
    explanation: str


CATALOGUE: dict[str, ProblemType] = {}


def register_problem(code: str, title_vi: str, title_en: str, explanation: str) -> str:
    CATALOGUE[code] = ProblemType(code, title_vi, title_en, explanation)
    return code


@dataclass
class DomainError(Exception):
    """A rule of the domain refused the request; nothing was changed."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    code: ClassVar[str] = register_problem(
        "domain-error", "Yêu cầu bị từ chối", "Request refused", "A domain rule refused it."
    )

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class NotFoundError(DomainError):
    code = register_problem(
        "not-found",
        "Không tìm thấy",
        "Not found",
        "The resource does not exist, or you are not allowed to know that it does.",
    )


class InvalidInputError(DomainError):
    code = register_problem(
        "validation-error",
        "Dữ liệu không hợp lệ",
        "Invalid input",
        "One or more fields are invalid; `errors` names each field and what is wrong with it.",
    )


class ConflictError(DomainError):
    code = register_problem(
        "conflict",
        "Xung đột dữ liệu",
        "Conflict",
        "The request conflicts with the current state of the resource.",
    )


class DuplicateError(ConflictError):
    code = register_problem(
        "duplicate",
        "Đã tồn tại",
        "Already exists",
        "A record with the same unique key (stall code in a market, phone, account) exists.",
    )


class StallOccupiedError(ConflictError):
    code = register_problem(
        "stall-occupied",
        "Ki-ốt đã có tiểu thương",
        "Stall already has a current vendor",
        "A stall has at most one current vendor; end the current assignment first.",
    )


class InvalidStateError(DomainError):
    code = register_problem(
        "invalid-state",
        "Trạng thái không cho phép",
        "Invalid state",
        "The resource's status does not allow this operation (for example, it is deactivated).",
    )


class SpreadsheetError(DomainError):
    code = register_problem(
        "invalid-spreadsheet",
        "Tệp không đọc được",
        "Unreadable spreadsheet",
        "The uploaded file is not an .xlsx workbook or a UTF-8 CSV with the template's columns.",
    )


class ImportRowsError(DomainError):
    code = register_problem(
        "import-rows-invalid",
        "Tệp có dòng lỗi",
        "Rows with errors",
        "Some rows are invalid; `errors` lists each with its row, column and reason. "
        "Nothing was imported.",
    )


class UnauthenticatedError(DomainError):
    code = register_problem(
        "unauthenticated",
        "Cần đăng nhập",
        "Authentication required",
        "Send a valid, unexpired bearer token from POST /auth/token.",
    )


class ForbiddenError(DomainError):
    code = register_problem(
        "forbidden",
        "Không có quyền",
        "Forbidden",
        "Your role does not allow this operation on this resource.",
    )


class InvalidCredentialsError(DomainError):
    code = register_problem(
        "invalid-credentials",
        "Sai tên đăng nhập hoặc mật khẩu",
        "Wrong username or password",
        "The username or password is wrong. Repeated failures slow down and then lock logins.",
    )


class LoginThrottledError(DomainError):
    code = register_problem(
        "login-throttled",
        "Đăng nhập quá nhanh",
        "Too many attempts",
        "Several wrong passwords in a row: wait `retry_after` seconds before trying again.",
    )


class LoginLockedError(DomainError):
    code = register_problem(
        "login-locked",
        "Tạm khóa đăng nhập",
        "Login locked",
        "Too many wrong passwords: logins for this user or client are locked for a while.",
    )


class MoneyRefusedError(DomainError):
    """A money operation refused for the state of the accounts; stored with its key (a replay
    stays refused)."""

    code = register_problem(
        "payment-refused", "Giao dịch bị từ chối", "Refused", "The operation was refused."
    )


class InsufficientFundsError(MoneyRefusedError):
    code = register_problem(
        "insufficient-funds",
        "Số dư không đủ",
        "Insufficient funds",
        "The wallet's balance is lower than the amount. Nothing was moved.",
    )


class LimitExceededError(MoneyRefusedError):
    code = register_problem(
        "limit-exceeded",
        "Vượt hạn mức",
        "Limit exceeded",
        "The amount is above a limit: one NAPAS transfer (< 500,000,000 ₫), the customer wallet's "
        "monthly cap (100,000,000 ₫, Circular 40/2024/TT-NHNN) or the wallet's own daily limit.",
    )


class InvalidVietQRError(MoneyRefusedError):
    code = register_problem(
        "invalid-vietqr",
        "Mã QR không hợp lệ",
        "Invalid VietQR",
        "The scanned text is not a valid VietQR payload; `errors` lists each problem.",
    )


class UnknownCodeError(MoneyRefusedError):
    code = register_problem(
        "unknown-code",
        "Mã QR không thuộc chợ",
        "Unknown code",
        "The code is a valid VietQR but pays no live payout account registered here.",
    )


class CodeRevokedError(MoneyRefusedError):
    code = register_problem(
        "code-revoked",
        "Mã QR đã bị thu hồi",
        "Code revoked",
        "The board carrying this code was replaced or revoked (the vendor left the stall or "
        "changed account). Ask the vendor for the current code.",
    )


class CodeUsedError(MoneyRefusedError):
    code = register_problem(
        "code-used",
        "Mã QR dùng một lần đã được thanh toán",
        "Code already paid",
        "A per-sale code pays once; this one has been paid. Ask the vendor for a new code.",
    )


class CodeSuspendedError(MoneyRefusedError):
    code = register_problem(
        "code-suspended",
        "Ki-ốt tạm ngừng nhận tiền",
        "Stall suspended",
        "The stall or vendor behind this code is suspended or inactive.",
    )


class AmountMismatchError(MoneyRefusedError):
    code = register_problem(
        "amount-override",
        "Số tiền không khớp mã",
        "Amount does not match the code",
        "A dynamic code fixes its amount; a static code needs the amount in the request.",
    )


class SelfPaymentError(MoneyRefusedError):
    code = register_problem(
        "self-payment",
        "Không thể tự chuyển cho mình",
        "Paying oneself",
        "The payer and the payee are the same person.",
    )


class WalletNotFoundError(MoneyRefusedError):
    code = register_problem(
        "wallet-not-found",
        "Không tìm thấy ví",
        "Wallet not found",
        "No wallet is registered for this phone number.",
    )


class RefundExceedsPaymentError(MoneyRefusedError):
    code = register_problem(
        "refund-exceeds-payment",
        "Hoàn tiền vượt số đã trả",
        "Refund too large",
        "Refunds of a payment together never exceed the payment.",
    )


class IdempotencyMismatchError(DomainError):
    code = register_problem(
        "idempotency-mismatch",
        "Khóa chống trùng đã dùng cho yêu cầu khác",
        "Key reused",
        "This Idempotency-Key was used with a different request body. Use a new key.",
    )


class IdempotencyKeyMissingError(DomainError):
    code = register_problem(
        "missing-idempotency-key",
        "Thiếu khóa chống trùng",
        "Idempotency-Key required",
        "Every money-moving request needs an Idempotency-Key header (1-255 characters).",
    )


class DayNotOverError(DomainError):
    code = register_problem(
        "day-not-over",
        "Chưa hết ngày",
        "Day not over",
        "A business day (Asia/Ho_Chi_Minh) can be closed only after its local midnight.",
    )


class DayClosedError(DomainError):
    code = register_problem(
        "day-closed",
        "Ngày đã chốt",
        "Day closed",
        "This business day is closed; it never changes.",
    )
