"""The summary of a load run: what was submitted (and what the submissions met: busy answers,
timeouts, give-ups), how each dossier settled, what the officials did, and latencies from
submission to receipt and to settlement."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from rich.console import RenderableType
from rich.table import Table

from .casework import Settlement
from .citizens import Receipt, Submissions
from .platform_api import Tally


@dataclass
class Summary:
    submitted: int = 0
    rejected: int = 0  # intake refused the dossier
    gave_up: int = 0  # citizens gave up after retrying
    hurdles: Counter[str] = field(default_factory=Counter)  # busy answers, timeouts... met by submissions
    staffed: int = 0  # officials added so that every unit has each role
    endings: Counter[str] = field(default_factory=Counter)  # completed, refused, withdrawn
    outcomes: Counter[str] = field(default_factory=Counter)  # completed early, on time, late
    supplements_answered: int = 0
    actions_taken: int = 0
    approvals_waited: int = 0
    other_answers: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    to_receipt_ms: list[float] = field(default_factory=list)
    to_settle_ms: list[float] = field(default_factory=list)

    @property
    def settled(self) -> int:
        return sum(self.endings.values())

    @property
    def all_settled(self) -> bool:
        return self.settled == self.submitted


def summarise(
    receipts: list[Receipt],
    submissions: Submissions,
    settlements: dict[str, Settlement],
    tally: Tally,
    wall_s: float,
) -> Summary:
    """The run's figures from the citizens' receipts and what their submissions met, the
    settlements seen and the officials' tally."""
    summary = Summary(
        submitted=len(receipts),
        rejected=submissions.refused,
        gave_up=submissions.gave_up,
        hurdles=Counter(submissions.hurdles),
        supplements_answered=tally.supplements_answered,
        actions_taken=tally.taken,
        approvals_waited=tally.approvals_waited,
        other_answers=Counter(tally.outcomes),
        problems=list(tally.problems),
        wall_s=wall_s,
    )
    for receipt in receipts:
        summary.to_receipt_ms.append((receipt.answered_at - receipt.sent_at) * 1000)
        if (settlement := settlements.get(receipt.code)) is not None:
            summary.endings[settlement.ending] += 1
            if settlement.outcome:
                summary.outcomes[settlement.outcome] += 1
            summary.to_settle_ms.append((settlement.at - receipt.sent_at) * 1000)
    return summary


def percentiles(values: list[float]) -> tuple[str, str, str]:
    if len(values) < 2:
        return ("-", "-", "-") if not values else (f"{values[0]:.0f}",) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"{cuts[49]:.0f}", f"{cuts[94]:.0f}", f"{cuts[98]:.0f}"


def counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counter.items())) or "-"


def report(summary: Summary) -> list[RenderableType]:
    """The summary table, then the unexpected answers if there were any."""
    table = Table(title="load summary")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("submitted (receipt issued)", str(summary.submitted)),
        ("rejected", str(summary.rejected)),
        ("given up (busy or no answer after retries)", str(summary.gave_up)),
        ("submissions retried after", counts(summary.hurdles)),
        ("settled", f"{summary.settled} of {summary.submitted}"),
        *((ending, str(summary.endings[ending])) for ending in ("completed", "refused", "withdrawn")),
        ("outcomes of completed", counts(summary.outcomes)),
        ("supplement requests answered", str(summary.supplements_answered)),
        ("officer actions taken", str(summary.actions_taken)),
        ("approvals that had to wait", str(summary.approvals_waited)),
        ("other answers", counts(summary.other_answers)),
        ("officials added (staffing)", str(summary.staffed)),
        ("wall time (s)", f"{summary.wall_s:.1f}"),
        ("settled per second", f"{summary.settled / summary.wall_s:.1f}" if summary.wall_s else "-"),
    ]
    for label, values in (("submit→receipt", summary.to_receipt_ms), ("submit→settled", summary.to_settle_ms)):
        rows.append((f"{label} p50 / p95 / p99 (ms)", " / ".join(percentiles(values))))
    for row in rows:
        table.add_row(*row)
    if not summary.problems:
        return [table]
    problems = Table(title="unexpected answers (first ones)")
    problems.add_column("what happened")
    for problem in summary.problems:
        problems.add_row(problem)
    return [table, problems]
