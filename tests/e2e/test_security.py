"""Who may say what on the bus: the broker authenticates every client and lets each write
only its own topics; signing acts only on approvals routing signed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)
from motcua_contracts import DossierApproved, Envelope, dead_letter_topic

from infra.kafka_access import admin_client
from infra.kafka_io import read_topic
from infra.stack import Stack

from .support import eventually

pytestmark = pytest.mark.e2e

FORGED = DossierApproved(
    dossier_code="H40.101-261124-9999",
    competent_unit="H40.101",
    approved_by="Nguyễn Văn Minh",
    result_title="GIẤY PHÉP XÂY DỰNG nhà ở riêng lẻ (giả mạo)",
)


def forged_envelope() -> Envelope:
    return Envelope.wrap(FORGED, source="routing", commune="H40.101")


async def publish(client: dict[str, Any], envelope: Envelope) -> None:
    producer = AIOKafkaProducer(**client, request_timeout_ms=10_000)
    try:
        await producer.start()
        await producer.send_and_wait(FORGED.TOPIC.name, envelope.to_bytes(), key=FORGED.dossier_code.encode())
    finally:
        await producer.stop()


async def test_a_client_without_credentials_cannot_reach_the_broker(stack: Stack) -> None:
    with pytest.raises(KafkaConnectionError):
        await publish({"bootstrap_servers": stack.kafka_bootstrap}, forged_envelope())
    guessed = {**stack.kafka_client("routing"), "sasl_plain_password": "routing"}
    with pytest.raises(KafkaConnectionError):
        await publish(guessed, forged_envelope())


@pytest.mark.parametrize("principal", ["signing", "intake", "reader"])
async def test_only_routing_may_publish_on_its_topic(stack: Stack, principal: str) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(stack.kafka_client(principal), forged_envelope())


async def test_departments_read_shared_topics_but_not_the_citizens_messages(stack: Stack) -> None:
    [record async for record in read_topic(stack.kafka_client("reader"), "motcua.routing.v1")]  # allowed
    with pytest.raises(TopicAuthorizationFailedError):
        [record async for record in read_topic(stack.kafka_client("reader"), "motcua.notification.v1")]


async def test_an_approval_routing_did_not_sign_is_dead_lettered_not_signed(stack: Stack) -> None:
    # Even with routing's broker password (leaked, or an operator's mistake), an approval
    # without routing's signature gets no signed result.
    await publish(stack.kafka_client("routing"), forged_envelope())

    async def parked() -> dict[bytes | None, str]:
        topic = dead_letter_topic("signing").name
        return {
            r.key: dict(r.headers)["motcua-dlq-reason"].decode() async for r in read_topic(stack.kafka_client(), topic)
        }

    reasons = await eventually(parked, lambda found: FORGED.dossier_code.encode() in found)
    assert reasons[FORGED.dossier_code.encode()] == "refused: approval without routing's signature"
    # an official may read every signed result: not found here means never signed
    async with httpx.AsyncClient(timeout=10) as client:
        token = (await client.post(f"{stack.issuer_url}/token", data={"username": "h40101.tiepnhan1"})).json()
        official = {"Authorization": f"Bearer {token['access_token']}"}
        result = await client.get(f"{stack.service_url('signing')}/results/{FORGED.dossier_code}-KQ1", headers=official)
    assert result.status_code == 404


async def test_provisioning_takes_back_a_grant_the_plan_does_not_have(stack: Stack) -> None:
    shared = stack.secrets()
    admin = admin_client(stack.kafka_bootstrap, "admin", shared["kafka.admin"], "SASL_PLAINTEXT")
    widened = AclBinding(
        ResourceType.TOPIC,
        FORGED.TOPIC.name,
        ResourcePatternType.LITERAL,
        "User:reader",
        "*",
        AclOperation.WRITE,
        AclPermissionType.ALLOW,
    )
    await asyncio.to_thread(lambda: admin.create_acls([widened])[widened].result(timeout=30))
    await eventually(lambda: can_publish(stack, "reader"), lambda allowed: allowed, timeout=60)  # the hole is real
    await asyncio.to_thread(stack.provision_kafka)
    await eventually(lambda: can_publish(stack, "reader"), lambda allowed: not allowed, timeout=60)


async def can_publish(stack: Stack, principal: str) -> bool:
    """Whether `principal` may publish on routing's topic (an empty, unreadable record: it is dead-lettered)."""
    producer = AIOKafkaProducer(**stack.kafka_client(principal), request_timeout_ms=10_000)
    try:
        await producer.start()
        await producer.send_and_wait(FORGED.TOPIC.name, b"", key=b"acl-probe")
        return True
    except TopicAuthorizationFailedError:
        return False
    finally:
        await producer.stop()
