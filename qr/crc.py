"""CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR), the checksum of
EMVCo and VietQR payloads, written as four upper-case hex digits."""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_TABLE = _table()


def crc16_ccitt_false(data: bytes) -> int:
    """The CRC of `data` ("123456789" → 0x29B1)."""
    crc = 0xFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def payload_crc(text_before_crc: str) -> str:
    """The CRC field value for a payload whose text up to and including "6304" is given: computed
    over its UTF-8 bytes, four upper-case hex digits with leading zeros kept."""
    return f"{crc16_ccitt_false(text_before_crc.encode('utf-8')):04X}"
