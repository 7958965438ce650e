"""Settings from the environment (prefix `MOTCUA_`), shared by every service."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from .units import SAMPLE as SAMPLE_UNITS


class ServiceSettings(BaseSettings):
    """What every service reads at start-up; a service subclasses it for its own knobs."""

    model_config = SettingsConfigDict(env_prefix="MOTCUA_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    mongo_url: str = "mongodb://127.0.0.1:27017/?replicaSet=secantus"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    # Span export: a JSON-lines file (local runs, tests) and/or an OTLP/HTTP endpoint.
    trace_file: str | None = None
    otlp_endpoint: str | None = None
    # Batching: how many events one MongoDB transaction applies at most.
    batch_max: int = 200
    batch_wait_ms: int = 50
    # Retry an event that fails this many times with backoff, then dead-letter it.
    retry_attempts: int = 4
    retry_backoff_s: float = 0.2
    # Walking-skeleton mode: stand-ins for humans (auto-approval, sandbox payer).
    skeleton_mode: bool = True
    # Larger HTTP request bodies are refused with 413 before they are read.
    max_body_bytes: int = 32 * 1024 * 1024
    # Official days off and make-up working days beyond the statutory calendar (JSON).
    calendar_file: str | None = None
    # The province's units (province, departments, communes); the sample is replaced in deployment.
    units_file: str = str(SAMPLE_UNITS)
    # Officials' tokens: the OIDC issuer whose keys sign them and the audience they must name.
    oidc_issuer: str = "http://127.0.0.1:8009"
    oidc_audience: str = "motcua"
    # A Unicode font for PDF forms (Debian: fonts-dejavu-core).
    pdf_font: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    pdf_bold_font: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    # The service's own database; defaults to `motcua_<service>`.
    database: str | None = None

    def database_name(self, service: str) -> str:
        """Each service owns one database; no service reads another's."""
        return self.database or f"motcua_{service}"
