"""A leader signs results: the service layer between the HTTP edge and the PDF signatures.

Signing is the leader's act: a request authenticated as the approving leader (their access
token from the identity provider) unlocks the use of their key in the token, for the results
they approved and nothing else. For a batch the revocation status of every certificate is
asked once; then each result is rendered, signed by the leader, sealed by the unit, and
committed with its `result.signed` event in one transaction that first checks it is still
unsigned. A retried request, or one after a restart mid-batch, signs only what is left; two
requests racing for one result commit one signature.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from motcua_contracts import ResultSigned
from opentelemetry.trace import SpanKind
from pyhanko.pdf_utils.misc import PdfReadError

from services.runtime import Runtime, Tx, utcnow
from services.runtime.telemetry import dossier_span

from . import document, store
from .context import Signing
from .keys import NoSignatory, official_label, unit_label
from .pades import LEVEL, Mark, sign_document, sign_result
from .revocation import Revoked, StatusUnavailable

SCAN_FIELD = "SoHoa"  # số hóa: the officer's signature on a scanned copy
IN_FLIGHT = 8  # results of one batch signed at once: the timestamp requests overlap


class Refusal(Exception):
    """The whole request is refused (the message says why); `status` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    signed: list[dict[str, Any]] = field(default_factory=list)
    already_signed: list[str] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)

    def refuse(self, code: str, reason: str) -> None:
        self.refused.append({"result_code": code, "reason": reason})


async def sign(runtime: Runtime[Signing], official: str, result_codes: list[str]) -> Outcome:
    """Sign `result_codes` as `official` (the token's subject); each result once."""
    signing, outcome = runtime.context, Outcome()
    records = await store.find_many(runtime, result_codes)
    mine = []
    for code in dict.fromkeys(result_codes):
        record = records.get(code)
        if record is None:
            outcome.refuse(code, "no approved result with this code")
        elif record["state"] == store.SIGNED:
            outcome.already_signed.append(code)
        elif record["approver_id"] != official:
            outcome.refuse(code, "only the leader who approved the dossier signs its result")
        else:
            mine.append(record)
    if mine:
        try:
            await _sign_records(runtime, signing, official, mine, outcome)
        except Refusal as refusal:
            await store.audit(runtime.documents, official, "refused", [r["_id"] for r in mine], str(refusal))
            raise
    if outcome.refused:
        await store.audit(
            runtime.documents,
            official,
            "refused",
            [r["result_code"] for r in outcome.refused],
            "; ".join(sorted({r["reason"] for r in outcome.refused})),
        )
    return outcome


async def sign_scan(runtime: Runtime[Signing], official: str, document: bytes) -> bytes:
    """The electronic copy of a paper component, signed by the officer who scanned it (their
    personal certificate, an invisible PAdES B-LT signature): the officer vouches for its fidelity.
    `Refusal` if the officer has no certificate, it is revoked, or the PDF does not read."""
    signing = runtime.context
    try:
        officer = signing.signer(official_label(official))
        validation = await signing.revocation_data([officer])
        mark = Mark(SCAN_FIELD, None, None, officer, "Bản sao điện tử đúng với bản giấy")
        signed = await sign_document(document, [mark], signing.timestamper, validation, page=0)
    except NoSignatory as missing:
        await store.audit(runtime.documents, official, "refused", [], f"scan: {missing}")
        raise Refusal(409, str(missing)) from None
    except Revoked as revoked:
        await store.audit(runtime.documents, official, "refused", [], f"scan: {revoked}")
        raise Refusal(403, f"signing refused: {revoked}") from None
    except StatusUnavailable as unavailable:
        raise Refusal(503, f"signing postponed: {unavailable}") from None
    except (PdfReadError, ValueError) as unreadable:
        raise Refusal(400, f"not a PDF that can be signed: {unreadable}") from None
    await store.audit(runtime.documents, official, "signed", [], f"scan {signed.sha256}")
    return signed.document


async def _sign_records(
    runtime: Runtime[Signing], signing: Signing, official: str, records: list[dict[str, Any]], outcome: Outcome
) -> None:
    try:
        leader = signing.signer(official_label(official))
        seals = {unit: signing.signer(unit_label(unit)) for unit in {r["unit"] for r in records}}
    except NoSignatory as missing:
        raise Refusal(409, str(missing)) from None
    try:
        validation = await signing.revocation_data([leader, *seals.values()])
    except Revoked as revoked:
        raise Refusal(403, f"signing refused: {revoked}") from None
    except StatusUnavailable as unavailable:
        raise Refusal(503, f"signing postponed: {unavailable}") from None
    limit = asyncio.Semaphore(IN_FLIGHT)

    async def one(record: dict[str, Any]) -> None:
        async with limit:
            unit_name = signing.unit_name(record["unit"])
            pdf = await runtime.workers.run(
                document.render, signing.facts(record, unit_name), signing.template(record), *signing.fonts
            )
            leader_mark = signing.leader_mark(leader)
            seal_mark = signing.seal_mark(seals[record["unit"]], unit_name)
            trace = record.get("trace") or {}
            with dossier_span(runtime.tracer, "signing sign", record["dossier_code"], trace, SpanKind.SERVER):
                signed = await sign_result(pdf, leader_mark, seal_mark, signing.timestamper, validation, page=-1)
                # the file first, then the record and its event: an event never names a file not stored
                await runtime.files.put(signed.sha256, signed.document)
                committed = await runtime.transact(lambda tx: _commit(tx, signing, record, signed, leader, seals))
            if committed:
                outcome.signed.append({"result_code": record["_id"], "sha256": signed.sha256})
            else:
                outcome.already_signed.append(record["_id"])

    await asyncio.gather(*(one(record) for record in records))
    if outcome.signed:
        await store.audit(runtime.documents, official, "signed", [s["result_code"] for s in outcome.signed])


async def _commit(tx: Tx, signing: Signing, record: dict[str, Any], signed: Any, leader: Any, seals: Any) -> bool:
    """Keep the signed result and announce it, unless another request signed it first."""
    current = await tx.load(store.RESULTS, record["_id"])
    if current is None or current["state"] != store.AWAITING:
        return False
    seal = seals[record["unit"]]
    signed_at: datetime = signed.signed_at
    tx.save(
        store.RESULTS,
        current
        | {
            "state": store.SIGNED,
            "sha256": signed.sha256,  # the signed PDF is in the file store under it
            "signed_at": utcnow(),
            "level": LEVEL,
            "leader": {"name": leader.signatory.name, "certificate_sha256": leader.signatory.fingerprint},
            "seal": {"name": seal.signatory.name, "certificate_sha256": seal.signatory.fingerprint},
        },
    )
    tx.emit(
        ResultSigned(
            dossier_code=record["dossier_code"],
            result_code=record["_id"],
            document_sha256=signed.sha256,
            signature=base64.b64encode(signed.signature).decode(),
            algorithm=LEVEL,
            key_id=leader.signatory.fingerprint[:16],
            signed_at=signed_at,
            signed_by=leader.signatory.name,
            sealed_by=record["unit"],
            verify_url=signing.verify_url(record["_id"]),
        ),
        commune=record["commune"],
    )
    return True
