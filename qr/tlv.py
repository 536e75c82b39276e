"""EMVCo data objects: ID (2 digits) + length (2 digits, counted in characters) + value.
Parsing keeps each object's position so errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataObject:
    tag: str
    value: str
    position: int  # index of the tag's first character in the parsed text


class TLVError(ValueError):
    """The text is not a well-formed sequence of data objects."""

    def __init__(self, code: str, reason: str, position: int) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.position = position


def parse(text: str, offset: int = 0) -> list[DataObject]:
    """Split `text` into data objects; `offset` is added to reported positions (for nesting)."""
    objects: list[DataObject] = []
    index = 0
    while index < len(text):
        header = text[index : index + 4]
        if len(header) < 4:
            raise TLVError(
                "length-mismatch",
                f"dữ liệu bị cắt cụt ở vị trí {offset + index} (truncated object header)",
                offset + index,
            )
        if not (header.isascii() and header.isdigit()):
            raise TLVError(
                "malformed-tlv",
                f"mã thẻ/độ dài không phải số ở vị trí {offset + index}: '{header}' "
                "(non-numeric tag or length)",
                offset + index,
            )
        tag, length = header[:2], int(header[2:])
        if length == 0:
            raise TLVError(
                "length-mismatch",
                f"thẻ {tag} có độ dài 00 ở vị trí {offset + index} (empty value)",
                offset + index,
            )
        value = text[index + 4 : index + 4 + length]
        if len(value) < length:
            raise TLVError(
                "length-mismatch",
                f"thẻ {tag} khai báo {length} ký tự nhưng chỉ còn {len(value)} "
                f"(declared length exceeds the data) ở vị trí {offset + index}",
                offset + index,
            )
        objects.append(DataObject(tag, value, offset + index))
        index += 4 + length
    return objects


def format_object(tag: str, value: str) -> str:
    """One data object; the value must be 1–99 characters."""
    if not 1 <= len(value) <= 99:
        raise ValueError(f"tag {tag}: value of {len(value)} characters (1-99 allowed)")
    return f"{tag}{len(value):02d}{value}"
