"""The one registry of Kafka topics: names, partition counts and keys.

Every topic is owned by exactly one service (only it publishes there) and is
keyed by the dossier code, so all events of one dossier stay in order.
Partition counts bound how many replicas of a consumer group can work in
parallel; 12 leaves room to scale one province's ~3,000 dossiers a day out by
an order of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICES = ("intake", "digitisation", "payment", "routing", "signing", "notification", "stats")


@dataclass(frozen=True)
class Topic:
    name: str
    owner: str
    partitions: int
    description: str
    key: str = "dossier code (envelope subject)"
    # The lifecycle topics are the history read models are rebuilt from: kept for good (-1).
    retention_ms: int = -1


INTAKE = Topic("motcua.intake.v1", "intake", 12, "Dossiers received at any channel.")
DIGITISATION = Topic("motcua.digitisation.v1", "digitisation", 12, "Dossier components digitised or reused.")
PAYMENT = Topic("motcua.payment.v1", "payment", 12, "Fee requests and confirmed online payments.")
ROUTING = Topic("motcua.routing.v1", "routing", 12, "Workflow decisions and completion of dossiers.")
SIGNING = Topic("motcua.signing.v1", "signing", 12, "Results digitally signed by the competent agency.")
NOTIFICATION = Topic(
    "motcua.notification.v1",
    "notification",
    12,
    "Messages to citizens and officials and their delivery; citizens' feedback and complaints.",
)
STATS = Topic(
    "motcua.stats.v1",
    "stats",
    1,
    "Figures and the service index of the province and each unit, for dashboards (periodic snapshots).",
    key="unit code, or `province`",
    retention_ms=7 * 24 * 3600 * 1000,  # snapshots: the newest of each unit is what matters
)

EVENT_TOPICS: tuple[Topic, ...] = (INTAKE, DIGITISATION, PAYMENT, ROUTING, SIGNING, NOTIFICATION, STATS)


def dead_letter_topic(service: str) -> Topic:
    """The topic where `service` parks events it could not handle, with the reason."""
    return Topic(
        f"motcua.{service}.dlq.v1",
        service,
        1,
        f"Events the {service} service could not handle; original bytes plus reason headers.",
        key="original key",
        retention_ms=90 * 24 * 3600 * 1000,
    )


DEAD_LETTER_TOPICS: tuple[Topic, ...] = tuple(dead_letter_topic(s) for s in SERVICES)
ALL_TOPICS: tuple[Topic, ...] = EVENT_TOPICS + DEAD_LETTER_TOPICS
