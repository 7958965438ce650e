"""Realistic dossier submissions for load runs and tests."""

from __future__ import annotations

import base64
import random
from typing import Any

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Quốc", "Thu", "Bảo"]
GIVEN = [
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Hà",
    "Hải",
    "Hương",
    "Khánh",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
]
# Channel shares close to the seeded reports: most dossiers online, a third at the counter.
CHANNELS = {"online_full": 0.45, "online_partial": 0.2, "counter": 0.3, "post": 0.05}
# Civil status dominates commune work; land and construction are rarer but heavy.
PROCEDURE_WEIGHT = {
    "Hộ tịch": 5,
    "Cư trú": 3,
    "Bảo trợ xã hội": 2,
    "Đăng ký kinh doanh": 2,
    "Đất đai": 1,
    "Xây dựng": 1,
}
FAKE_PDF = b"%PDF-1.7\n% motcua sample component\n"


def person_name(rng: random.Random) -> str:
    """A Vietnamese full name: family, middle and given name."""
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def make_dossier(rng: random.Random, procedures: list[dict], communes: list[dict]) -> dict[str, Any]:
    procedures = [p for p in procedures if p["online_level"] != "information"]
    procedure = rng.choices(procedures, weights=[PROCEDURE_WEIGHT.get(p["field"], 1) for p in procedures])[0]
    allowed = [c for c in CHANNELS if procedure["online_level"] == "full" or c != "online_full"]
    channel = rng.choices(allowed, weights=[CHANNELS[c] for c in allowed])[0]
    online = channel.startswith("online")
    components = []
    for component in procedure["components"]:
        name = component["name"]
        if component["reusable"] and rng.random() < 0.3:
            components.append({"name": name, "form": "e_data_store"})
        elif online:
            content = FAKE_PDF + rng.randbytes(rng.randint(500, 3000))
            components.append(
                {"name": name, "form": "electronic", "content_base64": base64.b64encode(content).decode()}
            )
        else:
            components.append({"name": name, "form": "paper"})
    extra: dict[str, str] = {}
    if channel == "counter":
        extra["received_by"] = person_name(rng)
    elif channel == "post":
        extra["postal_reference"] = "RR" + "".join(rng.choices("0123456789", k=9)) + "VN"
    return extra | {
        "procedure_code": procedure["code"],
        "commune_code": rng.choice(communes)["code"],
        "channel": channel,
        "applicant": {
            "name": person_name(rng),
            "phone": "09" + "".join(rng.choices("0123456789", k=8)),
            "identity_number": "0" + "".join(rng.choices("0123456789", k=11)),
        },
        "components": components,
    }
