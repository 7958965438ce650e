"""The province's administrative units by national agency code: the province, its
departments (sở, ngành) and its communes (xã, phường).

One file (`MOTCUA_UNITS_FILE`, JSON) replaces the sample shipped here; intake checks
where dossiers are received, routing resolves the competent unit from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SAMPLE = Path(__file__).parent / "data" / "units.json"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str


@dataclass(frozen=True)
class Units:
    province: Unit
    departments: dict[str, Unit]
    communes: dict[str, Unit]

    def get(self, code: str) -> Unit | None:
        if code == self.province.code:
            return self.province
        return self.departments.get(code) or self.communes.get(code)

    def department_named(self, name: str) -> Unit | None:
        return next((unit for unit in self.departments.values() if unit.name == name), None)


def parse_units(text: str) -> Units:
    data = json.loads(text)
    return Units(
        province=Unit(code=data["province"]["code"], name=data["province"]["name"]),
        departments={row["code"]: Unit(**row) for row in data.get("departments", [])},
        communes={row["code"]: Unit(**row) for row in data["communes"]},
    )


def load_units(path: str | Path) -> Units:
    return parse_units(Path(path).read_text(encoding="utf-8"))
