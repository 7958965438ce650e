"""Digitisation (số hóa): the document store. Every component of a received dossier gets its
electronic copy (the applicant's upload, the officer's signed scan, or a document of the owner's
e-data store reused), every signed result is archived in the owner's e-data store, and scans are
recognised (OCR) in worker processes for officials to search."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from motcua_contracts import (
    DossierAssigned,
    DossierReceived,
    DossierStepStarted,
    DossierSupplemented,
    ResultArchived,
    ResultSigned,
)

from services.runtime import Service, Tx, current_trace_headers, utcnow
from services.runtime.auth import TokenVerifier

from . import recognition, store
from .api import ROUTERS
from .context import Digitisation, start
from .domain import Component, DossierFiles, StoredDocument, retain_until
from .settings import DigitisationSettings


async def on_dossier_received(event: DossierReceived, tx: Tx, digitisation: Digitisation) -> None:
    """Attach the applicant's uploads and the reused documents; paper components await their scans."""
    assert tx.cause is not None
    if await store.load_dossier(tx, event.dossier_code) is not None:
        return
    owner = digitisation.personal.open_owner(event.owner, event.dossier_code) if event.owner else None
    dossier = DossierFiles.received(event, tx.cause.commune, owner)
    dossier.trace = current_trace_headers()  # this handler's span, in the trace intake started
    await _attach(tx, digitisation, dossier, dossier.components)


async def on_supplemented(event: DossierSupplemented, tx: Tx, digitisation: Digitisation) -> None:
    """The owner's supplement: its uploads are attached, its paper awaits scans."""
    dossier = await store.load_dossier(tx, event.dossier_code)
    if dossier is None:
        raise LookupError(f"a supplement of {event.dossier_code}, which digitisation never received")
    await _attach(tx, digitisation, dossier, dossier.add_components(event.components))


async def _attach(tx: Tx, digitisation: Digitisation, dossier: DossierFiles, components: list[Component]) -> None:
    now = utcnow()
    for component in components:
        if component.form == "paper":
            continue
        document = await _copy_of(tx, digitisation, dossier, component, now)
        if document is None:
            continue
        store.save_document(tx, document)
        dossier.attach(component, document)
    if done := dossier.complete(now):
        tx.emit(done)
    store.save_dossier(tx, dossier)


async def _copy_of(
    tx: Tx, digitisation: Digitisation, dossier: DossierFiles, component: Component, now: datetime
) -> StoredDocument | None:
    """The component's document made from the applicant's upload or the owner's earlier document;
    None (the component is then scanned from paper) if that cannot be found."""
    common = {
        "_id": dossier.document_id(component),
        "dossier_code": dossier.code,
        "component": component.name,
        "kind": component.kind,
        "owner": dossier.owner,
        "unit": dossier.unit,
        "stored_at": now,
        "retain_until": retain_until(now, digitisation.settings.retention_years),
    }
    if component.form == "electronic":
        upload = await tx.load(store.UPLOADS, component.upload_id) if component.upload_id else None
        if upload is None:
            dossier.missing(component, "the uploaded file was not found (removed after the upload retention days?)")
            return None
        kept = {k: upload[k] for k in ("sha256", "size", "media_type", "pages")}
        return StoredDocument(**common, **kept, source="uploaded", recognition="pending")
    original = await store.load_document(tx, component.upload_id) if component.upload_id else None
    if original is None or original.owner is None or original.owner != dossier.owner:
        dossier.missing(component, "the document to reuse is not in the owner's e-data store")
        return None
    return StoredDocument(
        **common,
        sha256=original.sha256,
        size=original.size,
        media_type=original.media_type,
        pages=original.pages,
        source="reused",
        reused_from=original.id,
        valid_until=original.valid_until,
        signer=original.signer,
        recognition=original.recognition,
        text=original.text,
        words=original.words,
    )


async def on_step(event: DossierStepStarted | DossierAssigned, tx: Tx, digitisation: Digitisation) -> None:
    """Routing put officials on the dossier: they may read its files (and scan its paper)."""
    access = await store.load_access(tx, event.dossier_code)
    access.admit(event.holder)
    if isinstance(event, DossierAssigned):
        access.admit(event.assigned_by)
    store.save_access(tx, access)


async def on_result_signed(event: ResultSigned, tx: Tx, digitisation: Digitisation) -> None:
    """Archive the signed result under its result code, in the owner's e-data store."""
    size = await digitisation.files.size(event.document_sha256)
    if size is None:  # signing stores the file before it announces the signature
        raise LookupError(f"the signed result {event.result_code} is not in the file store")
    dossier = await store.load_dossier(tx, event.dossier_code)
    now = utcnow()
    kind = dossier.result_kind if dossier else None
    valid_until = dossier.result_valid_until(event.signed_at) if dossier else None
    document = StoredDocument(
        _id=event.result_code,
        sha256=event.document_sha256,
        size=size,
        media_type="application/pdf",
        source="result",
        dossier_code=event.dossier_code,
        kind=kind,
        owner=dossier.owner if dossier else None,
        unit=dossier.unit if dossier else None,
        result_code=event.result_code,
        stored_at=now,
        retain_until=retain_until(now, digitisation.settings.retention_years),
        valid_until=valid_until,
        recognition="pending",
    )
    store.save_document(tx, document)
    sealed = digitisation.personal.seal_owner(dossier.owner, event.dossier_code) if dossier and dossier.owner else None
    tx.emit(
        ResultArchived(
            dossier_code=event.dossier_code,
            result_code=event.result_code,
            document_id=document.id,
            sha256=document.sha256,
            unit=document.unit,
            kind=kind,
            owner=sealed,
            valid_until=valid_until,
            archived_at=now,
        )
    )


def create(
    settings: DigitisationSettings | None = None, verifier: TokenVerifier | None = None
) -> Service[Digitisation]:
    """Digitisation as a service; tests may pass their own verifier of officials' tokens."""
    return Service(
        "digitisation",
        settings or DigitisationSettings(),
        handlers={
            DossierReceived: on_dossier_received,
            DossierSupplemented: on_supplemented,
            DossierStepStarted: on_step,
            DossierAssigned: on_step,
            ResultSigned: on_result_signed,
        },
        routers=ROUTERS,
        context=partial(start, verifier=verifier),
        background=[recognition.recognise_documents],
        state=store.DOSSIERS,
    )
