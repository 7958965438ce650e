"""The bank-transfer QR code (VietQR): the string a citizen's bank app scans to fill in a transfer
of the fee to the collecting unit's account, with the amount and the reference already typed in.

It follows NAPAS's VietQR specification, the Vietnamese profile of the EMVCo merchant-presented
QR code: fields of ID (2 digits), length (2 digits) and value; the beneficiary under ID 38 as
NAPAS's identifier A000000727, the bank's BIN and the account, and the service QRIBFTTA (transfer
to an account over NAPAS 247); the amount in VND; the purpose of the transfer under 62.08; and a
CRC-16/CCITT-FALSE over the whole string, its own "6304" included, closing it. Pure: no I/O.
"""

from __future__ import annotations

import re

import segno

NAPAS_GUID = "A000000727"  # 38.00: the VietQR network
TO_ACCOUNT = "QRIBFTTA"  # 38.02: inter-bank fund transfer 24/7 to an account
VND = "704"  # ISO 4217
DYNAMIC = "12"  # point of initiation: a one-off code with the amount set ("11": static, reusable)
TEMPLATES = ("38", "38.01", "62")  # the fields whose values are themselves fields
CRC_FIELD = "6304"  # ID 63, length 04: the CRC's own head, covered by the CRC
REFERENCE_MAX = 25  # 62.08's length in the specification; bank apps cut longer purposes
SVG_TITLE = "Mã QR chuyển khoản"
SVG_PX = 200  # the rendered side, about: 5 cm on a phone

_BIN = re.compile(r"\d{6}")
_ACCOUNT = re.compile(r"[0-9A-Za-z]{1,19}")
_REFERENCE = re.compile(r"[0-9A-Za-z .-]+")  # bank apps strip diacritics and other characters


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected, no final xor) of `text`'s UTF-8
    bytes as 4 uppercase hex digits; its check value, of "123456789", is 29B1."""
    crc = 0xFFFF
    for byte in text.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def field(tag: str, value: str) -> str:
    """One field: ID, length of the value in 2 digits, value."""
    if len(value) > 99:
        raise ValueError(f"field {tag} is {len(value)} characters long; at most 99 fit")
    return f"{tag}{len(value):02d}{value}"


def payload(bank_bin: str, account: str, amount_vnd: int, reference: str) -> str:
    """The VietQR string for a transfer of `amount_vnd` to `account` at the bank `bank_bin` (its 6-digit
    NAPAS BIN, e.g. "970415"), with `reference` as the transfer's purpose (at most 25 characters of
    A-Z, a-z, 0-9, space, "." and "-": no diacritics, which bank apps would strip)."""
    if not _BIN.fullmatch(bank_bin):
        raise ValueError(f"bank BIN {bank_bin!r} is not 6 digits")
    if not _ACCOUNT.fullmatch(account):
        raise ValueError(f"account {account!r} is not 1 to 19 letters or digits")
    if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int) or amount_vnd <= 0:
        raise ValueError(f"amount {amount_vnd!r} is not a positive whole number of VND")
    if len(str(amount_vnd)) > 13:
        raise ValueError(f"amount {amount_vnd} has more than 13 digits")
    if not _REFERENCE.fullmatch(reference):
        raise ValueError(f"reference {reference!r} is empty or has characters other than A-Z, a-z, 0-9, space, . and -")
    if len(reference) > REFERENCE_MAX:
        raise ValueError(f"reference {reference!r} is {len(reference)} characters long; at most {REFERENCE_MAX} fit")
    beneficiary = field("00", bank_bin) + field("01", account)
    merchant = field("00", NAPAS_GUID) + field("01", beneficiary) + field("02", TO_ACCOUNT)
    body = (
        field("00", "01")
        + field("01", DYNAMIC)
        + field("38", merchant)
        + field("53", VND)
        + field("54", str(amount_vnd))
        + field("58", "VN")
        + field("62", field("08", reference))
        + CRC_FIELD
    )
    return body + crc16(body)


def parse(text: str) -> dict[str, str]:
    """The fields of a VietQR (or any EMVCo) string by ID, those of the templates 38 and 62 as dotted
    IDs ("38.00", "38.01.00", "62.08"), the templates (38, 38.01, 62) themselves kept whole too; raises ValueError if
    the string is cut, malformed or its CRC does not match."""
    if len(text) < 8 or text[-8:-4] != CRC_FIELD:
        raise ValueError("the string does not end with a CRC field (6304 and 4 hex digits)")
    if crc16(text[:-4]) != text[-4:].upper():
        raise ValueError(f"CRC {text[-4:]} does not match the string's {crc16(text[:-4])}")
    return _fields(text, "")


def _fields(text: str, prefix: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    at = 0
    while at < len(text):
        tag, length = text[at : at + 2], text[at + 2 : at + 4]
        if not (tag.isdigit() and length.isdigit()) or at + 4 + int(length) > len(text):
            raise ValueError(f"malformed field at {prefix}{at}: {text[at : at + 8]!r}")
        value = text[at + 4 : at + 4 + int(length)]
        key = prefix + tag
        fields[key] = value
        if key in TEMPLATES:
            fields |= _fields(value, key + ".")
        at += 4 + int(length)
    return fields


def svg(text: str) -> str:
    """The QR code of `text` as an inline SVG element of about 200 px (no XML declaration), titled
    for screen readers, for an HTML page; error correction level M, as on printed VietQR codes."""
    code = segno.make_qr(text, error="m")
    side = code.symbol_size(scale=1)[0]  # modules, quiet zone included
    return code.svg_inline(scale=max(1, round(SVG_PX / side)), title=SVG_TITLE, dark="#000", light="#fff")
