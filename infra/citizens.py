"""The citizens (công dân) of a load run: they submit dossiers to intake at a steady rate, and
resubmit the documents an official asked for (bổ sung hồ sơ)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.runtime.retry import backoff

from .casework import Verdict, judge_resubmission
from .dossiers import make_dossier
from .platform_api import PlatformApi, Tally

RETRY_AFTER_S = 60  # intake's pause for owner look-ups, when it does not say
RESUBMIT_PAUSE_S, RESUBMIT_PAUSE_CAP_S = 1.0, 10.0  # while intake has not yet learnt of the request


@dataclass(frozen=True)
class Receipt:
    """A dossier intake accepted: its code, its owner's phone, when it was sent and answered, and
    the receipt's access token (the owner's later requests need it)."""

    code: str
    owner: str = field(repr=False)
    sent_at: float
    answered_at: float
    token: str | None = field(default=None, repr=False)


async def submit_at_rate(
    client: httpx.AsyncClient,
    rng: random.Random,
    procedures: list[dict[str, Any]],
    communes: list[dict[str, Any]],
    count: int,
    rate: float,
    on_answer: Callable[[Receipt | None], None],
    connections: int = 32,
) -> None:
    """Submit `count` realistic dossiers at `rate` per second; `on_answer` gets each receipt,
    or None for a dossier intake refused."""
    # Bound requests in flight: a deep queue inside the HTTP client's pool costs more CPU than the platform.
    in_flight = asyncio.Semaphore(connections)
    start = time.monotonic()

    async def submit(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        dossier = make_dossier(rng, procedures, communes)
        sent_at = time.monotonic()
        async with in_flight:
            response = await client.post("/dossiers", json=dossier)
        if response.status_code == 201:
            receipt, owner = response.json(), dossier["applicant"]["phone"]
            on_answer(Receipt(receipt["dossier_code"], owner, sent_at, time.monotonic(), receipt["access_token"]))
        else:
            on_answer(None)

    await asyncio.gather(*(submit(i) for i in range(count)))


async def resubmit(
    api: PlatformApi,
    tally: Tally,
    code: str,
    owner: str,
    documents: list[str],
    patience: float,
    still_open: Callable[[], bool],
    token: str | None = None,
) -> bool:
    """The owner hands in the requested documents (on paper) with the receipt's access token
    `token` until intake accepts them; intake answers 409 until it has learnt of the request.
    Gives up after `patience` seconds or once the dossier is settled."""
    body = {"owner": owner, "components": [{"name": name, "form": "paper"} for name in documents]}
    url = f"/dossiers/{code}/supplement" + (f"?token={token}" if token else "")
    deadline, attempt = time.monotonic() + patience, 0
    while still_open():
        response = await api.intake("POST", url, json=body)
        verdict = judge_resubmission(response.status_code)
        if verdict is Verdict.DONE:
            tally.supplements_answered += 1
            return True
        tally.count("supplement", verdict, code, response)
        if verdict is Verdict.UNEXPECTED or time.monotonic() > deadline:
            return False
        if verdict is Verdict.BUSY:
            await asyncio.sleep(float(response.headers.get("Retry-After", RETRY_AFTER_S)))
        else:
            await asyncio.sleep(backoff(attempt + 1, RESUBMIT_PAUSE_S, cap=RESUBMIT_PAUSE_CAP_S))
            attempt += 1
    return False
