"""Receipts' access tokens (mã truy cập của giấy tiếp nhận): the proof that opens a dossier's
receipt, its signed result and the owner's requests after receipt.

Dossier codes are sequential and printed on paper, so they prove nothing. The token is a
keyed MAC of the code: base64url of HMAC-SHA256(key, "receipt:" + code), 256 bits. Intake
issues it on the receipt; any service that holds the key (`MOTCUA_RECEIPT_TOKEN_KEY`) can
check it without asking intake, and nobody without the key can make one. The "receipt:"
prefix keeps the key's MACs apart from any other use it might be put to.

Upload tokens (`upload:` prefix) are the same kind of proof for a file: the document store
(digitisation) answers an upload with one, and intake takes a component's document id and
hash only with its token, without asking digitisation.

Pay tokens (`pay:` prefix) open only a dossier's payment page (its fee, the gateways, the
transfer QR, the electronic receipt): intake prints the link on the receipt and payment checks
it; a leaked pay link lets someone pay the fee, nothing more.

Link tokens (`survey:`, `complaint:`, `notices:` prefixes) open one of notification's pages for
one dossier: the satisfaction survey sent with the result, the complaint form and the choice of
channels linked from the tracking page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Annotated

from fastapi import Query

PURPOSE = b"receipt:"
UPLOAD = b"upload:"
PAY = b"pay:"
SURVEY, COMPLAINT, NOTICES = b"survey:", b"complaint:", b"notices:"  # notification's pages
# The query parameter that carries it; without it a dossier or its result is not found.
ReceiptToken = Annotated[str, Query(description="The receipt's `access_token`; without it the dossier is not found.")]


def receipt_token(key: bytes, dossier_code: str) -> str:
    """The access token printed on the receipt of dossier `dossier_code`."""
    mac = hmac.new(key, PURPOSE + dossier_code.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def same_token(expected: str, token: str) -> bool:
    """Whether `token` is `expected`, compared in constant time (a wrong guess learns nothing)."""
    return hmac.compare_digest(expected.encode(), token.encode())


def opens(key: bytes, dossier_code: str, token: str) -> bool:
    """Whether `token` is the access token of dossier `dossier_code`'s receipt."""
    return same_token(receipt_token(key, dossier_code), token)


def upload_token(key: bytes, document_id: str, sha256: str) -> str:
    """The token the document store answers an upload with: proof, for intake, that the file
    `sha256` was stored under `document_id` and passed the checks (same key, its own purpose)."""
    mac = hmac.new(key, UPLOAD + f"{document_id}:{sha256}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def upload_proved(key: bytes, document_id: str, sha256: str, token: str) -> bool:
    """Whether `token` is the upload token of file `sha256` stored as `document_id`."""
    return same_token(upload_token(key, document_id, sha256), token)


def pay_token(key: bytes, dossier_code: str) -> str:
    """The token of dossier `dossier_code`'s payment page (same key, its own purpose)."""
    mac = hmac.new(key, PAY + dossier_code.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def pays(key: bytes, dossier_code: str, token: str) -> bool:
    """Whether `token` opens dossier `dossier_code`'s payment page."""
    return same_token(pay_token(key, dossier_code), token)


def link_token(key: bytes, purpose: bytes, dossier_code: str) -> str:
    """The token of one of a dossier's pages (`purpose`: SURVEY, COMPLAINT, NOTICES)."""
    mac = hmac.new(key, purpose + dossier_code.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def link_opens(key: bytes, purpose: bytes, dossier_code: str, token: str) -> bool:
    return same_token(link_token(key, purpose, dossier_code), token)
