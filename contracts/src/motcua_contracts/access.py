"""Who may do what on the bus: one principal per service, and a read-only one.

The broker authenticates every client (SASL/SCRAM) and authorises it with these grants
only; anything not granted is refused. The plan is data, so the local stack and a
cluster's provisioning job create the same users and ACLs.

- `User:<service>` writes its own event topic and dead-letter topic, reads the topics
  its handlers consume (`CONSUMES`) and joins its consumer group, named after it.
- `User:reader` is for departments and dashboards: it reads the `SHARED` topics, which
  carry no names, phone numbers or identity numbers in clear, in consumer groups whose
  names start with `reader.`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .topics import (
    DIGITISATION,
    EVENT_TOPICS,
    INTAKE,
    NOTIFICATION,
    PAYMENT,
    ROUTING,
    SERVICES,
    SIGNING,
    STATS,
    Topic,
    dead_letter_topic,
)

READER = "reader"
READER_GROUP_PREFIX = "reader."

# The topics each service's handlers consume (a test checks this against the services).
CONSUMES: dict[str, tuple[Topic, ...]] = {
    "intake": (DIGITISATION, NOTIFICATION, PAYMENT, ROUTING, SIGNING),
    "digitisation": (INTAKE, ROUTING, SIGNING),
    "payment": (INTAKE, ROUTING),
    "routing": (DIGITISATION, INTAKE, PAYMENT, SIGNING),
    "signing": (ROUTING,),
    "notification": (INTAKE, PAYMENT, ROUTING),
    "stats": (DIGITISATION, INTAKE, NOTIFICATION, PAYMENT, ROUTING, SIGNING),
}

# Topics meant for departments and dashboards. Notification's topic is not: it names
# each message's (masked) recipient.
SHARED: tuple[Topic, ...] = (INTAKE, DIGITISATION, PAYMENT, ROUTING, SIGNING, STATS)

Operation = Literal["read", "write", "describe"]


@dataclass(frozen=True)
class Grant:
    """Allow `principal` (a user name) to `operation` the topic or consumer group `name`
    (every name starting with it, if `prefixed`)."""

    principal: str
    resource: Literal["topic", "group"]
    name: str
    operation: Operation
    prefixed: bool = False


def owned_topics(service: str) -> tuple[Topic, ...]:
    """The topics only `service` publishes on: its event topic and its dead-letter topic."""
    return (*(t for t in EVENT_TOPICS if t.owner == service), dead_letter_topic(service))


def grants() -> tuple[Grant, ...]:
    """Every ACL of the platform: nothing else is allowed."""
    plan: list[Grant] = []
    for service in SERVICES:
        for topic in owned_topics(service):
            plan += [Grant(service, "topic", topic.name, "write"), Grant(service, "topic", topic.name, "describe")]
        for topic in CONSUMES[service]:
            plan += [Grant(service, "topic", topic.name, "read"), Grant(service, "topic", topic.name, "describe")]
        plan.append(Grant(service, "group", service, "read"))
    for topic in SHARED:
        plan += [Grant(READER, "topic", topic.name, "read"), Grant(READER, "topic", topic.name, "describe")]
    plan.append(Grant(READER, "group", READER_GROUP_PREFIX, "read", prefixed=True))
    return tuple(plan)


def principals() -> tuple[str, ...]:
    """The users the broker knows besides its administrator: one per service, and the reader."""
    return (*SERVICES, READER)
