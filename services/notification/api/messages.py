"""Operators' view of messages (the province's administrators): a dossier's messages and their
states, the messages given up (with the reason), and sending one of those again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from services.runtime import RuntimeDep, Tx, utcnow
from services.runtime.web import answers

from .. import store
from ..sender import summary
from .complaints import official
from .pages import NotifierDep

router = APIRouter(tags=["messages"])
OPERATORS = ("admin",)


async def operator(request: Request, runtime: Any, notifier: Any) -> dict[str, Any]:
    record = await official(request, notifier, runtime)
    if not set(record["roles"]) & set(OPERATORS):
        raise HTTPException(403, "only administrators see messages")
    return record


@router.get("/messages", responses=answers(401, 403, 503))
async def list_messages(
    request: Request, runtime: RuntimeDep, notifier: NotifierDep, dossier: str | None = None, state: str | None = None
) -> dict[str, Any]:
    """Messages of a dossier, or in a state (`failed`: given up), without addresses or text."""
    await operator(request, runtime, notifier)
    where: dict[str, Any] = {}
    if dossier:
        where["subject"] = dossier
    if state:
        where["state"] = state
    found = await store.find_messages(runtime, where)
    return {"messages": [summary(item) for item in found]}


@router.post("/messages/{message_id}/resend", responses=answers(401, 403, 404, 409, 503))
async def resend(message_id: str, request: Request, runtime: RuntimeDep, notifier: NotifierDep) -> dict[str, Any]:
    """Send a failed message again (its address corrected upstream, its provider back)."""
    await operator(request, runtime, notifier)

    async def work(tx: Tx) -> str | None:
        item = await store.message(tx, message_id)
        if item is None:
            return None
        if item.state != "failed":
            return item.state
        item.retry("sent again by an operator", utcnow(), timedelta(0))
        item.attempts = 0
        store.put_message(tx, item)
        return "queued"

    state = await runtime.transact(work)
    if state is None:
        raise HTTPException(404, "no message with this id")
    if state != "queued":
        raise HTTPException(409, f"the message is {state}, not failed")
    return {"id": message_id, "state": "queued"}
