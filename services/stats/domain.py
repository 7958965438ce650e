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
        "components_digitised_rate": percent(counters.get("components_digitised", 0), counters.get("components", 0)),
        "results_digitised_rate": percent(counters.get("results_digitised", 0), counters.get("results", 0)),
        "early_or_on_time_rate": percent(counters.get("early", 0) + counters.get("on_time", 0), completed),
    }
