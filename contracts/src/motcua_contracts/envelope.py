"""The event envelope (CloudEvents-style) and the registry of event types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .ids import new_event_id
from .topics import Topic


class Event(BaseModel):
    """Base of every typed payload. Consumers must accept unknown fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    TYPE: ClassVar[str]
    TOPIC: ClassVar[Topic]
    VERSION: ClassVar[int] = 1

    dossier_code: str = Field(
        description="Dossier code `<unit code>-<YYMMDD>-<NNNN>`.", examples=["H40.101-261122-0001"]
    )


EVENT_TYPES: dict[str, type[Event]] = {}
E = TypeVar("E", bound=type[Event])


def event(type_: str, topic: Topic, version: int = 1) -> Callable[[E], E]:
    """Register a payload class under its stable wire name (never a Python path)."""

    def register(cls: E) -> E:
        if type_ in EVENT_TYPES:
            raise ValueError(f"event type {type_!r} registered twice")
        cls.TYPE, cls.TOPIC, cls.VERSION = type_, topic, version
        EVENT_TYPES[type_] = cls
        return cls

    return register


class UnknownEventType(ValueError):
    """The envelope names an event type this version of the contracts does not know."""


class Envelope(BaseModel):
    """What travels on every topic: metadata plus the typed payload in `data`."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(default_factory=new_event_id, description="ULID: unique and sortable by time.")
    type: str = Field(description="Stable event type name.", examples=["dossier.received"])
    source: str = Field(description="Service that emitted the event.", examples=["intake"])
    time: datetime = Field(default_factory=lambda: datetime.now(UTC), description="When the event happened (UTC).")
    subject: str = Field(description="Dossier code; also the Kafka key.", examples=["H40.101-261122-0001"])
    commune: str = Field(description="Agency code of the commune the dossier belongs to.", examples=["H40.101"])
    correlation_id: str = Field(description="Id shared by every event of one dossier's journey.")
    causation_id: str | None = Field(default=None, description="Id of the event that caused this one.")
    schema_version: int = Field(default=1, description="Version of the payload schema for `type`.")
    data: dict[str, Any] = Field(description="The typed payload; see the event type's schema.")

    @classmethod
    def wrap(
        cls,
        payload: Event,
        *,
        source: str,
        commune: str,
        cause: Envelope | None = None,
    ) -> Envelope:
        """Envelope `payload`; the causing event's correlation id is carried on."""
        event_id = new_event_id()
        return cls(
            id=event_id,
            type=payload.TYPE,
            source=source,
            subject=payload.dossier_code,
            commune=commune,
            correlation_id=cause.correlation_id if cause else event_id,
            causation_id=cause.id if cause else None,
            schema_version=payload.VERSION,
            data=payload.model_dump(mode="json"),
        )

    def payload(self) -> Event:
        """Parse `data` into the registered payload class (raises on bad data)."""
        try:
            model = EVENT_TYPES[self.type]
        except KeyError:
            raise UnknownEventType(f"unknown event type {self.type!r}") from None
        return model.model_validate(self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()
