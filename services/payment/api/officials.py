"""Officials' side of payment: the receiving officer records a fee paid at the counter (cash or
card), officials on the dossier see its payment and ledger, and finance officers reconcile a
gateway's statement with the ledger (đối soát). Every route takes an official's access token."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from services.runtime import Runtime, RuntimeDep, Tx, utcnow
from services.runtime.auth import verified_claims
from services.runtime.web import answers

from .. import domain, notices, reconciliation, store
from ..context import Payments, PaymentsDep

router = APIRouter(tags=["payment officials"])
MAX_STATEMENT_BYTES = 20 * 1024 * 1024


class CounterPayment(BaseModel):
    method: Literal["cash", "card"] = Field(description="Cash, or a card at the counter's terminal.")
    amount_vnd: int = Field(gt=0, le=10**12, description="What was taken: must be the fee.")


async def official(request: Request, payments: Payments) -> str:
    """The official a valid access token names (401 if not valid, 503 if the provider is unreachable)."""
    return str((await verified_claims(request, payments.verifier))["sub"])


async def on_dossier(runtime: Runtime[Payments], dossier_code: str, who: str) -> domain.Payment:
    """The payment of a dossier `who` is on (or a finance officer); anyone else: not found."""
    payment = await store.find(runtime, dossier_code)
    if payment is None or (who not in payment.officials and who not in runtime.context.settings.finance):
        raise HTTPException(404, "no payment of a dossier you are on with this code")
    return payment


@router.post("/payments/{dossier_code}/counter", responses=answers(401, 404, 409, 422, 503))
async def counter_payment(
    dossier_code: str, paid: CounterPayment, request: Request, runtime: RuntimeDep, payments: PaymentsDep
) -> dict[str, Any]:
    """The receiving officer took the fee at the counter: the receipt is numbered and `payment.completed` published."""
    who = await official(request, payments)
    await on_dossier(runtime, dossier_code, who)

    async def record(tx: Tx) -> domain.Problem | domain.Payment:
        payment = await store.load(tx, dossier_code)
        assert payment is not None  # payments are never deleted
        if problem := payment.record_counter(paid.method, paid.amount_vnd, who, utcnow()):
            return problem
        await notices.issue_receipt(tx, payments, payment)
        store.save(tx, payment)
        return payment

    outcome = await runtime.transact(record)
    if isinstance(outcome, domain.Problem):
        raise HTTPException(outcome.status, outcome.detail)
    assert outcome.captured is not None
    return {
        "dossier_code": dossier_code,
        "receipt_number": outcome.captured.receipt_number,
        "amount_vnd": outcome.amount_vnd,
        "receipt_url": payments.pay_url(dossier_code).replace("?", "/receipt.pdf?", 1),
    }


@router.get("/payments/{dossier_code}", responses=answers(401, 404, 503))
async def payment_of(dossier_code: str, request: Request, runtime: RuntimeDep, payments: PaymentsDep) -> dict[str, Any]:
    """A dossier's payment as officials see it: its state, orders, capture, refunds and ledger entries."""
    payment = await on_dossier(runtime, dossier_code, await official(request, payments))
    seen = payment.model_dump(mode="json", exclude={"trace", "officials"})
    seen["ledger"] = [entry.model_dump(mode="json") for entry in await store.ledger_of(runtime, dossier_code)]
    return seen


@router.post(
    "/reconciliations",
    responses=answers(400, 401, 403, 404, 413, 503),
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def reconcile(
    gateway: str, day: date, request: Request, runtime: RuntimeDep, payments: PaymentsDep
) -> dict[str, Any]:
    """Reconcile a gateway's statement of `day` (CSV body, see docs/payment.md) with the ledger:
    matched, mismatched and missing lines, stored and answered."""
    who = await official(request, payments)
    if who not in payments.settings.finance:
        raise HTTPException(403, "only finance officers reconcile statements")
    if gateway not in payments.gateways:
        raise HTTPException(404, f"no gateway {gateway!r}; one of {', '.join(payments.gateways)}")
    body = await request.body()
    if len(body) > MAX_STATEMENT_BYTES:
        raise HTTPException(413, "the statement is larger than this service takes")
    try:
        lines = reconciliation.parse_statement(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise HTTPException(400, "the statement is not UTF-8 text") from None
    except reconciliation.StatementError as error:
        raise HTTPException(400, {"problems": error.problems[:100]}) from None
    entries = await store.ledger_of_day(runtime, gateway, day, reconciliation.CUTOFF_WINDOW)
    report = reconciliation.reconcile(gateway, day, lines, entries)
    stored = {
        "_id": f"{gateway}:{day.isoformat()}:{utcnow():%Y%m%dT%H%M%S%f}",
        "by": who,
        "at": utcnow(),
        "report": report.model_dump(mode="json"),
    }
    await runtime.documents.insert(store.RECONCILIATIONS, [stored])
    return {"id": stored["_id"], "text": reconciliation.render(report), **stored["report"]}


@router.get("/reconciliations/{reconciliation_id}", responses=answers(401, 403, 404, 503))
async def reconciliation_of(
    reconciliation_id: str, request: Request, runtime: RuntimeDep, payments: PaymentsDep
) -> dict[str, Any]:
    """A stored reconciliation report."""
    if await official(request, payments) not in payments.settings.finance:
        raise HTTPException(403, "only finance officers read reconciliations")
    stored = await runtime.documents.get(store.RECONCILIATIONS, reconciliation_id)
    if stored is None:
        raise HTTPException(404, "no such reconciliation")
    at: datetime = stored["at"]
    return {"id": stored["_id"], "by": stored["by"], "at": at.isoformat(), **stored["report"]}
