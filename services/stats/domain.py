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
)


def increments(event: Event) -> dict[str, int]:
    """Counter increments caused by one event (applied to the province and the commune)."""
    match event:
        case DossierReceived(channel=channel):
            return {"received": 1, "online": int(channel.startswith("online"))}
        case DossierDigitised():
            return {"digitised": 1}
        case PaymentCompleted():
            return {"paid": 1}
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
    return {
        "online_rate": percent(counters.get("online", 0), received),
        "digitised_rate": percent(counters.get("digitised", 0), received),
        "early_or_on_time_rate": percent(counters.get("early", 0) + counters.get("on_time", 0), completed),
    }
