"""RFC 9457 problem details: the one table from error code to HTTP status, the exception handlers
that turn every failure into `application/problem+json`, and the `/problems/{code}` pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from market.errors import CATALOGUE, DomainError, FieldError, register_problem
from market.field_messages import field_message, vietnamese_first
from market.inputs import MAX_ID

log = logging.getLogger("cho.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"

PAYLOAD_TOO_LARGE = register_problem(
    "payload-too-large",
    "Dữ liệu gửi lên quá lớn",
    "Payload too large",
    "The request body is larger than the service accepts.",
)
METHOD_NOT_ALLOWED = register_problem(
    "method-not-allowed",
    "Phương thức không được hỗ trợ",
    "Method not allowed",
    "This path does not accept this HTTP method.",
)
INTERNAL_ERROR = register_problem(
    "internal-error",
    "Lỗi hệ thống",
    "Internal error",
    "Something failed on our side; nothing about it was your fault. It has been logged.",
)
BAD_REQUEST = register_problem(
    "bad-request",
    "Yêu cầu không đọc được",
    "Malformed request",
    "The request could not be read at all (for example, a body that is not valid JSON or UTF-8).",
)

STATUS_BY_CODE: dict[str, int] = {
    "not-found": 404,
    "validation-error": 422,
    "conflict": 409,
    "duplicate": 409,
    "stall-occupied": 409,
    "invalid-state": 409,
    "invalid-spreadsheet": 422,
    "import-rows-invalid": 422,
    "unauthenticated": 401,
    "forbidden": 403,
    "invalid-credentials": 401,
    "login-throttled": 429,
    "login-locked": 429,
    "payload-too-large": 413,
    "method-not-allowed": 405,
    "internal-error": 500,
    "bad-request": 400,
    "domain-error": 400,
    "payment-refused": 402,
    "insufficient-funds": 402,
    "limit-exceeded": 402,
    "invalid-vietqr": 422,
    "unknown-code": 422,
    "code-revoked": 409,
    "code-used": 409,
    "code-suspended": 409,
    "amount-override": 422,
    "self-payment": 422,
    "wallet-not-found": 404,
    "refund-exceeds-payment": 409,
    "idempotency-mismatch": 422,
    "missing-idempotency-key": 400,
    "day-not-over": 409,
    "day-closed": 409,
}


class ProblemFieldError(BaseModel):
    field: str
    code: str
    message: str
    row: int | None = None
    column: str | None = None


class Problem(BaseModel):
    """An error response (RFC 9457)."""

    type: str = Field(description="URI of the problem page, /problems/{code}")
    code: str = Field(description="stable kebab-case error code")
    title: str
    status: int
    detail: str
    errors: list[ProblemFieldError] = Field(default_factory=list)
    retry_after: int | None = None


def _problem_schema() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    schema["properties"]["errors"]["items"] = ProblemFieldError.model_json_schema()
    schema["additionalProperties"] = True
    return schema


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json bodies for these statuses."""
    schema = _problem_schema()
    return {
        status: {
            "description": "Problem (RFC 9457)",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
        }
        for status in statuses
    }


def problem_response(
    code: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    entry = CATALOGUE.get(code, CATALOGUE["domain-error"])
    status = status or STATUS_BY_CODE.get(code, 400)
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "code": code,
        "title": f"{entry.title_vi} ({entry.title_en})",
        "status": status,
        "detail": detail,
        "errors": [vietnamese_first(e).as_dict() for e in errors or []],
    }
    response_headers = dict(headers or {})
    if extra:
        body.update(extra)
        if "retry_after" in extra:
            response_headers["Retry-After"] = str(extra["retry_after"])
    if status == 401:
        response_headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=response_headers
    )


def _field_path(error: Mapping[str, Any]) -> str:
    """The field an error is about, dotted; unreadable JSON is about the whole body (its
    location's second part is a character position, not a field)."""
    if error.get("type") == "json_invalid":
        return "body"
    parts = [str(p) for p in error.get("loc", ())]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(exc.code, exc.detail, errors=exc.errors, extra=exc.extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(
            _field_path(err),
            str(err.get("type", "invalid")),
            field_message(err),
        )
        for err in exc.errors()
    ]
    names = ", ".join(sorted({e.field for e in errors}))
    return problem_response(
        "validation-error",
        f"Dữ liệu không hợp lệ ở: {names} (invalid input).",
        errors=errors,
    )


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and _wants_a_page(_request):  # a person typed an address
        body = '<p>Địa chỉ này không có trang nào (no such page). <a href="/">Trang đầu</a></p>'
        return HTMLResponse(_page("Không tìm thấy trang", body), 404)
    if exc.status_code == 405 and _request.method == "GET" and _wants_a_page(_request):
        # the address of a form's button (a confirmation page shows it), opened as a page
        body = (
            "<p>Địa chỉ này là nút bấm của một biểu mẫu, không mở thành trang được; hãy quay lại"
            " trang trước và bấm nút (this address is a form's button, not a page)."
            ' <a href="/">Trang đầu</a></p>'
        )
        return HTMLResponse(_page("Không mở trực tiếp được", body), 405, headers=exc.headers)
    code = {404: "not-found", 405: "method-not-allowed", 413: PAYLOAD_TOO_LARGE}.get(
        exc.status_code, BAD_REQUEST
    )
    detail = exc.detail if isinstance(exc.detail, str) else "HTTP error"
    headers = dict(exc.headers or {})
    if code == "not-found":
        detail = "Không tìm thấy đường dẫn (no such path)."
    elif code == "method-not-allowed":
        detail = "Đường dẫn này không nhận phương thức này (method not allowed here)."
        headers["Allow"] = ", ".join(_allowed_methods(_request.app, _request.url.path))
    return problem_response(code, detail, status=exc.status_code, headers=headers)


def _wants_a_page(request: Request) -> bool:
    """A browser asking for a page (it prefers HTML), not a client of the API."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the API documents for `path` (routes for one path may be spread over
    several routers, so Starlette's own Allow header would name only one of them)."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allow_table", None)
    if table is None:
        table = [
            (
                re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"),
                sorted(m.upper() for m in operations),
            )
            for template, operations in app.openapi()["paths"].items()
        ]
        app.state.allow_table = table
    for pattern, methods in table:
        if pattern.match(path):
            return methods
    return []


async def _database_refused(_request: Request, exc: Exception) -> JSONResponse:
    """The database refused a value it cannot store (a safety net behind input validation)."""
    log.warning("database refused input: %s", exc)
    return problem_response(
        "validation-error",
        "Dữ liệu không lưu được (a value cannot be stored: invalid characters or size).",
    )


async def _number_too_large(_request: Request, exc: Exception) -> JSONResponse:
    """A number the database driver cannot bind (SQLite stops at 2⁶³ − 1). Inputs are bounded
    before they reach the database (`market.inputs`); this is the safety net behind them."""
    log.warning("number out of the database's range: %s", exc)
    return problem_response(
        "validation-error",
        f"Số quá lớn: tối đa {MAX_ID} (a number is larger than the service stores).",
    )


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(
        INTERNAL_ERROR, "Lỗi hệ thống; vui lòng thử lại sau (internal error, logged)."
    )


def install(app: FastAPI) -> None:
    """Register the handlers and the `/problems` pages on `app`."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _database_refused)
    app.add_exception_handler(OverflowError, _number_too_large)
    app.add_exception_handler(Exception, _unexpected_error)

    @app.get("/problems", include_in_schema=False)
    def problem_index() -> HTMLResponse:
        items = "".join(
            f'<li><a href="/problems/{code}">{code}</a>: {escape(p.title_vi)} '
            f"({escape(p.title_en)})</li>"
            for code, p in sorted(CATALOGUE.items())
        )
        return HTMLResponse(_page("Mã lỗi (error codes)", f"<ul>{items}</ul>"))

    @app.get("/problems/{code}", include_in_schema=False)
    def problem_page(code: str) -> HTMLResponse:
        entry = CATALOGUE.get(code)
        if entry is None:
            return HTMLResponse(_page("Không có mã lỗi này", "<p>Unknown problem code.</p>"), 404)
        status = STATUS_BY_CODE.get(code, 400)
        body = (
            f"<p><code>{code}</code> · HTTP {status}</p><p>{escape(entry.title_en)}.</p>"
            f"<p>{escape(entry.explanation)}</p>"
        )
        return HTMLResponse(_page(entry.title_vi, body))


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        "<style>body{font:17px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;"
        "padding:0 1rem}</style></head>"
        f'<body><h1>{escape(title)}</h1>{body}<p><a href="/problems">Tất cả mã lỗi</a></p>'
        "</body></html>"
    )
