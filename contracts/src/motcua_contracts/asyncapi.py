"""Generate the AsyncAPI 3.0 document of every topic and event from the code.

    python -m motcua_contracts.asyncapi > contracts/asyncapi.json

The committed document is checked against a fresh one by the test suite.
"""

from __future__ import annotations

import json
from typing import Any

from . import __name__ as package
from .envelope import EVENT_TYPES, Envelope
from .topics import ALL_TOPICS, SERVICES

VERSION = "0.1.0"


def _message_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace("_", ".").split("."))


def build() -> dict[str, Any]:
    """The AsyncAPI document as a JSON-ready dict (stable key order)."""
    schemas: dict[str, Any] = {"Envelope": Envelope.model_json_schema(ref_template="#/components/schemas/{model}")}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        channels[topic.name] = {
            "address": topic.name,
            "description": topic.description,
            "messages": {},
            "bindings": {
                "kafka": {"partitions": topic.partitions, "topicConfiguration": {"retention.ms": topic.retention_ms}}
            },
            "x-owner": topic.owner,
            "x-key": topic.key,
        }
    for event_type, model in sorted(EVENT_TYPES.items()):
        name = _message_name(event_type)
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            schemas[def_name] = definition
        schemas[model.__name__] = schema
        messages[name] = {
            "name": event_type,
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {"traceparent": {"type": "string", "description": "W3C trace context."}},
            },
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": event_type},
                            "schema_version": {"const": model.VERSION},
                            "data": {"$ref": f"#/components/schemas/{model.__name__}"},
                        },
                    },
                ]
            },
            "bindings": {"kafka": {"key": {"type": "string", "description": "Dossier code"}}},
        }
        channels[model.TOPIC.name]["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for topic in ALL_TOPICS:
        refs = [{"$ref": f"#/channels/{topic.name}/messages/{m}"} for m in channels[topic.name]["messages"]]
        operations[f"publish.{topic.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "summary": f"Published by the {topic.owner} service.",
            **({"messages": refs} if refs else {}),
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "motcua events",
            "version": VERSION,
            "description": (
                "Events of the motcua one-stop platform. Every message is an Envelope whose `data` is the "
                f"typed payload of its `type`. Python consumers: `pip install` the `{package}` package. "
                f"Services: {', '.join(SERVICES)}."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
