"""The officer's signature on a scanned copy (chữ ký số trên bản sao điện tử), checked before the
copy becomes a component's document: the signed PDF is the very copy the platform assembled
(an incremental update leaves the signed bytes in front), it carries one signature, intact,
covering that copy, by a certificate that chains to the trusted roots and names the officer
who asks (its `UID` is their official id), timestamped. pyHanko does the checking, offline:
the signature carries its certificates and revocation answers (PAdES B-LT). `check` runs it in
a worker process (tens of milliseconds of pure Python per copy)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from io import BytesIO

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from .domain import Signer


class NotVouched(ValueError):
    """The signed copy is not accepted; the message says why."""


async def vouched(signed: bytes, copy: bytes, official: str, roots: list[x509.Certificate]) -> Signer:
    """Who signed `signed`, a signed version of `copy`, if it is `official` and the signature holds."""
    if len(signed) <= len(copy) or not signed.startswith(copy):
        raise NotVouched("the signed PDF is not the copy the platform assembled for this scan")
    try:
        reader = PdfFileReader(BytesIO(signed), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception as error:
        raise NotVouched(f"not a readable PDF: {type(error).__name__}") from None
    if len(signatures) != 1:
        raise NotVouched(f"the copy must carry exactly one signature, the officer's; it carries {len(signatures)}")
    [signature] = signatures
    options = {"trust_roots": roots, "allow_fetching": False, "retroactive_revinfo": True}
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        context = dss.as_validation_context(options)
    except Exception:  # no DSS: validated with what the signature carries
        context = ValidationContext(**options)
    try:
        status = await async_validate_pdf_signature(signature, context, ts_validation_context=context)
    except Exception as error:
        raise NotVouched(f"the signature cannot be checked: {type(error).__name__}") from None
    if signature.signed_revision != _revisions(copy) or not (status.intact and status.valid):
        # signed in the first revision after the copy: nothing was slipped in between
        raise NotVouched("the signature does not hold for the copy: it was changed before or after signing")
    if status.modification_level not in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES):
        raise NotVouched("the copy was changed after it was signed")
    if not status.trusted:
        raise NotVouched("the signing certificate does not chain to the platform's trusted roots")
    if status.revoked:
        raise NotVouched("the signing certificate is revoked")
    subject = status.signing_cert.subject.native
    if subject.get("user_id") != official:
        raise NotVouched("the copy is signed by another official: the officer who scanned it signs it")
    timestamp = status.timestamp_validity
    signed_at: datetime | None = timestamp.timestamp if timestamp is not None else None
    return Signer(official=official, name=subject.get("common_name"), signed_at=signed_at)


def check(signed: bytes, copy: bytes, official: str, roots: list[bytes]) -> Signer:
    """`vouched`, for a worker process: the roots as DER."""
    return asyncio.run(vouched(signed, copy, official, [x509.Certificate.load(der) for der in roots]))


def _revisions(copy: bytes) -> int:
    return PdfFileReader(BytesIO(copy), strict=False).xrefs.total_revisions
