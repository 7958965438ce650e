"""Stats rules (thống kê): which counters each event moves. No I/O here."""

from __future__ import annotations

from motcua_contracts import (
    DossierCompleted,
    DossierDigitised,
    DossierReceived,
    DossierSupplementRequested,
    DossierWithdrawn,
    Event,
    PaymentCompleted,
    PaymentExpired,
    PaymentNotRequired,
    PaymentRefunded,
    PaymentRequested,
    ResultArchived,
    ResultSigned,
)

COUNTERS = (
    "received",
    "online",
    "digitised",
    "paid",
    "completed",
    "early",
    "on_time",
    "late",
    "supplement_requests",
    "withdrawn",
    # digitisation (số hóa): components of received dossiers, those with an electronic copy (and
    # how: scanned here, reused from the owner's e-data store), results signed and archived
    "components",
    "components_digitised",
    "components_scanned",
    "components_reused",
    "results",
    "results_digitised",
    # fees (phí, lệ phí): dossiers with a fee (asked for, or waived for an exempt applicant), how
    # the paid ones were paid, links that expired unpaid, refunds; amounts in VND. `paid` is
    # paid_online + paid_counter, except for payments counted before the channels were.
    "fee_bearing",
    "fee_exempt",
    "paid_online",
    "paid_counter",
    "payments_expired",
    "refunded",
    "collected_vnd",
    "refunded_vnd",
)


def increments(event: Event) -> dict[str, int]:
    """Counter increments caused by one event (applied to the province and the commune)."""
    match event:
        case DossierReceived(channel=channel, components=components):
            return {"received": 1, "online": int(channel.startswith("online")), "components": len(components)}
        case DossierDigitised(components=components, components_scanned=scanned, components_reused=reused):
            return {
                "digitised": 1,
                "components_digitised": len(components),
                "components_scanned": scanned or 0,
                "components_reused": reused or 0,
            }
        case ResultSigned():
            return {"results": 1}
        case ResultArchived():
            return {"results_digitised": 1}
        case PaymentRequested():
            return {"fee_bearing": 1}
        case PaymentNotRequired(exemption=exemption) if exemption is not None:
            return {"fee_bearing": 1, "fee_exempt": 1}
        case PaymentCompleted(channel=channel, amount_vnd=amount):
            return {"paid": 1, f"paid_{channel}": 1, "collected_vnd": amount}
        case PaymentExpired():
            return {"payments_expired": 1}
        case PaymentRefunded(amount_vnd=amount):
            return {"refunded": 1, "refunded_vnd": amount}
        case DossierCompleted(outcome=outcome):
            return {"completed": 1, outcome: 1}
        case DossierSupplementRequested():
            return {"supplement_requests": 1}
        case DossierWithdrawn():
            return {"withdrawn": 1}
    return {}


def rates(counters: dict[str, int]) -> dict[str, float | None]:
    """Shares that the national service index looks at, in percent."""

    def percent(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 2) if whole else None

    received, completed = counters.get("received", 0), counters.get("completed", 0)
    paid_online = counters.get("paid_online", 0)
    return {
        "online_rate": percent(counters.get("online", 0), received),
        "digitised_rate": percent(counters.get("digitised", 0), received),
        "components_digitised_rate": percent(counters.get("components_digitised", 0), counters.get("components", 0)),
        "results_digitised_rate": percent(counters.get("results_digitised", 0), counters.get("results", 0)),
        "early_or_on_time_rate": percent(counters.get("early", 0) + counters.get("on_time", 0), completed),
        # of the fees paid (not of every fee-bearing dossier): exempt and unpaid ones are left out
        "paid_online_rate": percent(paid_online, paid_online + counters.get("paid_counter", 0)),
    }
