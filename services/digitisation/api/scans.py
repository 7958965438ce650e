"""Scans at the counter (số hóa tại bộ phận một cửa): the receiving officer scans a paper
component, the platform assembles the pages into one PDF (the electronic copy), the officer
signs it with their own certificate at signing's `POST /scans/signature` and hands the signed
copy back; then it is the component's document, and once every component has one, the dossier
is digitised.

1. `POST /dossiers/{code}/scans` (multipart: `component`, one or more `pages`) → the copy's id;
2. `GET /scans/{id}/copy` → the PDF to sign;
3. `POST /scans/{id}/signed` (the signed PDF) → the component's document.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from motcua_contracts import new_event_id
from opentelemetry.trace import SpanKind
from pydantic import BaseModel

from services.runtime import Runtime, RuntimeDep, Tx, utcnow
from services.runtime.telemetry import dossier_span
from services.runtime.web import answers

from .. import store
from ..assembly import assemble
from ..context import Digitisation, DigitisationDep
from ..domain import StoredDocument, retain_until
from ..signatures import NotVouched, check
from ..upload import received
from .access import not_found, official_of
from .documents import shown
from .uploads import files_in, form_of

router = APIRouter(tags=["scans"], responses=answers(401, 404, 503))
SCAN_HOURS = 24  # an assembled copy waits this long for its signature
PDF = "application/pdf"


class Copy(BaseModel):
    scan_id: str
    dossier_code: str
    component: str
    pages: int
    sha256: str
    size: int
    copy_url: str


@router.post("/dossiers/{code}/scans", status_code=201, responses=answers(409, 413, 415, 422))
async def scan(code: str, request: Request, runtime: RuntimeDep, digitisation: DigitisationDep) -> Copy:
    """Assemble the scanned pages (`pages`: images or PDFs, in order) of the paper component
    `component` into its electronic copy, for the officer to sign. 404 unless routing put the
    officer on the dossier (claim its step first); 409 if the component has its copy already."""
    official = await official_of(request, digitisation)
    dossier = await store.find_dossier(runtime, code)
    if dossier is None or not await store.may_read(runtime, official, code):
        raise not_found(f"dossier {code!r}")
    form = await form_of(request, digitisation.settings.max_files_per_scan)
    pages, name = files_in(form, "pages"), form.get("component")
    component = dossier.component(name) if isinstance(name, str) else None
    if component is None:
        raise HTTPException(422, "name the dossier's component scanned (`component`), as the dossier names it")
    if component.digitised:
        raise HTTPException(409, f"component {component.name!r} has its electronic copy already")
    async with received(runtime, pages, digitisation.limits) as files:
        try:
            copy, count = await runtime.workers.run(assemble, [f.path for f in files], digitisation.limits)
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
    sha256 = hashlib.sha256(copy).hexdigest()
    await runtime.files.put(sha256, copy)
    now = utcnow()
    record = {
        "_id": f"SC-{new_event_id()}",
        "dossier_code": code,
        "component": component.index,
        "official": official,
        "sha256": sha256,
        "size": len(copy),
        "pages": count,
        "created_at": now,
        "expires_at": now + timedelta(hours=SCAN_HOURS),
    }
    await runtime.documents.insert(store.SCANS, [record])
    return Copy(
        scan_id=record["_id"],
        dossier_code=code,
        component=component.name,
        pages=count,
        sha256=sha256,
        size=len(copy),
        copy_url=f"/scans/{record['_id']}/copy",
    )


async def _own_scan(
    request: Request, runtime: Runtime[Any], digitisation: Digitisation, scan_id: str
) -> tuple[str, dict]:
    official = await official_of(request, digitisation)
    record = await store.find_scan(runtime, scan_id)
    if record is None or record["official"] != official:
        raise not_found(f"scan {scan_id!r}")
    return official, record


@router.get("/scans/{scan_id}/copy", response_class=Response, responses={200: {"content": {PDF: {}}}})
async def copy_to_sign(scan_id: str, request: Request, runtime: RuntimeDep, digitisation: DigitisationDep) -> Response:
    """The assembled copy, for the officer who scanned it to sign."""
    _, record = await _own_scan(request, runtime, digitisation, scan_id)
    return Response(await runtime.files.read(record["sha256"]), media_type=PDF)


@router.post(
    "/scans/{scan_id}/signed",
    responses=answers(409, 413, 415, 422),
    openapi_extra={"requestBody": {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def signed(scan_id: str, request: Request, runtime: RuntimeDep, digitisation: DigitisationDep) -> dict[str, Any]:
    """The copy signed by the officer who scanned it (the request body, `application/pdf`): it
    becomes the component's document. 422 if it is not that copy, or the signature does not hold."""
    official, record = await _own_scan(request, runtime, digitisation, scan_id)
    if request.headers.get("content-type", "").split(";")[0].strip() != PDF:
        raise HTTPException(415, "send the signed PDF as the request body with Content-Type: application/pdf")
    body = await request.body()
    copy = await runtime.files.read(record["sha256"])
    try:
        roots = [root.dump() for root in digitisation.roots]
        signer = await runtime.workers.run(check, body, copy, official, roots)
    except NotVouched as refusal:
        raise HTTPException(422, str(refusal)) from None
    sha256 = hashlib.sha256(body).hexdigest()
    await runtime.files.put(sha256, body)
    retention = digitisation.settings.retention_years

    async def keep(tx: Tx) -> StoredDocument:
        dossier = await store.load_dossier(tx, record["dossier_code"])
        assert dossier is not None  # a scan is made only for a known dossier
        component = dossier.components[record["component"] - 1]
        if component.digitised:
            raise HTTPException(409, f"component {component.name!r} has its electronic copy already")
        now = utcnow()
        document = StoredDocument(
            _id=dossier.document_id(component),
            sha256=sha256,
            size=len(body),
            media_type=PDF,
            pages=record["pages"],
            source="scanned",
            dossier_code=dossier.code,
            component=component.name,
            kind=component.kind,
            owner=dossier.owner,
            unit=dossier.unit,
            signer=signer,
            stored_at=now,
            retain_until=retain_until(now, retention),
            recognition="pending",
        )
        store.save_document(tx, document)
        dossier.attach(component, document)
        if done := dossier.complete(now):
            tx.emit(done, commune=dossier.commune)
        store.save_dossier(tx, dossier)
        return document

    dossier = await store.find_dossier(runtime, record["dossier_code"])
    trace = dossier.trace if dossier else {}
    with dossier_span(runtime.tracer, "digitisation scan signed", record["dossier_code"], trace, SpanKind.SERVER):
        document = await runtime.transact(keep)  # its dossier.digitised continues the dossier's trace
    return shown(document)
