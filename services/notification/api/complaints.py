"""Complaints and petitions (phản ánh, kiến nghị): the owner's form, linked from the tracking
page (`?token=`, the dossier's complaint token), and the unit's officials' list and answers
(their access token; only officials of the unit the complaint was routed to)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from services.runtime import RuntimeDep, Tx, utcnow
from services.runtime.auth import verified_claims
from services.runtime.receipts import COMPLAINT, link_opens
from services.runtime.telemetry import dossier_span
from services.runtime.web import answers

from .. import complaints, store
from .pages import PAGE, NotifierDep, action, page

router = APIRouter(tags=["complaints"])
ComplaintToken = Annotated[str, Query(description="The dossier's complaint token (from the tracking page).")]
TITLE = "Phản ánh, kiến nghị về việc giải quyết hồ sơ"


class Answer(BaseModel):
    answer: str = Field(min_length=10, max_length=4000, description="The unit's answer, sent to the citizen.")


def check(notifier: Any, code: str, token: str) -> None:
    if not link_opens(notifier.settings.receipt_key(), COMPLAINT, code, token):
        raise HTTPException(404, "no dossier with this code and complaint token")


@router.get("/complaints/{code}/new", response_class=Response, responses=PAGE | answers(404))
async def complaint_form(
    code: str, request: Request, notifier: NotifierDep, token: ComplaintToken = ""
) -> HTMLResponse:
    """The owner's complaint form."""
    check(notifier, code, token)
    target = action(request).replace("/new", "", 1)
    return page(
        TITLE,
        f"<p>Hồ sơ <strong>{code}</strong></p>"
        f'<form method="post" action="{target}"><label for="kind">Loại</label>'
        '<select id="kind" name="kind"><option value="phan_anh">Phản ánh</option>'
        '<option value="kien_nghi">Kiến nghị</option></select>'
        '<label for="text">Nội dung</label><textarea id="text" name="text" rows="6" minlength="10" '
        'maxlength="4000" required></textarea><button type="submit">Gửi</button></form>'
        f'<p class="note">Cơ quan giải quyết trả lời trong {notifier.settings.complaint_answer_days} ngày làm việc.</p>',
    )


@router.post("/complaints/{code}", response_class=Response, status_code=201, responses=PAGE | answers(404, 422))
async def file_complaint(
    code: str,
    runtime: RuntimeDep,
    notifier: NotifierDep,
    kind: Annotated[Literal["phan_anh", "kien_nghi"], Form()],
    text: Annotated[str, Form(min_length=10, max_length=4000)],
    token: ComplaintToken = "",
) -> HTMLResponse:
    """File the complaint with the unit holding the dossier; the citizen is told when it must be answered."""
    check(notifier, code, token)

    async def work(tx: Tx) -> dict[str, Any]:
        return await complaints.receive(tx, notifier, code, kind, text.strip(), utcnow())

    try:
        with dossier_span(runtime.tracer, "complaint received", code, await trace_of(runtime, code)):
            complaint = await runtime.transact(work)
    except complaints.NotFound:
        raise HTTPException(404, "the dossier is not known here yet; try again in a moment") from None
    return page(
        TITLE,
        f'<p>Đã tiếp nhận {complaints.KIND_NAMES[kind].lower()} số <strong id="complaint">{complaint["_id"]}</strong>.'
        f" Hạn trả lời: {complaint['answer_by']:%d/%m/%Y}.</p>",
        201,
    )


async def trace_of(runtime: Any, code: str) -> dict[str, str]:
    """The dossier's trace, as notification saved it when the dossier was received."""
    dossier = await runtime.documents.get(store.DOSSIERS, code) or {}
    return dossier.get("trace", {})


async def official(request: Request, notifier: Any, runtime: Any) -> dict[str, Any]:
    """The roster record of the official a valid access token names (403 if routing never announced them)."""
    who = str((await verified_claims(request, notifier.verifier))["sub"])
    record = await runtime.documents.get(store.OFFICIALS, who)
    if record is None or not record["active"]:
        raise HTTPException(403, "not an active official of any unit")
    return record


@router.get("/complaints", responses=answers(401, 403, 503))
async def unit_complaints(
    request: Request, runtime: RuntimeDep, notifier: NotifierDep, state: Literal["open", "answered"] = "open"
) -> dict[str, Any]:
    """The complaints routed to the signed-in official's unit, earliest deadline first."""
    record = await official(request, notifier, runtime)
    found = await runtime.documents.find(
        store.COMPLAINTS, {"unit": record["unit"], "state": state}, order=[("answer_by", 1)], limit=500
    )
    return {"unit": record["unit"], "complaints": [complaints.public(c) for c in found]}


@router.post("/complaints/{complaint_code}/answer", responses=answers(401, 403, 404, 409, 422, 503))
async def answer_complaint(
    complaint_code: str, answer: Answer, request: Request, runtime: RuntimeDep, notifier: NotifierDep
) -> dict[str, Any]:
    """Answer a complaint of one's unit: `complaint.answered`, and the answer sent to the citizen."""
    record = await official(request, notifier, runtime)

    async def work(tx: Tx) -> None:
        await complaints.answer(tx, notifier, complaint_code, record["_id"], answer.answer.strip(), utcnow())

    filed = await runtime.documents.get(store.COMPLAINTS, complaint_code) or {}
    try:
        with dossier_span(runtime.tracer, "complaint answered", filed.get("dossier_code", ""), filed.get("trace", {})):
            await runtime.transact(work)
    except complaints.NotFound:
        raise HTTPException(404, "no complaint with this code") from None
    except complaints.NotAllowed:
        raise HTTPException(403, "the complaint was routed to another unit") from None
    except complaints.AlreadyAnswered:
        raise HTTPException(409, "the complaint is answered already") from None
    return {"complaint_code": complaint_code, "state": "answered"}
