"""The satisfaction survey (khảo sát mức độ hài lòng): the one-time link sent with the result
opens a form (1–5 and a comment); the first answer is kept and published (`feedback.received`),
after which the link answers 410."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from motcua_contracts import FeedbackReceived

from services.runtime import Duplicate, Runtime, RuntimeDep, Tx, utcnow
from services.runtime.receipts import SURVEY, link_opens
from services.runtime.telemetry import dossier_span
from services.runtime.web import answers

from .. import store
from ..context import Notifier
from .pages import PAGE, NotifierDep, action, page

router = APIRouter(tags=["survey"])
SurveyToken = Annotated[str, Query(description="The survey link's token.")]
RATINGS = {
    5: "Rất hài lòng",
    4: "Hài lòng",
    3: "Bình thường",
    2: "Không hài lòng",
    1: "Rất không hài lòng",
}
ANSWERED = "Ông/Bà đã trả lời khảo sát cho hồ sơ này. Xin cảm ơn!"


async def surveyed(runtime: Runtime[Notifier], code: str, token: str) -> dict:
    """The dossier's record, for the holder of its survey link (anyone else: not found)."""
    key = runtime.context.settings.receipt_key()
    dossier = await runtime.documents.get(store.DOSSIERS, code) if link_opens(key, SURVEY, code, token) else None
    if dossier is None or "survey" not in dossier.get("milestones", {}):
        raise HTTPException(404, "no survey with this dossier code and token")
    return dossier


@router.get("/surveys/{code}", response_class=Response, responses=PAGE | answers(404, 410))
async def survey_form(
    code: str, request: Request, runtime: RuntimeDep, notifier: NotifierDep, token: SurveyToken = ""
) -> HTMLResponse:
    """The survey's form, until it is answered."""
    await surveyed(runtime, code, token)
    if await runtime.documents.get(store.SURVEYS, code) is not None:
        return page("Khảo sát mức độ hài lòng", f"<p>{ANSWERED}</p>", 410)
    choices = "".join(
        f'<label><input type="radio" name="rating" value="{value}" required> {label}</label>'
        for value, label in RATINGS.items()
    )
    return page(
        "Khảo sát mức độ hài lòng",
        f"<p>Hồ sơ <strong>{code}</strong> đã có kết quả. Ông/Bà đánh giá thế nào về việc giải quyết hồ sơ?</p>"
        f'<form method="post" action="{action(request)}"><fieldset><legend>Mức độ hài lòng</legend>{choices}'
        '</fieldset><label for="comment">Góp ý (không bắt buộc)</label>'
        '<textarea id="comment" name="comment" rows="4" maxlength="2000"></textarea>'
        '<button type="submit">Gửi đánh giá</button></form>'
        '<p class="note">Mỗi hồ sơ được đánh giá một lần.</p>',
    )


@router.post("/surveys/{code}", response_class=Response, responses=PAGE | answers(404, 410, 422))
async def answer_survey(
    code: str,
    runtime: RuntimeDep,
    notifier: NotifierDep,
    rating: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str, Form(max_length=2000)] = "",
    token: SurveyToken = "",
) -> HTMLResponse:
    """Keep the citizen's answer (the first one only) and publish it."""
    dossier = await surveyed(runtime, code, token)
    facts = dossier["facts"]
    now = utcnow()

    async def work(tx: Tx) -> None:
        await tx.insert_now(store.SURVEYS, {"_id": code, "rating": rating, "comment": comment or None, "at": now})
        tx.emit(
            FeedbackReceived(
                dossier_code=code,
                rating=rating,
                comment=comment.strip() or None,
                unit=facts.get("unit"),
                procedure_code=facts.get("procedure_code"),
                field=facts.get("field"),
                received_at=now,
            ),
            commune=facts.get("commune") or facts.get("unit"),
        )

    try:
        with dossier_span(runtime.tracer, "survey answered", code, dossier.get("trace", {})):
            await runtime.transact(work)
    except Duplicate:
        return page("Khảo sát mức độ hài lòng", f"<p>{ANSWERED}</p>", 410)
    return page("Cảm ơn Ông/Bà", f"<p>Đánh giá của Ông/Bà về hồ sơ {code} đã được ghi nhận: {RATINGS[rating]}.</p>")
