"""Signing (ký số): signs approved results with the competent agency's key."""

from __future__ import annotations

from functools import partial

from motcua_contracts import DossierApproved, ResultSigned

from services.runtime import Service, Tx, utcnow
from services.runtime.auth import TokenVerifier

from . import domain, store
from .api import router
from .context import Signing, start
from .settings import SigningSettings


async def on_dossier_approved(event: DossierApproved, tx: Tx, signing: Signing) -> None:
    signing.approvals.check(event)  # a forged or altered approval is dead-lettered, never signed
    code = domain.result_code(event.dossier_code)
    signed_at = utcnow()
    document = domain.result_document(event.dossier_code, code, event.result_title, event.competent_unit, signed_at)
    signature = domain.sign(document, signing.key)
    store.save_signature(
        tx,
        {
            "_id": code,
            "dossier_code": event.dossier_code,
            "document": document,
            "signature": signature,
            "algorithm": domain.ALGORITHM,
            "key_id": domain.key_id(signing.key),
            "signed_at": signed_at,
        },
    )
    tx.emit(
        ResultSigned(
            dossier_code=event.dossier_code,
            result_code=code,
            document_sha256=domain.sha256(document),
            signature=signature,
            algorithm=domain.ALGORITHM,
            key_id=domain.key_id(signing.key),
            signed_at=signed_at,
        )
    )


def create(settings: SigningSettings | None = None, verifier: TokenVerifier | None = None) -> Service[Signing]:
    """Signing as a service; tests may pass their own verifier of officials' tokens."""
    return Service(
        "signing",
        settings or SigningSettings(),
        handlers={DossierApproved: on_dossier_approved},
        routers=[router],
        context=partial(start, verifier=verifier),
    )
