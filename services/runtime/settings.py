"""Settings from the environment (prefix `MOTCUA_`), one class per concern.

`ServiceSettings` holds what every service needs (its broker, database, HTTP edge,
telemetry and batching); a service's own settings class adds the concerns it uses
and nothing else, e.g. `class RoutingSettings(ServiceSettings, ReferenceData, PdfForms,
OfficialsTokens)`.

**Fail safe.** A setting a deployment must choose (a shared secret, a key, the identity
provider) is declared with `required(development=...)`. Outside the development profile a
service without it refuses to start and says which variable is missing; with
`MOTCUA_PROFILE=development` (the local stack sets it) the development value is used and
the start-up log says so.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo.errors import InvalidURI
from pymongo.uri_parser import parse_uri

from .clients import Network, networks
from .personal import PersonalData, decode_key
from .units import SAMPLE as SAMPLE_UNITS

Profile = Literal["production", "development"]
DEVELOPMENT = "development"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTCUA_", extra="ignore")


def required(development: str, description: str) -> Any:
    """A setting without a default outside the development profile."""
    return Field(default=None, description=description, json_schema_extra={"development": development})


class MissingSettings(ValueError):
    """Settings a deployment must choose are not set."""


# --- what every service uses ------------------------------------------------------------


class Connections(Settings):
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["SASL_SSL", "SASL_PLAINTEXT"] = Field(
        default="SASL_SSL", description="SASL_PLAINTEXT only where the network is private (a local stack)."
    )
    kafka_ca_file: str | None = Field(default=None, description="CA of the broker's TLS certificate; default: system.")
    kafka_username: str | None = Field(default=None, description="The service's broker user; default its name.")
    kafka_password: SecretStr | None = required(
        development="development", description="The service's SCRAM-SHA-512 password on the broker."
    )
    mongo_url: str = "mongodb://127.0.0.1:27017/?replicaSet=secantus"
    database: str | None = Field(default=None, description="The service's own database; default motcua_<service>.")

    def database_name(self, service: str) -> str:
        """Each service owns one database; no service reads another's."""
        return self.database or f"motcua_{service}"


class HttpEdge(Settings):
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_body_bytes: int = Field(default=32 * 1024 * 1024, description="Larger request bodies get 413 unread.")
    trusted_proxies: str = Field(
        default="",
        description="Reverse proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR networks.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, proxies: str) -> str:
        networks(proxies)  # ValueError names the one that is not an address or network
        return proxies

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        """The trusted proxies' networks (see `services/runtime/clients.py`)."""
        return networks(self.trusted_proxies)


class Telemetry(Settings):
    log_level: str = "INFO"
    trace_file: str | None = Field(default=None, description="Write finished spans here as JSON lines.")
    otlp_endpoint: str | None = Field(default=None, description="Export spans to this OTLP/HTTP collector.")


class ConsumerSettings(Settings):
    batch_max: int = Field(default=200, description="Events one transaction applies at most.")
    batch_wait_ms: int = Field(default=50, description="How long the consumer waits to fill a batch.")
    retry_attempts: int = Field(default=4, description="Attempts of a failing event before it is dead-lettered.")
    retry_backoff_s: float = Field(default=0.2, description="First pause between attempts; it doubles.")


class ServiceSettings(Connections, HttpEdge, Telemetry, ConsumerSettings):
    """What every service reads at start-up; a service adds the concerns it uses."""

    profile: Profile = "production"
    _development_defaults: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _required_settings(self) -> ServiceSettings:
        fields = type(self).model_fields
        missing = [name for name, spec in fields.items() if _development_value(spec) and getattr(self, name) is None]
        if missing and self.profile != DEVELOPMENT:
            names = ", ".join(f"MOTCUA_{name.upper()}" for name in missing)
            raise MissingSettings(
                f"{names} must be set (or choose the development profile with MOTCUA_PROFILE=development)"
            )
        if self.profile != DEVELOPMENT and not _has_user(self.mongo_url):
            raise MissingSettings(
                "MOTCUA_MONGO_URL must name the service's database user (mongodb://<user>:<password>@...): "
                "the database requires authentication outside the development profile"
            )
        for name in missing:
            value = _development_value(type(self).model_fields[name])
            annotation = str(type(self).model_fields[name].annotation)
            setattr(self, name, SecretStr(value) if "SecretStr" in annotation else value)
        self._development_defaults = missing
        return self

    @property
    def development_defaults(self) -> list[str]:
        """The required settings that took their development value (logged at start)."""
        return list(self._development_defaults)


def _has_user(url: str) -> bool:
    try:
        return bool(parse_uri(url)["username"])
    except (ValueError, InvalidURI):
        return False


def _development_value(spec: Any) -> str | None:
    extra = spec.json_schema_extra
    return extra.get("development") if isinstance(extra, dict) else None


# --- concerns some services have ---------------------------------------------------------


class ReferenceData(Settings):
    """The province's units and working calendar (intake, routing)."""

    units_file: str = Field(default=str(SAMPLE_UNITS), description="Province, departments and communes (JSON).")
    calendar_file: str | None = Field(default=None, description="Extra days off and working days (JSON).")


class PdfForms(Settings):
    """A Unicode font for the PDF forms (Debian: fonts-dejavu-core)."""

    pdf_font: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    pdf_bold_font: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


class Workers(Settings):
    """Worker processes for CPU-heavy work (PDF rendering, checking and assembling files)."""

    workers: int = Field(default=1, ge=1, le=64, description="Worker processes for CPU-heavy work.")


class FileStore(Settings):
    """The platform's content-addressed file store (services/runtime/files.py), reached with the
    service's database user, which must be allowed this database too."""

    files_database: str = Field(default="motcua_files", description="Database of the file store (GridFS).")


class OfficialsTokens(Settings):
    """Officials' OIDC access tokens: the identity provider whose keys sign them, the audience they name."""

    oidc_issuer: str | None = required("http://127.0.0.1:8009", "URL of the identity provider (OIDC issuer).")
    oidc_audience: str = "motcua"


class ReceiptTokens(Settings):
    """The key of receipts' access tokens (services/runtime/receipts.py): intake issues them,
    signing checks them. Every service that holds it must hold the same key."""

    receipt_token_key: SecretStr | None = required(
        development="development-receipt-token-key",
        description="Key of the HMAC that makes each receipt's access token from the dossier code.",
    )

    def receipt_key(self) -> bytes:
        """The receipt-token key, for the HMACs that need it (never logged)."""
        assert self.receipt_token_key is not None  # the settings check fills it or refuses to start
        return self.receipt_token_key.get_secret_value().encode()


DEVELOPMENT_PERSONAL_DATA_KEY = "ZGV2ZWxvcG1lbnQgcGVyc29uYWwtZGF0YSBrZXkgMzI="


class PersonalDataKey(Settings):
    """The key that seals citizens' names and contact details in events
    (services/runtime/personal.py): intake seals them, routing and notification open them."""

    personal_data_key: SecretStr | None = required(
        development=DEVELOPMENT_PERSONAL_DATA_KEY,
        description="AES-256 key (32 bytes, base64) sealing applicants' names and contacts in events.",
    )
    personal_data_old_keys: SecretStr = Field(
        default=SecretStr(""), description="Earlier keys (base64, comma-separated), still opening older seals."
    )

    def personal_data(self) -> PersonalData:
        """The sealer and opener (a malformed key stops the start with the reason)."""
        assert self.personal_data_key is not None  # the settings check fills it or refuses to start
        older = [decode_key(k) for k in self.personal_data_old_keys.get_secret_value().split(",") if k.strip()]
        return PersonalData(decode_key(self.personal_data_key.get_secret_value()), older)
