"""Provision the broker from the contracts: topics, one SCRAM user per principal, and the
ACLs of the access plan (`motcua_contracts.access`). Idempotent: run it again after a
contract change and it adds what is missing and removes the platform's ACLs the plan no
longer has (those of its principals, or on its topics and groups; nothing else).

Runs as the broker's administrator; the same plan serves a cluster's provisioning job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import Future

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from motcua_contracts import ALL_TOPICS
from motcua_contracts.access import Grant, grants, principals

SCRAM_ITERATIONS = 8192
OPERATIONS = {"read": AclOperation.READ, "write": AclOperation.WRITE, "describe": AclOperation.DESCRIBE}
RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}


QUIET = logging.getLogger("motcua.kafka_access.client")
QUIET.setLevel(logging.CRITICAL)


class ProvisioningError(RuntimeError):
    """The broker refused part of the plan."""


def admin_client(bootstrap: str, username: str, password: str, security_protocol: str) -> AdminClient:
    return AdminClient(
        {
            "bootstrap.servers": bootstrap,
            "security.protocol": security_protocol,
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": username,
            "sasl.password": password,
            "socket.timeout.ms": 5000,
            # refused connections while the broker starts are expected: failures surface as exceptions
            "logger": QUIET,
        }
    )


def wait_until_reachable(admin: AdminClient, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin.list_topics(timeout=5)
            return
        except KafkaException:
            if time.monotonic() > deadline:
                raise


def provision(admin: AdminClient, passwords: Mapping[str, str], timeout: float = 60) -> None:
    """Create the registry's missing topics, the principals' users and the plan's ACLs."""
    wait_until_reachable(admin, timeout)
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [
        NewTopic(t.name, t.partitions, 1, config={"retention.ms": str(t.retention_ms)})
        for t in ALL_TOPICS
        if t.name not in existing
    ]
    if missing:
        _settle(admin.create_topics(missing, operation_timeout=30), ignore=KafkaError.TOPIC_ALREADY_EXISTS)
    users = [
        UserScramCredentialUpsertion(
            user,
            ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
            passwords[user].encode(),
        )
        for user in principals()
    ]
    _settle(admin.alter_user_scram_credentials(users))
    planned = [acl_binding(grant) for grant in grants()]
    _settle(admin.create_acls(planned))
    everything = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY
    )
    present = admin.describe_acls(everything).result(timeout=30)
    stale = [acl for acl in present if acl not in planned and _platforms(acl)]
    if stale:
        _settle(admin.delete_acls([_exactly(acl) for acl in stale]))


def _platforms(acl: AclBinding) -> bool:
    """An ACL the platform owns: for one of its principals, or on one of its topics or groups."""
    ours = {f"User:{p}" for p in principals()}
    groups = {*(g.name for g in grants() if g.resource == "group")}
    return acl.principal in ours or acl.name.startswith("motcua.") or acl.name in groups


def _exactly(acl: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        acl.restype, acl.name, acl.resource_pattern_type, acl.principal, acl.host, acl.operation, acl.permission_type
    )


def acl_binding(grant: Grant) -> AclBinding:
    return AclBinding(
        RESOURCES[grant.resource],
        grant.name,
        ResourcePatternType.PREFIXED if grant.prefixed else ResourcePatternType.LITERAL,
        f"User:{grant.principal}",
        "*",
        OPERATIONS[grant.operation],
        AclPermissionType.ALLOW,
    )


def _settle(futures: Mapping[object, Future], ignore: int | None = None) -> None:
    failures = []
    for subject, future in futures.items():
        try:
            future.result(timeout=30)
        except KafkaException as exc:
            if ignore is None or exc.args[0].code() != ignore:
                failures.append(f"{subject}: {exc.args[0]}")
    if failures:
        raise ProvisioningError("; ".join(failures))
