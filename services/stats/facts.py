"""What stats knows of one dossier (its facts), and what the dossier adds to the day rows.

A dossier's facts are merged from its events in any order and any number of times: each fact
is set once (a receipt, a closing) or kept in a map by its own key (payments, complaints), so
merging an event again changes nothing. The day rows are a pure function of the facts
(`contributions`): applying an event is "facts before → facts after", and the rows move by
the difference. That is what makes a replay give the same numbers as the live path, whatever
overlaps and in whatever order the topics are read. No I/O here.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from motcua_contracts import (
    ComplaintAnswered,
    ComplaintReceived,
    DossierApologised,
    DossierApproved,
    DossierCompleted,
    DossierDigitised,
    DossierReceived,
    DossierRefused,
    DossierStepStarted,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierTransferred,
    DossierWithdrawn,
    Event,
    FeedbackReceived,
    PaymentCompleted,
    PaymentExpired,
    PaymentNotRequired,
    PaymentRefunded,
    PaymentRequested,
    ResultArchived,
    ResultSigned,
)

from services.runtime.clock import local

Facts = dict[str, Any]
RowKey = tuple[str, str, str, str, str]  # day, unit, field, procedure, channel
Rows = dict[RowKey, Counter[str]]

# The events that move a dossier's facts; stats reads nothing else.
EVENTS = (
    DossierReceived,
    DossierSupplemented,
    DossierDigitised,
    PaymentRequested,
    PaymentNotRequired,
    PaymentCompleted,
    PaymentExpired,
    PaymentRefunded,
    DossierStepStarted,
    DossierTransferred,
    DossierSupplementRequested,
    DossierApproved,
    DossierRefused,
    DossierApologised,
    DossierWithdrawn,
    DossierCompleted,
    ResultSigned,
    ResultArchived,
    FeedbackReceived,
    ComplaintReceived,
    ComplaintAnswered,
)


def day(moment: datetime) -> str:
    """The local (Vietnam) date of `moment`, as the reports count days."""
    return local(moment).date().isoformat()


def instant(moment: datetime) -> str:
    """`moment` as sortable UTC text (compared alike in memory and in the database)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _later(facts: Facts, name: str, at: str, value: Any) -> None:
    """Keep `value` under `name` if it is the latest seen (by `at`)."""
    current = facts.get(name)
    if current is None or current["at"] <= at:
        facts[name] = {"at": at, "value": value}


def _keyed(facts: Facts, name: str, key: str, **values: Any) -> None:
    """Set `values` on the entry `key` of the list `name` (a map kept as a list: keys may hold dots)."""
    entries = facts.setdefault(name, [])
    entry = next((entry for entry in entries if entry["key"] == key), None)
    if entry is None:
        entries.append(entry := {"key": key})
    entry.update(values)


def merge(facts: Facts, event: Event) -> None:
    """Add what `event` tells of the dossier to its facts (idempotent, order-free)."""
    match event:
        case DossierReceived():
            facts["received"] = {
                "day": day(event.received_at),
                "at": instant(event.received_at),
                "unit": event.commune_code,
                "field": event.field,
                "procedure": event.procedure_code,
                "procedure_name": event.procedure_name,
                "channel": event.channel,
                "components": len(event.components),
                "due_at": instant(event.due_at),
            }
        case DossierSupplemented():
            _later(facts, "supplemented", instant(event.supplemented_at), instant(event.due_at))
        case DossierDigitised():
            counts = [len(event.components), event.components_scanned or 0, event.components_reused or 0]
            _later(facts, "digitised", instant(event.digitised_at), counts)
        case PaymentRequested():
            facts["fee_requested"] = True
        case PaymentNotRequired(exemption=exemption) if exemption is not None:
            facts["fee_exempt"] = True
        case PaymentCompleted():
            _keyed(
                facts,
                "payments",
                event.reference,
                channel=event.channel,
                vnd=event.amount_vnd,
                at=instant(event.paid_at),
            )
        case PaymentExpired():
            facts["payment_expired"] = True
        case PaymentRefunded():
            _keyed(facts, "refunds", event.gateway_transaction, vnd=event.amount_vnd)
        case DossierStepStarted():
            _later(facts, "step", instant(event.started_at), [event.unit, event.holder, event.step_name])
        case DossierTransferred():
            _keyed(facts, "transfers", instant(event.transferred_at), to=event.to_unit)
        case DossierSupplementRequested():
            _keyed(facts, "supplement_requests", instant(event.requested_at))
        case DossierApproved():
            facts["approved_unit"] = event.competent_unit
        case DossierRefused():
            facts["refused"] = {"unit": event.unit, "at": instant(event.refused_at), "day": day(event.refused_at)}
        case DossierApologised():
            facts["apology"] = {"due_at": instant(event.new_due_at), "day": day(event.apologised_at)}
        case DossierWithdrawn():
            facts["withdrawn"] = {"day": day(event.withdrawn_at)}
        case DossierCompleted():
            facts["completed"] = {"day": day(event.completed_at), "outcome": event.outcome}
        case ResultSigned():
            facts["signed"] = True
        case ResultArchived():
            facts["archived"] = True
        case FeedbackReceived():
            facts["rating"] = event.rating
        case ComplaintReceived():
            _keyed(facts, "complaints", event.complaint_code, day=day(event.received_at))
        case ComplaintAnswered():
            _keyed(facts, "complaints", event.complaint_code, answered=True, on_time=event.on_time)


def join(facts: Facts, other: Facts) -> None:
    """Add to `facts` what `other` knows (both merged from events of one dossier): the later of
    two dated values, the union of keyed lists, set-once values as they are."""
    for name, value in other.items():
        mine = facts.get(name)
        if mine is None:
            facts[name] = value
        elif isinstance(value, list):
            for entry in value:
                _keyed(facts, name, entry["key"], **{k: v for k, v in entry.items() if k != "key"})
        elif isinstance(value, dict) and "value" in value:
            if value["at"] >= mine["at"]:
                facts[name] = value
        else:
            facts[name] = value


def unit(facts: Facts) -> str:
    """The unit the dossier counts for: the one that resolves it — the approving or refusing
    unit, else the first unit it was transferred to, else the unit that received it."""
    if facts.get("approved_unit"):
        return facts["approved_unit"]
    if facts.get("refused"):
        return facts["refused"]["unit"]
    if transfers := facts.get("transfers"):
        return min(transfers, key=lambda transfer: transfer["key"])["to"]
    return facts["received"]["unit"]


def due_at(facts: Facts) -> str:
    """The appointment time now promised: the apology's new date, else the last supplement's, else the receipt's."""
    if apology := facts.get("apology"):
        return apology["due_at"]
    if supplemented := facts.get("supplemented"):
        return supplemented["value"]
    return facts["received"]["due_at"]


def closing(facts: Facts) -> tuple[str, str, str | None] | None:
    """How and when (local day) the dossier was closed, with the outcome of a resolution; None while open."""
    if completed := facts.get("completed"):
        return "completed", completed["day"], completed["outcome"]
    if refused := facts.get("refused"):
        due_day = day(datetime.fromisoformat(due_at(facts)))
        outcome = "early" if refused["day"] < due_day else "on_time" if refused["day"] == due_day else "late"
        return "refused", refused["day"], outcome
    if withdrawn := facts.get("withdrawn"):
        return "withdrawn", withdrawn["day"], None
    return None


def contributions(facts: Facts) -> Rows:
    """What the dossier adds to each day row; nothing until its receipt is known."""
    received = facts.get("received")
    if received is None:
        return {}
    where = (unit(facts), received["field"], received["procedure"], received["channel"])
    rows: Rows = {}

    def add(on_day: str, **counts: int) -> None:
        rows.setdefault((on_day, *where), Counter()).update({k: v for k, v in counts.items() if v})

    channel = received["channel"]
    components = received["components"]
    digitised, scanned, reused = facts.get("digitised", {}).get("value", (0, 0, 0))
    payments = sorted(facts.get("payments", []), key=lambda payment: payment["at"])
    add(
        received["day"],
        received=1,
        opened=1,
        online=int(channel.startswith("online")),
        components=components,
        components_digitised=digitised,
        components_scanned=scanned,
        components_reused=reused,
        dossiers_digitised=int(bool(digitised) and digitised >= components),
        fee_bearing=int(bool(facts.get("fee_requested") or facts.get("fee_exempt"))),
        fee_exempt=int(bool(facts.get("fee_exempt"))),
        paid_online=int(bool(payments) and payments[0]["channel"] == "online"),
        paid_counter=int(bool(payments) and payments[0]["channel"] == "counter"),
        collected_vnd=sum(payment["vnd"] for payment in payments),
        payments_expired=int(bool(facts.get("payment_expired"))),
        refunded=len(facts.get("refunds", [])),
        refunded_vnd=sum(refund["vnd"] for refund in facts.get("refunds", [])),
        **{f"received_{channel}": 1},
    )
    complaints = facts.get("complaints", [])
    for complaint in complaints:
        if "day" in complaint:
            add(
                complaint["day"],
                complaints=1,
                complaints_answered=int(complaint.get("answered", False)),
                complaints_answered_on_time=int(complaint.get("on_time", False)),
            )
    if (closed := closing(facts)) is None:
        return rows
    kind, closed_day, outcome = closed
    resolved = kind != "withdrawn"
    rating = facts.get("rating") if resolved else None
    add(
        closed_day,
        opened=-1,
        resolved=int(resolved),
        refused=int(kind == "refused"),
        withdrawn=int(kind == "withdrawn"),
        apologised=int("apology" in facts),
        supplement_requested=int(bool(facts.get("supplement_requests"))),
        results=int(bool(facts.get("signed"))),
        results_digitised=int(bool(facts.get("archived"))),
        rated=int(rating is not None),
        rating_sum=rating or 0,
        satisfied=int(rating is not None and rating >= 4),
        dissatisfied=int(rating is not None and rating <= 2),
        unhappy=int(resolved and ((rating is not None and rating <= 2) or bool(complaints) or outcome == "late")),
        **({outcome: 1} if outcome else {}),
    )
    return rows


def difference(before: Rows, after: Rows) -> Rows:
    """What moving from `before` to `after` adds to each row (counters that cancel are left out)."""
    changes: Rows = {}
    for key in before.keys() | after.keys():
        change = Counter(after.get(key, {}))
        change.subtract(before.get(key, {}))
        if any(change.values()):
            changes[key] = Counter({name: value for name, value in change.items() if value})
    return changes
