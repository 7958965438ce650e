"""Public tracking (tra cứu hồ sơ): a citizen looks a dossier up by its code plus
the owner's phone or identity number.

A wrong pair gets exactly the answer an unknown code gets, so codes cannot be
enumerated; look-ups are rate-limited per client address.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from services.runtime import RuntimeDep
from services.runtime.clock import local

from . import domain, store
from .settings import settings

router = APIRouter(tags=["tracking"])
PAGE = (Path(__file__).parent / "data" / "track.html").read_text(encoding="utf-8")
NOT_FOUND = "Không tìm thấy hồ sơ với mã và thông tin chủ hồ sơ đã nhập."


class RateLimit:
    """At most `per_minute` requests per client in any sliding minute (per process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def check(self, client: str) -> None:
        now = time.monotonic()
        if len(self.seen) > 10_000:  # forget clients quiet for a minute, so the table stays small
            for quiet in [c for c, times in self.seen.items() if not times or times[-1] <= now - 60]:
                del self.seen[quiet]
        recent = self.seen[client]
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) >= self.per_minute:
            raise HTTPException(429, "Quá nhiều lượt tra cứu; vui lòng thử lại sau ít phút.", {"Retry-After": "60"})
        recent.append(now)


limit = RateLimit(settings.tracking_per_minute)


async def owned_dossier(request: Request, runtime: RuntimeDep, code: str, owner: str) -> dict:
    """The dossier if `owner` is its owner's phone or identity number; rate-limited per client.

    A wrong owner and an unknown code get the same answer, after the same work.
    """
    limit.check(request.client.host if request.client else "unknown")
    dossier = await store.find_dossier_for_owner_check(runtime, code)
    decoy = {"applicant": {"phone": ""}, "identity_hash": ""}
    if not domain.owner_matches(dossier or decoy, owner, settings.identity_hash_key) or dossier is None:
        raise HTTPException(404, NOT_FOUND)
    return dossier


class Lookup(BaseModel):
    code: str = Field(min_length=5, max_length=40, examples=["H40.101-261123-0001"])
    owner: str = Field(min_length=9, max_length=12, description="The owner's phone or identity number.")


@router.get("/track", response_class=HTMLResponse, include_in_schema=False)
async def tracking_page() -> str:
    return PAGE


@router.post("/api/track")
async def track(lookup: Lookup, request: Request, runtime: RuntimeDep) -> dict:
    """A dossier's status history and due date, for its owner only."""
    dossier = await owned_dossier(request, runtime, lookup.code, lookup.owner)
    history = await store.tracking(runtime, lookup.code) or {"steps": []}
    steps = sorted(history["steps"], key=lambda step: step["at"])
    return {
        "dossier_code": lookup.code,
        "procedure_name": dossier["procedure_name"],
        "due_at": local(dossier["due_at"]).isoformat(),
        "new_due_at": local(dossier["new_due_at"]).isoformat() if dossier.get("new_due_at") else None,
        "status": domain.STATUS_LABELS.get(steps[-1]["event"], steps[-1]["event"]) if steps else None,
        "history": [
            {"status": domain.STATUS_LABELS.get(s["event"], s["event"]), "at": local(s["at"]).isoformat()}
            for s in steps
        ],
    }
