"""Fail-safe settings, worker processes, metrics: the runtime's promises to every service."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from services.runtime.settings import ServiceSettings, required
from services.runtime.workers import Workers

DB = "db.example.vn:27017/?replicaSet=rs0"


class GatewaySettings(ServiceSettings):
    gateway_secret: SecretStr | None = required("dev-secret", "shared secret")
    gateway_url: str | None = required("http://127.0.0.1:8010", "gateway address")


def test_a_deployment_without_its_secrets_refuses_to_start_and_names_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTCUA_PROFILE", raising=False)
    with pytest.raises(ValidationError) as refused:
        GatewaySettings()
    message = str(refused.value)
    assert "MOTCUA_KAFKA_PASSWORD, MOTCUA_GATEWAY_SECRET, MOTCUA_GATEWAY_URL must be set" in message
    assert "MOTCUA_PROFILE=development" in message


def test_set_secrets_are_kept_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_GATEWAY_SECRET", "s3cret-from-vault")
    settings = GatewaySettings(
        gateway_url="https://pay.example.vn", kafka_password="broker-s3cret", mongo_url=f"mongodb://payment:db@{DB}"
    )
    assert settings.gateway_secret is not None and settings.gateway_secret.get_secret_value() == "s3cret-from-vault"
    assert "s3cret-from-vault" not in repr(settings) and "broker-s3cret" not in repr(settings)
    assert settings.development_defaults == []


def test_the_development_profile_fills_in_development_values_and_says_which() -> None:
    settings = GatewaySettings(profile="development", gateway_url="http://127.0.0.1:9999")
    assert settings.gateway_secret is not None and settings.gateway_secret.get_secret_value() == "dev-secret"
    assert settings.gateway_url == "http://127.0.0.1:9999"
    assert settings.development_defaults == ["kafka_password", "gateway_secret"]


def test_a_deployment_reaches_its_database_only_as_its_own_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_GATEWAY_SECRET", "s3cret-from-vault")
    chosen = {"gateway_url": "https://pay.example.vn", "kafka_password": "broker-s3cret"}
    with pytest.raises(ValidationError, match="MOTCUA_MONGO_URL must name the service's database user"):
        GatewaySettings(**chosen, mongo_url=f"mongodb://{DB}")
    assert GatewaySettings(**chosen, mongo_url=f"mongodb://payment:db@{DB}").mongo_url.startswith("mongodb://payment")


def _square(value: int) -> tuple[int, int]:
    import os

    return value * value, os.getpid()


async def test_cpu_heavy_work_runs_in_another_process() -> None:
    import os

    workers = Workers(1)
    try:
        result, pid = await workers.run(_square, 12)
    finally:
        workers.close()
    assert result == 144 and pid != os.getpid()
