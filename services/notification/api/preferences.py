"""How the citizen wants to be told (linked from the tracking page, `?token=` the dossier's
notices token): the channels in order of preference (the next is the fallback when one fails
for good) and whether SMS and ZNS keep quiet at night. The choice is the citizen's, for every
dossier with the same phone number, from the next message on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.runtime import Runtime, RuntimeDep, Tx
from services.runtime.receipts import NOTICES, link_opens
from services.runtime.web import answers

from .. import citizens, store
from ..context import Notifier
from .pages import PAGE, NotifierDep, action, page

router = APIRouter(tags=["preferences"])
NoticesToken = Annotated[str, Query(description="The dossier's notices token (from the tracking page).")]
TITLE = "Cách nhận thông báo"
NAMES = {"zns": "Tin nhắn Zalo", "sms": "Tin nhắn SMS", "email": "Thư điện tử"}


async def contact(runtime: Runtime[Notifier], code: str, token: str) -> dict:
    key = runtime.context.settings.receipt_key()
    dossier = await runtime.documents.get(store.DOSSIERS, code) if link_opens(key, NOTICES, code, token) else None
    if dossier is None or dossier["contact"] is None:
        raise HTTPException(404, "no dossier with this code and token")
    return dossier["contact"]


@router.get("/preferences/{code}", response_class=Response, responses=PAGE | answers(404))
async def preferences_form(
    code: str, request: Request, runtime: RuntimeDep, notifier: NotifierDep, token: NoticesToken = ""
) -> HTMLResponse:
    found = await contact(runtime, code, token)

    async def read(tx: Tx) -> dict:
        return await citizens.preferences(tx, notifier, found["phone"])

    chosen = await runtime.transact(read)
    current = citizens.routes(found, chosen.get("notify_by"))[0]
    quiet = chosen.get("quiet_hours", notifier.settings.quiet_hours)
    rows = "".join(
        f'<label for="c{i}">Lựa chọn {i + 1}</label><select id="c{i}" name="channel">'
        + '<option value="">—</option>'
        + "".join(
            f'<option value="{value}"{" selected" if i < len(current) and current[i] == value else ""}>{name}</option>'
            for value, name in NAMES.items()
            if value != "email" or found.get("email")
        )
        + "</select>"
        for i in range(3)
    )
    checked = " checked" if quiet else ""
    return page(
        TITLE,
        f'<form method="post" action="{action(request)}"><p>Thông báo về hồ sơ được gửi theo thứ tự ưu tiên; '
        "kênh sau được dùng khi kênh trước không gửi được.</p>"
        f'{rows}<label><input type="checkbox" name="quiet" value="1"{checked}> Không nhận tin nhắn từ '
        f'{notifier.settings.quiet_hours.replace("-", " đến ")}</label><button type="submit">Lưu</button></form>',
    )


@router.post("/preferences/{code}", response_class=Response, responses=PAGE | answers(404, 422))
async def choose(
    code: str,
    runtime: RuntimeDep,
    notifier: NotifierDep,
    channel: Annotated[list[str], Form()],
    quiet: Annotated[str, Form()] = "",
    token: NoticesToken = "",
) -> HTMLResponse:
    found = await contact(runtime, code, token)
    picked = list(dict.fromkeys(c for c in channel if c))
    if not picked or any(c not in NAMES for c in picked):
        raise HTTPException(422, f"choose at least one channel of {', '.join(NAMES)}")
    if "email" in picked and not found.get("email"):
        raise HTTPException(422, "no e-mail address was given with the dossier")

    async def work(tx: Tx) -> None:
        quiet_hours = notifier.settings.quiet_hours if quiet else ""
        await citizens.choose(tx, notifier, found["phone"], picked, quiet_hours)

    await runtime.transact(work)
    return page(TITLE, f"<p>Đã lưu: {', '.join(NAMES[c] for c in picked)}.</p>")
