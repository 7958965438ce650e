"""Checking a signed PDF as anyone holding a copy would: who signed it, when (by the timestamp
authority), whether the bytes are still those signed, whether the certificates chain to the
trusted roots, and their revocation status now (asked of the CA, so a certificate revoked
after it signed is reported). pyHanko does the checking; this module reports it."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from asn1crypto import x509
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from .revocation import RevocationChecker, Revoked, StatusUnavailable, cryptography_certificate


class Unreadable(ValueError):
    """Not a PDF that can be read (the message says what is wrong)."""


async def verify(
    document: bytes, roots: list[x509.Certificate], chain: list[x509.Certificate], checker: RevocationChecker
) -> dict[str, Any]:
    """The report of every signature in `document`, checked against the validation data it
    embeds and, for the certificates' status now, the CA (`checker`); `Unreadable` if it is not
    a readable PDF."""
    try:
        reader = PdfFileReader(BytesIO(document), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError) as error:
        raise Unreadable(f"not a readable PDF: {error}") from None
    dss = _dss(reader)
    signatures = []
    for signature in embedded:
        options = {"trust_roots": roots, "other_certs": chain, "allow_fetching": False, "retroactive_revinfo": True}
        context = dss.as_validation_context(options) if dss else ValidationContext(**options)
        try:
            status = await async_validate_pdf_signature(signature, context, ts_validation_context=context)
        except Exception as error:  # a signature pyHanko cannot even evaluate is reported as broken
            signatures.append({"field": signature.field_name, "valid": False, "problem": str(error)})
            continue
        report = _report(signature.field_name, status, dss is not None)
        report.update(await _status_now(status, checker))
        report["valid"] = report["valid"] and report["certificate_status"] != "revoked"
        signatures.append(report)
    return {
        "signatures": signatures,
        "signed": bool(signatures),
        "valid": bool(signatures) and all(s["valid"] for s in signatures),
    }


def _report(field: str, status: PdfSignatureStatus, has_dss: bool) -> dict[str, Any]:
    certificate = status.signing_cert
    timestamp = status.timestamp_validity
    revocation = status.revocation_details
    signed_at: datetime | None = timestamp.timestamp if timestamp is not None else None
    revoked_at = getattr(revocation, "revocation_date", None) if status.revoked else None
    return {
        "field": field,
        "signer": certificate.subject.native.get("common_name"),
        "organisation": certificate.subject.native.get("organization_name"),
        "issuer": certificate.issuer.native.get("common_name"),
        "serial_number": format(certificate.serial_number, "x"),
        "signed_at": signed_at.isoformat() if signed_at else None,
        "timestamp_valid": bool(timestamp is not None and timestamp.intact and timestamp.valid and timestamp.trusted),
        "intact": bool(status.intact and status.valid),
        "covers": status.coverage.name.lower() if status.coverage else None,
        "modification": status.modification_level.name.lower() if status.modification_level else None,
        "trusted": bool(status.trusted),
        "certificate_status": "revoked" if status.revoked else "unknown",
        "revoked_at": revoked_at.isoformat() if revoked_at else None,
        "level": _level(timestamp is not None, has_dss),
        "valid": bool(status.bottom_line) and timestamp is not None,
    }


def _level(timestamped: bool, has_dss: bool) -> str:
    if not timestamped:
        return "PAdES-B-B"
    return "PAdES-B-LT" if has_dss else "PAdES-B-T"


async def _status_now(status: PdfSignatureStatus, checker: RevocationChecker) -> dict[str, Any]:
    """The signer's certificate status as the CA tells it now (revoked after signing shows too)."""
    if status.revoked or not status.trusted:
        return {}
    try:
        await checker.ocsp_status(cryptography_certificate(status.signing_cert))
    except Revoked as revoked:
        return {"certificate_status": "revoked", "revoked_at": revoked.at.isoformat()}
    except StatusUnavailable:
        return {"certificate_status": "unknown"}
    return {"certificate_status": "good"}


def _dss(reader: PdfFileReader) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS, or one that does not parse: validated without it
        return None
