"""Signing (ký số): signs approved results with the competent agency's key."""

from motcua_contracts import DossierApproved, ResultSigned

from services.runtime import Runtime, Service, Tx, utcnow

from . import domain, store
from .api import router
from .settings import settings, signing_key


async def on_dossier_approved(event: DossierApproved, tx: Tx) -> None:
    key = signing_key()
    code = domain.result_code(event.dossier_code)
    signed_at = utcnow()
    document = domain.result_document(event.dossier_code, code, event.result_title, event.competent_unit, signed_at)
    signature = domain.sign(document, key)
    store.save_signature(
        tx,
        {
            "_id": code,
            "dossier_code": event.dossier_code,
            "document": document,
            "signature": signature,
            "algorithm": domain.ALGORITHM,
            "key_id": domain.key_id(key),
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
            key_id=domain.key_id(key),
            signed_at=signed_at,
        )
    )


async def load_key(runtime: Runtime) -> None:
    await store.create_indexes(runtime)
    signing_key()  # fail at start, not on the first dossier, if the key is unreadable


service = Service("signing", settings, handlers={DossierApproved: on_dossier_approved}, api=router, on_start=load_key)
