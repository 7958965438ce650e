"""The citizens (công dân) of a load run: they upload their files to the document store and
submit dossiers to intake at a steady rate, try again when a service is busy or does not
answer, and resubmit the documents an official asked for (bổ sung hồ sơ)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.runtime.retry import backoff

from .casework import Verdict, judge_resubmission
from .dossiers import UNAVAILABLE, UploadRefused, make_dossier, with_uploads
from .platform_api import PlatformApi, Tally

RETRY_AFTER_S = 60  # intake's pause for owner look-ups, when it does not say
RETRY_AFTER_CAP_S = 30.0  # a citizen waits at most this long before trying again
BUSY = frozenset({429, 503})  # answers that say "not now": retried after their Retry-After
SUBMIT_ATTEMPTS = 5  # a citizen submits a dossier at most this many times, then gives up
SUBMIT_PAUSE_S, SUBMIT_PAUSE_CAP_S = 0.5, 8.0  # after a timeout, a lost connection, a server error
RESUBMIT_PAUSE_S, RESUBMIT_PAUSE_CAP_S = 1.0, 10.0  # while intake has not yet learnt of the request
UPLOAD_PATIENCE_S = 60.0  # a citizen tries to upload a file for this long while the store is busy or away


@dataclass(frozen=True)
class Receipt:
    """A dossier intake accepted: its code, its owner's phone, when it was sent and answered, and
    the receipt's access token (the owner's later requests need it)."""

    code: str
    owner: str = field(repr=False)
    sent_at: float
    answered_at: float
    token: str | None = field(default=None, repr=False)


@dataclass
class Submissions:
    """What the citizens' submissions met on the way, counted (never raised): busy answers (429,
    503), timeouts, lost connections and server errors, each retried; dossiers intake refused;
    dossiers their citizen gave up on."""

    hurdles: Counter[str] = field(default_factory=Counter)  # "busy", "timeout", "unreachable", "server error"
    refused: int = 0  # intake refused the dossier (4xx): not retried
    gave_up: int = 0  # not received after SUBMIT_ATTEMPTS attempts


def pause_asked(response: httpx.Response, otherwise: float) -> float:
    """The pause a busy service asks for (`Retry-After` in seconds, at most RETRY_AFTER_CAP_S), else `otherwise`."""
    try:
        return min(RETRY_AFTER_CAP_S, max(0.0, float(response.headers["Retry-After"])))
    except (KeyError, ValueError):
        return otherwise


async def submit_dossier(
    client: httpx.AsyncClient,
    dossier: dict[str, Any],
    submissions: Submissions,
    in_flight: asyncio.Semaphore | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> dict[str, Any] | None:
    """Submit one dossier as a patient citizen: after a busy answer (429, 503) again once its
    `Retry-After` has passed, after a timeout, a lost connection or a server error again after a
    growing pause, each time with the same Idempotency-Key (a submission that did arrive is not
    received twice); after SUBMIT_ATTEMPTS the citizen gives up. The receipt, or None."""
    key = f"load-{uuid.uuid4()}"
    for attempt in range(1, SUBMIT_ATTEMPTS + 1):
        pause = backoff(attempt, SUBMIT_PAUSE_S, cap=SUBMIT_PAUSE_CAP_S)
        try:
            async with in_flight or contextlib.nullcontext():
                response = await client.post("/dossiers", json=dossier, headers={"Idempotency-Key": key})
        except httpx.TimeoutException:
            submissions.hurdles["timeout"] += 1
        except httpx.TransportError:
            submissions.hurdles["unreachable"] += 1
        else:
            if response.status_code in (200, 201):  # 200: the receipt of an attempt that did arrive
                return response.json()
            if response.status_code in BUSY:
                submissions.hurdles["busy"] += 1
                pause = pause_asked(response, pause)
            elif response.status_code >= 500:
                submissions.hurdles["server error"] += 1
            else:
                submissions.refused += 1
                return None
        if attempt < SUBMIT_ATTEMPTS:
            await sleep(pause)
    submissions.gave_up += 1
    return None


async def upload_files(
    client: httpx.AsyncClient,
    dossier: dict[str, Any],
    submissions: Submissions,
    in_flight: asyncio.Semaphore | None = None,
) -> dict[str, Any] | None:
    """The dossier's files uploaded to the document store (again while it is busy or unreachable,
    for up to UPLOAD_PATIENCE_S): the submission naming them, or None (refused, or given up)."""
    try:
        async with in_flight or contextlib.nullcontext():
            return await with_uploads(client, dossier, patience=UPLOAD_PATIENCE_S)
    except UploadRefused as refused:
        if refused.status in UNAVAILABLE or refused.status == 0:
            submissions.gave_up += 1
        else:
            submissions.refused += 1
        return None


async def submit_at_rate(
    client: httpx.AsyncClient,
    digitisation: httpx.AsyncClient,
    rng: random.Random,
    procedures: list[dict[str, Any]],
    communes: list[dict[str, Any]],
    count: int,
    rate: float,
    on_answer: Callable[[Receipt | None], None],
    submissions: Submissions,
    connections: int = 32,
) -> None:
    """Submit `count` realistic dossiers at `rate` per second (their files uploaded to
    `digitisation` first); `on_answer` gets each receipt, or None for a dossier refused or given up
    on (`submissions` says which)."""
    # Bound requests in flight: a deep queue inside the HTTP client's pool costs more CPU than the platform.
    in_flight = asyncio.Semaphore(connections)
    start = time.monotonic()

    async def submit(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        drawn = make_dossier(rng, procedures, communes)
        sent_at = time.monotonic()
        dossier = await upload_files(digitisation, drawn, submissions, in_flight)
        receipt = None if dossier is None else await submit_dossier(client, dossier, submissions, in_flight)
        if receipt is not None:
            owner = drawn["applicant"]["phone"]
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
