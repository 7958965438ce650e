"""A result document signed as Vietnamese official documents are: the leader's personal
signature, then the unit's organisation signature (the seal) over part of it, each PAdES with
a signature timestamp (B-T), then the validation data of both in the document security store
(B-LT). pyHanko writes the PDF; `cms.PreparedSigner` makes the CMS; the revocation answers
come from `revocation`, fetched once for a whole batch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.stamp import BaseStampStyle

from services.runtime.clock import local

from .cms import LAST_SIGNATURE, PreparedSigner
from .revocation import ValidationData

SIGNATURE_BYTES = 12 * 1024  # reserved for each CMS: two certificates, the timestamp token with its own
LEVEL = "PAdES-B-LT"


@dataclass(frozen=True)
class Mark:
    """One signature: the field, where it shows and how it looks (none: an invisible signature),
    who signs, and why."""

    field: str
    box: tuple[float, float, float, float] | None
    style: BaseStampStyle | None
    signer: PreparedSigner
    reason: str


@dataclass(frozen=True)
class Signed:
    document: bytes
    sha256: str
    signature: bytes  # the leader's signature value
    signed_at: datetime  # when the leader signed (the local clock; the timestamp token holds the TSA's time)


async def sign_result(
    document: bytes, leader: Mark, seal: Mark, timestamper: TimeStamper, validation: ValidationData, page: int
) -> Signed:
    """The leader's signature, the seal, then one DSS revision with the batch's validation data."""
    return await sign_document(document, [leader, seal], timestamper, validation, page)


async def sign_document(
    document: bytes, marks: list[Mark], timestamper: TimeStamper, validation: ValidationData, page: int
) -> Signed:
    """Each mark's signature in turn (B-T), then one DSS revision with the validation data (B-LT)."""
    signed_at = datetime.now().astimezone()
    first_signature = b""
    for mark in marks:
        document, signature = await _sign(document, mark, timestamper, page, signed_at)
        first_signature = first_signature or signature
    writer = IncrementalPdfFileWriter(BytesIO(document))
    certificates, ocsps, crls = validation.asn1()
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=certificates, ocsps=ocsps, crls=crls)
    out = BytesIO()
    writer.write(out)
    final = out.getvalue()
    return Signed(final, hashlib.sha256(final).hexdigest(), first_signature, signed_at)


async def _sign(
    document: bytes, mark: Mark, timestamper: TimeStamper, page: int, signed_at: datetime
) -> tuple[bytes, bytes]:
    metadata = PdfSignatureMetadata(
        field_name=mark.field,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=mark.reason,
        name=mark.signer.signatory.name,
    )
    signer = PdfSigner(
        metadata,
        signer=mark.signer,
        timestamper=timestamper,
        stamp_style=mark.style,
        new_field_spec=SigFieldSpec(mark.field, on_page=page, box=mark.box),  # no box: invisible
    )
    LAST_SIGNATURE.set(None)
    when = local(signed_at).strftime("%d/%m/%Y %H:%M:%S %z")
    output = await signer.async_sign_pdf(
        IncrementalPdfFileWriter(BytesIO(document)),
        bytes_reserved=SIGNATURE_BYTES,
        appearance_text_params={"signer": mark.signer.signatory.name, "ts": f"{when[:-2]}:{when[-2:]}"},
    )
    signature = LAST_SIGNATURE.get()
    if signature is None:  # pyHanko signed in another task: read it from the document
        signature = PdfFileReader(BytesIO(output.getvalue())).embedded_signatures[-1].signer_info["signature"].native
    return output.getvalue(), signature
