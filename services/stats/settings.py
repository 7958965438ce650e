from pydantic import Field

from services.runtime import ServiceSettings
from services.runtime.settings import OfficialsTokens, PdfForms, ReferenceData


class StatsSettings(ServiceSettings, ReferenceData, PdfForms, OfficialsTokens):
    http_port: int = 8007
    snapshot_every_s: float = Field(default=5.0, description="How often the changed units' snapshots are published.")
    snapshot_all_every_s: float = Field(default=300.0, description="How often every unit's snapshot is published.")
    index_file: str | None = Field(
        default=None, description="The service index's indicators (TOML); default: the sample."
    )
    rebuild_poll_s: float = Field(default=2.0, description="How often a replica looks for a requested rebuild.")
