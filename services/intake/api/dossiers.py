"""Submitting a dossier on any channel: check, build, store with its event, answer the receipt."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Response
from opentelemetry.trace import SpanKind

from services.runtime import DOSSIER_ATTRIBUTE, Duplicate, Runtime, RuntimeDep, Tx, utcnow
from services.runtime.clock import local
from services.runtime.limits import Limited
from services.runtime.logs import current_dossier
from services.runtime.web import answers

from .. import domain, store
from ..context import IntakeContext, IntakeDep
from ..received import Receipt, ReceivedDossier, receive
from ..submission import Accepted, Problem, Refused, Submission, check
from ..timeline import Timeline
from .receipts import receipt_of

log = logging.getLogger(__name__)
router = APIRouter(tags=["submission"])


def refusal(message: str, problems: list[Problem]) -> HTTPException:
    """Every problem in one answer, with the most specific one's status."""
    return HTTPException(Refused(problems).status, {"message": message, "problems": [p.as_json() for p in problems]})


REPLAYED = {200: {"model": Receipt, "description": "The first submission's receipt (same Idempotency-Key)."}}
BUSY = "Hệ thống đang tiếp nhận quá nhiều hồ sơ; hồ sơ chưa được tiếp nhận, vui lòng gửi lại sau {seconds} giây."


async def submission_turn(intake: IntakeDep) -> AsyncIterator[None]:
    """A turn among the submissions this process works on at once; beyond them, a 503 within a
    moment (with `Retry-After`) instead of a late answer, before anything is read or stored."""
    try:
        async with intake.submissions.turn():
            yield
    except Limited as busy:
        wait = busy.retry_after_s
        raise HTTPException(503, BUSY.format(seconds=wait), {"Retry-After": str(wait)}) from None


@router.post(
    "/dossiers",
    status_code=201,
    responses=REPLAYED | answers(404, 409, 503),
    dependencies=[Depends(submission_turn)],
)
async def submit_dossier(
    submission: Submission,
    runtime: RuntimeDep,
    intake: IntakeDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(min_length=8, max_length=200)] = None,
) -> Receipt:
    """Receive a dossier; answers with its code, due date and receipt.

    With an `Idempotency-Key` header, a retried or double-clicked submission gets the
    first one's receipt (200) instead of creating a second dossier; the same key with
    another body gets 409.
    """
    # Keyed: the body holds the identity number, which must not be recoverable from a stored hash.
    fingerprint = hmac.new(
        intake.settings.hash_key(), submission.model_dump_json().encode(), hashlib.sha256
    ).hexdigest()
    if idempotency_key and (earlier := await replayed(runtime, idempotency_key, fingerprint)):
        response.status_code = 200
        return earlier
    owner = domain.identity_hash(submission.applicant.identity_number, intake.settings.hash_key())
    holdings = await store.holdings_of(runtime, owner, utcnow())
    checked = check(submission, intake.catalogue, intake.units.communes, intake.settings.receipt_key(), holdings)
    if isinstance(checked, Refused):
        raise refusal("the dossier cannot be received", checked.problems)

    async def store_dossier(tx: Tx) -> ReceivedDossier:
        return await record_dossier(tx, checked, intake, idempotency_key, fingerprint)

    with runtime.tracer.start_as_current_span("intake receive dossier", kind=SpanKind.SERVER) as span:
        try:
            dossier = await runtime.transact(store_dossier)
        except Duplicate:
            # The same key committed concurrently: answer with that submission's receipt.
            if idempotency_key and (earlier := await replayed(runtime, idempotency_key, fingerprint)):
                response.status_code = 200
                return earlier
            raise
        span.set_attribute(DOSSIER_ATTRIBUTE, dossier.code)
    token = current_dossier.set(dossier.code)
    log.info("dossier received", extra={"fields": {"procedure": checked.procedure.code, "channel": submission.channel}})
    current_dossier.reset(token)
    return dossier.receipt(intake.settings.pay_url(dossier.code))


async def record_dossier(
    tx: Tx, accepted: Accepted, intake: IntakeContext, idempotency_key: str | None, fingerprint: str
) -> ReceivedDossier:
    """Number, store and announce the dossier in one transaction (so codes are gap-free)."""
    received_at = utcnow()
    commune = accepted.submission.commune_code
    sequence = await store.next_sequence(tx, commune, local(received_at).date())
    dossier = receive(
        accepted,
        sequence,
        received_at,
        intake.calendar,
        intake.settings.hash_key(),
        intake.settings.receipt_key(),
        intake.personal,
        intake.settings.payment_window,
    )
    if idempotency_key:
        await store.claim_idempotency_key(tx, idempotency_key, fingerprint, dossier.code)
    store.add_dossier(tx, dossier, Timeline.received(dossier.event()))
    tx.emit(dossier.event(), commune=commune)
    return dossier


async def replayed(runtime: Runtime[IntakeContext], key: str, fingerprint: str) -> Receipt | None:
    """The receipt of an earlier submission with this idempotency key, if any."""
    earlier = await store.find_submission(runtime, key)
    if earlier is None:
        return None
    if not hmac.compare_digest(earlier["request_hash"], fingerprint):
        raise HTTPException(409, "this Idempotency-Key was used for a different submission")
    dossier = await store.find_dossier(runtime, earlier["dossier_code"])
    assert dossier is not None  # stored in the same transaction as the key
    return await receipt_of(runtime, dossier)
