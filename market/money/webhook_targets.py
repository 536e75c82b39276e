"""Where a webhook may be sent: an http(s) URL without control characters, whose host is not a
loopback, private, link-local, reserved, multicast or metadata address, checked when the
receiver is registered and again, after DNS resolution, before each delivery connects. Hosts
named in the `webhook_allowed_hosts` setting are exempt (tests, on-premises receivers)."""

from __future__ import annotations

import ipaddress
import socket

import httpx

from market.errors import FieldError, InvalidInputError

MAX_URL = 500
_RESOLVE_ERRORS = (OSError, UnicodeError)


class BlockedTargetError(Exception):
    """A delivery's host is (or resolves to) an address webhooks must not reach."""


def check_url(url: str, *, allowed_hosts: frozenset[str]) -> httpx.URL:
    """The parsed URL of a receiver being registered, or a 422 refusal naming the reason."""
    if len(url) > MAX_URL or any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise _invalid("control character or longer than 500 characters")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise _invalid("not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _invalid("http(s) URL required")
    try:
        check_target(parsed, allowed_hosts=allowed_hosts)
    except BlockedTargetError as exc:
        raise InvalidInputError(
            "Webhook không được trỏ tới địa chỉ nội bộ, loopback hay metadata "
            "(webhooks may not target private, loopback, link-local or metadata addresses).",
            errors=[FieldError("url", "blocked-address", str(exc))],
        ) from None
    return parsed


def check_target(url: httpx.URL, *, allowed_hosts: frozenset[str]) -> None:
    """Raise `BlockedTargetError` unless every address the URL's host resolves to is public (or
    the host is allowed by name). A literal IP is judged without any lookup."""
    host = url.host
    if host in allowed_hosts:
        return
    for address in _addresses(host, url.port or (443 if url.scheme == "https" else 80)):
        if _blocked(address):
            raise BlockedTargetError(f"{host} is {address}, not a public address")


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except _RESOLVE_ERRORS:
        raise BlockedTargetError(f"{host} does not resolve") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def _invalid(reason: str) -> InvalidInputError:
    return InvalidInputError(
        "Địa chỉ webhook không hợp lệ: cần URL http(s) (invalid webhook URL).",
        errors=[FieldError("url", "invalid-url", reason)],
    )
