"""The figures provincial reports quote (số liệu báo cáo): counters and the shares made of them.

A period's figures for a scope (a commune, a department, the province; optionally one field,
procedure or channel) are the sums of the day rows in the period (see `facts.contributions`),
plus what stands at the period's edges: dossiers carried over from before it and still in
progress at its end. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CHANNELS = ("online_full", "online_partial", "counter", "post")

# Counted on the day the dossier was received, for the unit that resolves it.
RECEIVED = (
    "received",
    *(f"received_{channel}" for channel in CHANNELS),
    "online",  # online_full + online_partial
    "components",  # components of the dossiers received
    "components_digitised",  # ... with an electronic copy (uploaded, scanned here or reused)
    "components_scanned",  # paper scanned and signed at receipt
    "components_reused",  # taken from the owner's e-data store instead of asking for paper again
    "dossiers_digitised",  # dossiers every component of which has an electronic copy
    "fee_bearing",  # dossiers whose procedure has a fee (phí, lệ phí), exempt ones included
    "fee_exempt",  # ... whose applicant is exempt
    "paid_online",  # ... paid online (thanh toán trực tuyến)
    "paid_counter",  # ... paid at the counter
    "collected_vnd",  # fees collected, VND
    "payments_expired",  # ... whose online payment link expired unpaid
    "refunded",  # refunds made through the gateway
    "refunded_vnd",  # ... VND
)
# Counted on the day the dossier was closed (resolved, refused or withdrawn).
CLOSED = (
    "resolved",  # results returned (completed) and refusals: đã giải quyết
    "early",  # resolved before the appointment day (trước hạn)
    "on_time",  # on the appointment day (đúng hạn)
    "late",  # after it (quá hạn)
    "refused",
    "withdrawn",
    "apologised",  # closed dossiers the unit apologised for, with a new date
    "supplement_requested",  # closed dossiers that were sent back for a supplement at least once
    "results",  # results signed
    "results_digitised",  # results archived in the owner's e-data store
    "rated",  # resolved dossiers whose citizen answered the satisfaction survey
    "rating_sum",  # sum of their ratings (1–5)
    "satisfied",  # rated 4 or 5
    "dissatisfied",  # rated 1 or 2
    "unhappy",  # resolved dossiers that were rated 1–2, complained about or late (Decision 766)
)
# Counted on the day a complaint (phản ánh, kiến nghị) was received, for the unit it was sent to.
COMPLAINTS = ("complaints", "complaints_answered", "complaints_answered_on_time")
# +1 on the day received, −1 on the day closed: their running sum is the dossiers in progress.
OPEN = "opened"

COUNTERS = (*RECEIVED, *CLOSED, *COMPLAINTS, OPEN)


def total(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The counters of `rows` summed (absent counters are 0)."""
    sums = dict.fromkeys(COUNTERS, 0)
    for row in rows:
        for name in COUNTERS:
            sums[name] += row.get(name, 0)
    return sums


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, two decimals; None when there is nothing to divide."""
    return round(100 * part / whole, 2) if whole else None


def rates(counters: Mapping[str, int]) -> dict[str, float | None]:
    """The shares the reports and the service index quote, in percent (None: no denominator)."""
    resolved = counters["resolved"]
    return {
        "online_rate": percent(counters["online"], counters["received"]),
        "early_or_on_time_rate": percent(counters["early"] + counters["on_time"], resolved),
        "late_rate": percent(counters["late"], resolved),
        "components_digitised_rate": percent(counters["components_digitised"], counters["components"]),
        "components_reused_rate": percent(counters["components_reused"], counters["components"]),
        "dossiers_digitised_rate": percent(counters["dossiers_digitised"], counters["received"]),
        "results_digitised_rate": percent(counters["results_digitised"], counters["results"]),
        # of the dossiers that owe a fee: exempt ones are left out, unpaid ones count against
        "paid_online_rate": percent(counters["paid_online"], counters["fee_bearing"] - counters["fee_exempt"]),
        "satisfaction_rate": percent(counters["satisfied"], counters["rated"]),
        "average_rating": round(counters["rating_sum"] / counters["rated"], 2) if counters["rated"] else None,
        # Decision 766: (dossiers − dissatisfied, complained-about or late) / dossiers
        "handling_satisfaction_rate": percent(resolved - counters["unhappy"], resolved),
        "complaints_on_time_rate": percent(counters["complaints_answered_on_time"], counters["complaints"]),
    }
