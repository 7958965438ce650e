from pathlib import Path

from services.runtime import ServiceSettings

DATA = Path(__file__).parent / "data"


class RoutingSettings(ServiceSettings):
    http_port: int = 8004
    # Province-wide workflow templates and the competent-authority map (units override
    # templates through the API), and the officials to load when not on record yet.
    workflows_file: str = str(DATA / "workflows.json")
    officials_file: str = str(DATA / "officials.json")
    # How often the deadline watcher looks for due-soon and overdue dossiers, in seconds.
    deadline_sweep_s: float = 30.0


settings = RoutingSettings()
