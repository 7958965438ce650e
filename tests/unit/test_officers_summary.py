"""The load summary: how the dossiers settled, what the officials did, latencies to settlement,
and the exit rule (every submitted dossier settled); how a citizen submits when intake is busy
or does not answer (counted, retried, never a crash of the run)."""

from __future__ import annotations

from collections import Counter

import httpx
from rich.console import Console

from infra.casework import Settlement, Verdict
from infra.citizens import SUBMIT_ATTEMPTS, Receipt, Submissions, submit_dossier
from infra.load_summary import report, summarise
from infra.platform_api import Tally


def receipt(code: str, sent_at: float) -> Receipt:
    return Receipt(code, owner="0912345678", sent_at=sent_at, answered_at=sent_at + 0.05)


def test_settlements_and_the_officials_tally_make_the_summary() -> None:
    receipts = [receipt("C1", 0.0), receipt("C2", 1.0), receipt("C3", 2.0)]
    settlements = {
        "C1": Settlement("completed", at=3.0, outcome="early"),
        "C2": Settlement("refused", at=2.0),
        "C3": Settlement("withdrawn", at=4.0),
        "ELSE": Settlement("completed", at=9.0, outcome="late"),  # not submitted by this run
    }
    tally = Tally(supplements_answered=1, approvals_waited=2)
    tally.count("claim", Verdict.DONE, "C1")
    tally.count("approval", Verdict.WAITING, "C1")
    summary = summarise(receipts, Submissions(refused=1), settlements=settlements, tally=tally, wall_s=10.0)

    assert summary.all_settled and summary.settled == 3 and summary.rejected == 1
    assert summary.endings == Counter(completed=1, refused=1, withdrawn=1)
    assert summary.outcomes == {"early": 1}
    assert sorted(summary.to_settle_ms) == [1000.0, 2000.0, 3000.0]
    assert (summary.actions_taken, summary.approvals_waited, summary.supplements_answered) == (1, 2, 1)
    assert summary.other_answers == {"approval: waiting": 1}


def test_a_dossier_not_settled_fails_the_run_and_unexpected_answers_are_listed_without_personal_data() -> None:
    tally = Tally()
    tally.problem("approval C2: HTTP 403 only a leader approves")
    summary = summarise(
        [receipt("C1", 0.0), receipt("C2", 0.0)],
        Submissions(),
        {"C1": Settlement("completed", 1.0, "on_time")},
        tally,
        5.0,
    )
    assert not summary.all_settled
    console = Console(record=True, width=200)
    for part in report(summary):
        console.print(part)
    text = console.export_text()
    assert "settled" in text and "1 of 2" in text and "only a leader approves" in text
    assert "0912345678" not in text


# --- a citizen submitting to a busy or silent intake --------------------------------------------

DOSSIER = {"procedure_code": "1.004194", "applicant": {"phone": "0912345678"}}


async def submit_to(*answers: httpx.Response | Exception) -> tuple[dict | None, Submissions, list[float], set[str]]:
    """Submit one dossier to an intake that gives `answers` in turn; the receipt, the counts,
    the pauses the citizen took and the Idempotency-Keys it sent."""
    pending, keys, pauses = list(answers), set(), []

    def intake(request: httpx.Request) -> httpx.Response:
        keys.add(request.headers["Idempotency-Key"])
        answer = pending.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    submissions = Submissions()
    async with httpx.AsyncClient(transport=httpx.MockTransport(intake), base_url="http://intake") as client:
        receipt = await submit_dossier(client, DOSSIER, submissions, sleep=pause)
    return receipt, submissions, pauses, keys


RECEIVED = httpx.Response(201, json={"dossier_code": "H40.101-261116-0001", "access_token": "t"})


async def test_a_busy_intake_is_asked_again_after_the_pause_it_names_with_the_same_key() -> None:
    busy = httpx.Response(503, headers={"Retry-After": "2"}, json={"detail": "busy"})
    limited = httpx.Response(429, headers={"Retry-After": "7"}, json={"detail": "too many"})
    receipt, submissions, pauses, keys = await submit_to(busy, limited, RECEIVED)
    assert receipt is not None and receipt["dossier_code"] == "H40.101-261116-0001"
    assert pauses == [2.0, 7.0] and len(keys) == 1  # one key: an attempt that did arrive is not received twice
    assert submissions.hurdles == {"busy": 2} and (submissions.gave_up, submissions.refused) == (0, 0)


async def test_timeouts_lost_connections_and_server_errors_are_counted_and_retried_never_raised() -> None:
    request = httpx.Request("POST", "http://intake/dossiers")
    receipt, submissions, pauses, _ = await submit_to(
        httpx.ReadTimeout("no answer", request=request),
        httpx.ConnectError("refused", request=request),
        httpx.Response(500, json={"detail": "internal error"}),
        httpx.Response(200, json={"dossier_code": "H40.101-261116-0002", "access_token": "t"}),  # it did arrive
    )
    assert receipt is not None and receipt["dossier_code"] == "H40.101-261116-0002"
    assert submissions.hurdles == {"timeout": 1, "unreachable": 1, "server error": 1}
    assert len(pauses) == 3 and all(0 < p <= 8 for p in pauses)


async def test_a_citizen_gives_up_after_the_last_attempt_and_it_shows_in_the_summary() -> None:
    busy = httpx.Response(503, headers={"Retry-After": "3600"}, json={"detail": "busy"})
    receipt, submissions, pauses, _ = await submit_to(*[busy] * SUBMIT_ATTEMPTS)
    assert receipt is None and submissions.gave_up == 1 and submissions.hurdles == {"busy": SUBMIT_ATTEMPTS}
    assert len(pauses) == SUBMIT_ATTEMPTS - 1 and max(pauses) <= 30  # an hour asked: a citizen waits half a minute

    console = Console(record=True, width=200)
    for part in report(summarise([], submissions, {}, Tally(), 1.0)):
        console.print(part)
    text = console.export_text()
    assert "given up" in text and "busy 5" in text


async def test_a_refused_dossier_is_not_retried() -> None:
    refused = httpx.Response(422, json={"detail": [{"type": "missing", "loc": ["body"], "msg": "x"}]})
    receipt, submissions, pauses, _ = await submit_to(refused)
    assert receipt is None and submissions.refused == 1 and pauses == [] and submissions.gave_up == 0
