"""Routing's settings: what every service reads, plus the concerns routing has."""

from pathlib import Path

from pydantic import Field

from services.runtime import ServiceSettings
from services.runtime.settings import OfficialsTokens, PdfForms, PersonalDataKey, ReferenceData, Workers, required

DATA = Path(__file__).parent / "data"


class RoutingSettings(ServiceSettings, ReferenceData, PdfForms, Workers, OfficialsTokens, PersonalDataKey):
    http_port: int = 8004
    workflows_file: str = Field(
        default=str(DATA / "workflows.json"),
        description="Province-wide workflow templates and the competent-authority map (units override templates "
        "through the API).",
    )
    officials_file: str = Field(
        default=str(DATA / "officials.json"), description="Officials to load when they are not on record yet."
    )
    apology_horizon_days: int = Field(
        default=60,
        ge=1,
        le=366,
        description="How many calendar days past the due date an apology may move the return date at most.",
    )
    approval_key_file: str | None = required(
        "approval-key.pem",
        "Routing's Ed25519 key (PEM) that signs each approval; the development profile creates it, with its "
        "public key beside it (approval-key.pub.pem) for signing.",
    )
    deadline_sweep_s: float = Field(
        default=30.0, gt=0, description="How often the deadline watcher looks for due-soon and overdue dossiers."
    )
