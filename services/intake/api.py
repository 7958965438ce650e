"""Intake's HTTP edge: submit a dossier on any channel, read the catalogue."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response
from motcua_contracts import Applicant, ComponentReceived, DossierReceived
from motcua_contracts.events import Channel
from opentelemetry.trace import SpanKind
from pydantic import AfterValidator, BaseModel, Field
from pymongo.errors import DuplicateKeyError

from services.runtime import DOSSIER_ATTRIBUTE, Runtime, RuntimeDep, Tx, utcnow
from services.runtime.calendar import WorkCalendar
from services.runtime.clock import local
from services.runtime.logs import current_dossier
from services.runtime.units import Unit, Units

from . import domain, slip, store
from .settings import settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["intake"])


@dataclass
class Catalogue:
    """The procedure catalogue as loaded from the store at start, and the units."""

    version: str = ""
    procedures: dict[str, domain.Procedure] = field(default_factory=dict)
    units: Units | None = None
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    @property
    def communes(self) -> dict[str, Unit]:
        return self.units.communes if self.units else {}


catalogue = Catalogue()

Phone = Annotated[str, Field(pattern=r"^0\d{9}$", examples=["0912345678"])]
IdentityNumber = Annotated[str, Field(pattern=r"^\d{12}$", description="12-digit citizen identity number.")]


class ApplicantIn(BaseModel):
    name: str = Field(min_length=2, max_length=120, examples=["Nguyễn Văn An"])
    phone: Phone
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    identity_number: IdentityNumber


class ComponentIn(BaseModel):
    name: str = Field(min_length=1, max_length=300, examples=["Tờ khai đăng ký khai sinh"])
    form: str = Field(pattern="^(electronic|paper|e_data_store)$")
    content_base64: str | None = Field(default=None, description="The file, for electronic components.")


class SubmitDossier(BaseModel):
    procedure_code: str = Field(max_length=40, examples=["1.001193"])
    commune_code: str = Field(max_length=40, description="Receiving unit's agency code.", examples=["H40.101"])
    channel: Channel
    applicant: ApplicantIn
    components: list[ComponentIn] = Field(max_length=50)
    received_by: str | None = Field(
        default=None, min_length=2, max_length=120, description="At the counter: the receiving officer."
    )
    postal_reference: str | None = Field(
        default=None, pattern=r"^[A-Z0-9]{6,20}$", description="By post: the public postal service's item number."
    )
    area: str | None = Field(
        default=None, min_length=1, max_length=80, description="The applicant's hamlet or quarter (thôn, tổ dân phố)."
    )


LocalTime = Annotated[datetime, AfterValidator(local)]


class Receipt(BaseModel):
    """The receipt-and-appointment slip (giấy tiếp nhận và hẹn trả kết quả); times in local time."""

    dossier_code: str
    receipt_number: str
    procedure_name: str
    received_at: LocalTime
    due_at: LocalTime
    fee_vnd: int
    access_token: str = Field(description="Unguessable token that opens the slip: `?token=`.")


@router.get("/procedures")
async def list_procedures(
    q: str = "",
    field_name: Annotated[str | None, Query(alias="field")] = None,
    level: str | None = None,
    online_level: str | None = None,
) -> dict:
    """List and search the catalogue; `q` ignores diacritics and case ("dang ky khai sinh")."""
    found = domain.search(catalogue.procedures, q, field=field_name, level=level, online_level=online_level)
    return {"version": catalogue.version, "count": len(found), "procedures": [p.as_row() for p in found]}


@router.get("/procedures/{code}")
async def get_procedure(code: str) -> dict:
    procedure = catalogue.procedures.get(code)
    if procedure is None:
        raise HTTPException(404, f"unknown procedure {code!r}")
    return procedure.as_row() | {"catalogue_version": catalogue.version}


@router.get("/communes")
async def list_communes() -> list[dict]:
    return [vars(c) for c in catalogue.communes.values()]


@router.get("/units")
async def list_units() -> dict:
    """The province, its departments and its communes, with their national agency codes."""
    units = catalogue.units
    if units is None:
        return {"province": None, "departments": [], "communes": []}
    return {
        "province": vars(units.province),
        "departments": [vars(u) for u in units.departments.values()],
        "communes": [vars(u) for u in units.communes.values()],
    }


@router.post("/dossiers", status_code=201)
async def submit_dossier(
    request: SubmitDossier,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(min_length=8, max_length=200)] = None,
) -> Receipt:
    """Receive a dossier; answers with its code, due date and receipt slip number.

    With an `Idempotency-Key` header, a retried or double-clicked submission gets
    the first one's receipt (200) instead of creating a second dossier.
    """
    # Keyed: the body holds the identity number, which must not be recoverable from a stored hash.
    request_hash = hmac.new(
        settings.identity_hash_key.encode(), request.model_dump_json().encode(), "sha256"
    ).hexdigest()
    if idempotency_key and (earlier := await replayed(runtime, idempotency_key, request_hash)):
        response.status_code = 200
        return earlier
    procedure = catalogue.procedures.get(request.procedure_code)
    if procedure is None:
        raise HTTPException(404, f"unknown procedure {request.procedure_code!r}")
    if not procedure.takes_dossiers:
        raise HTTPException(422, f"procedure {procedure.code!r} is information only and takes no dossier")
    if request.channel not in domain.CHANNELS_BY_LEVEL[procedure.online_level]:
        raise HTTPException(
            422, f"procedure {procedure.code!r} is {procedure.online_level} online: not by {request.channel}"
        )
    if request.channel == "counter" and not request.received_by:
        raise HTTPException(422, "a counter submission needs the receiving officer (received_by)")
    if request.channel == "post" and not request.postal_reference:
        raise HTTPException(422, "a postal submission needs the postal item number (postal_reference)")
    if request.commune_code not in catalogue.communes:
        raise HTTPException(404, f"unknown commune {request.commune_code!r}")
    missing = domain.missing_components(procedure, [c.name for c in request.components])
    if missing:
        raise HTTPException(422, {"message": "required components are missing", "missing": missing})
    reusable = {c.name for c in procedure.components if c.reusable}
    if not_reusable := [c.name for c in request.components if c.form == "e_data_store" and c.name not in reusable]:
        raise HTTPException(
            422, {"message": "these components cannot come from the e-data store", "components": not_reusable}
        )
    components = [component_received(c) for c in request.components]

    async def receive(tx: Tx) -> Receipt:
        received_at = utcnow()
        local_day = local(received_at).date()
        code = domain.dossier_code(
            request.commune_code, local_day, await store.next_sequence(tx, request.commune_code, local_day)
        )
        receipt = Receipt(
            dossier_code=code,
            receipt_number=f"BN-{code}",
            procedure_name=procedure.name,
            received_at=received_at,
            due_at=domain.due_at(procedure, received_at, catalogue.calendar),
            fee_vnd=procedure.fee_vnd,
            access_token=secrets.token_urlsafe(16),
        )
        applicant = request.applicant
        dossier = {
            "_id": code,
            "procedure_code": procedure.code,
            "procedure_name": procedure.name,
            "commune_code": request.commune_code,
            "channel": request.channel,
            "received_by": request.received_by,
            "postal_reference": request.postal_reference,
            "area": request.area,
            "applicant": {"name": applicant.name, "phone": applicant.phone, "email": applicant.email},
            "identity_hash": domain.identity_hash(applicant.identity_number, settings.identity_hash_key),
            "components": [c.model_dump() for c in components],
            "received_at": received_at,
            "due_at": receipt.due_at,
            "status": "received",
        }
        await store.save_dossier(tx, dossier, {"_id": receipt.receipt_number, **receipt.model_dump()})
        if idempotency_key:
            await store.remember_submission(tx, idempotency_key, request_hash, code)
        tx.emit(
            DossierReceived(
                dossier_code=code,
                procedure_code=procedure.code,
                procedure_name=procedure.name,
                field=procedure.field,
                channel=request.channel,
                commune_code=request.commune_code,
                applicant=Applicant(name=applicant.name, phone=applicant.phone, email=applicant.email),
                components=components,
                fee_vnd=procedure.fee_vnd,
                receipt_number=receipt.receipt_number,
                received_at=received_at,
                due_at=receipt.due_at,
                level=procedure.level,
                competent_authority=procedure.competent_unit,
                workflow=procedure.workflow,
                area=request.area,
            ),
            commune=request.commune_code,
        )
        span.set_attribute(DOSSIER_ATTRIBUTE, code)
        return receipt

    with runtime.tracer.start_as_current_span("intake receive dossier", kind=SpanKind.SERVER) as span:
        try:
            receipt = await runtime.transact(receive)
        except DuplicateKeyError:
            # The same key committed concurrently: answer with that submission's receipt.
            if idempotency_key and (earlier := await replayed(runtime, idempotency_key, request_hash)):
                response.status_code = 200
                return earlier
            raise
        token = current_dossier.set(receipt.dossier_code)
        log.info("dossier received", extra={"fields": {"procedure": procedure.code, "channel": request.channel}})
        current_dossier.reset(token)
        return receipt


async def replayed(runtime: Runtime, key: str, request_hash: str) -> Receipt | None:
    """The receipt of an earlier submission with this idempotency key, if any."""
    earlier = await store.find_submission(runtime, key)
    if earlier is None:
        return None
    if earlier["request_hash"] != request_hash:
        raise HTTPException(409, "this Idempotency-Key was used for a different submission")
    receipt = await store.find_receipt(runtime, earlier["dossier_code"])
    assert receipt is not None  # written in the same transaction
    return Receipt(**receipt)


async def opened_receipt(runtime: Runtime, dossier_code: str, token: str) -> dict:
    """The receipt, for the holder of its access token only (anyone else: not found)."""
    receipt = await store.find_receipt(runtime, dossier_code)
    if receipt is None or not hmac.compare_digest(receipt.get("access_token", "").encode(), token.encode()):
        raise HTTPException(404, f"no dossier {dossier_code!r} with this token")
    return receipt


@router.get("/dossiers/{dossier_code}/receipt.pdf", response_class=Response)
async def get_receipt_slip(dossier_code: str, token: str, runtime: RuntimeDep) -> Response:
    """The receipt-and-appointment slip as a PDF, with a QR code to the tracking page."""
    receipt = await opened_receipt(runtime, dossier_code, token)
    dossier = await store.find_dossier(runtime, dossier_code)
    assert dossier is not None  # written with the receipt
    commune = catalogue.communes.get(dossier["commune_code"])
    pdf = slip.render(
        slip.Slip(
            unit_name=f"UBND {commune.name}" if commune else dossier["commune_code"],
            dossier_code=dossier_code,
            receipt_number=receipt["receipt_number"],
            applicant_name=dossier["applicant"]["name"],
            procedure_name=receipt["procedure_name"],
            components=[(c["name"], c["form"]) for c in dossier["components"]],
            received_at=receipt["received_at"],
            due_at=receipt["due_at"],
            fee_vnd=receipt["fee_vnd"],
            tracking_url=f"{settings.public_url}/track?code={dossier_code}",
        ),
        Path(settings.pdf_font),
        Path(settings.pdf_bold_font),
    )
    headers = {"Content-Disposition": f'inline; filename="{dossier_code}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/dossiers/{dossier_code}/receipt")
async def get_receipt(dossier_code: str, token: str, runtime: RuntimeDep) -> Receipt:
    return Receipt(**await opened_receipt(runtime, dossier_code, token))


def component_received(component: ComponentIn) -> ComponentReceived:
    digest = None
    if component.form == "electronic":
        if not component.content_base64:
            raise HTTPException(422, f"component {component.name!r} is electronic but has no file")
        try:
            content = base64.b64decode(component.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(422, f"component {component.name!r}: file is not valid base64") from None
        if domain.file_kind(content) is None:
            raise HTTPException(415, f"component {component.name!r}: only PDF, JPEG or PNG files are accepted")
        if len(content) > settings.max_component_bytes:
            raise HTTPException(413, f"component {component.name!r} exceeds {settings.max_component_bytes} bytes")
        digest = hashlib.sha256(content).hexdigest()
    return ComponentReceived(name=component.name, form=component.form, sha256=digest)
