"""The load summary: how the dossiers settled, what the officials did, latencies to settlement,
and the exit rule (every submitted dossier settled)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console

from infra.casework import Settlement, Verdict
from infra.citizens import Receipt
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
    summary = summarise(receipts, rejected=1, settlements=settlements, tally=tally, wall_s=10.0)

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
        [receipt("C1", 0.0), receipt("C2", 0.0)], 0, {"C1": Settlement("completed", 1.0, "on_time")}, tally, 5.0
    )
    assert not summary.all_settled
    console = Console(record=True, width=200)
    for part in report(summary):
        console.print(part)
    text = console.export_text()
    assert "settled" in text and "1 of 2" in text and "only a leader approves" in text
    assert "0912345678" not in text
