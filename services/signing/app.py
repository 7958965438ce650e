"""Signing (ký số): each approved result becomes a PDF that its leader signs and its unit seals."""

from __future__ import annotations

from functools import partial

import httpx
from motcua_contracts import DossierApproved

from services.runtime import Service, Tx
from services.runtime.auth import TokenVerifier
from services.runtime.telemetry import current_trace_headers

from . import domain, store
from .api import router
from .context import Signing, start
from .settings import SigningSettings


async def on_dossier_approved(event: DossierApproved, tx: Tx, signing: Signing) -> None:
    """Keep the approved result, waiting for its leader's signature (nothing is signed without them)."""
    signing.approvals.check(event)  # a forged or altered approval is dead-lettered, never signed
    assert tx.cause is not None
    holder = signing.personal.open_holder(event.holder, event.dossier_code) if event.holder else None
    store.add_result(
        tx,
        {
            "_id": domain.result_code(event.dossier_code),
            "dossier_code": event.dossier_code,
            "commune": tx.cause.commune,
            "state": store.AWAITING,
            "unit": event.competent_unit,
            "approver_id": event.approver_id,
            "approved_by": event.approved_by,
            "approved_at": tx.cause.time,
            "title": event.result_title,
            "procedure_code": event.procedure_code,
            "procedure_name": event.procedure_name,
            "field": event.field,
            "holder": holder or domain.UNNAMED_HOLDER,
            "trace": current_trace_headers(),  # the leader's signature continues the dossier's trace
        },
    )


def create(
    settings: SigningSettings | None = None,
    verifier: TokenVerifier | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Service[Signing]:
    """Signing as a service; tests may pass their own verifier of officials' tokens and a
    transport that reaches the CA and the timestamp authority in process."""
    return Service(
        "signing",
        settings or SigningSettings(),
        handlers={DossierApproved: on_dossier_approved},
        routers=[router],
        context=partial(start, verifier=verifier, transport=transport),
    )
