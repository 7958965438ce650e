"""Realistic dossier submissions for load runs and tests: `make_dossier` draws one, its files as
bytes; `with_uploads` puts those files into the document store (digitisation's `POST /documents`),
as a portal does, and answers the submission that names them."""

from __future__ import annotations

import asyncio
import io
import random
import time
from typing import Any

import httpx
import pikepdf

from services.runtime.retry import backoff

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


def sample_pdf(rng: random.Random, title: str) -> bytes:
    """A small real PDF, different each time (its own content id), as an applicant uploads."""
    document = pikepdf.new()
    document.add_blank_page(page_size=(595, 842))
    document.docinfo["/Title"] = title
    document.docinfo["/Subject"] = rng.randbytes(16).hex()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def person_name(rng: random.Random) -> str:
    """A Vietnamese full name: family, middle and given name."""
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def make_dossier(
    rng: random.Random, procedures: list[dict], communes: list[dict], channel: str | None = None
) -> dict[str, Any]:
    """A dossier of one of `procedures` at one of `communes`, on `channel` (drawn if not given):
    online, its files (bytes, under `file`) to upload; at the counter or by post, on paper."""
    procedures = [p for p in procedures if p["online_level"] != "information"]
    procedure = rng.choices(procedures, weights=[PROCEDURE_WEIGHT.get(p["field"], 1) for p in procedures])[0]
    allowed = [c for c in CHANNELS if procedure["online_level"] == "full" or c != "online_full"]
    channel = channel or rng.choices(allowed, weights=[CHANNELS[c] for c in allowed])[0]
    online = channel.startswith("online")
    components: list[dict[str, Any]] = []
    for component in procedure["components"]:
        name = component["name"]
        if online:  # uploaded before the submission: see `with_uploads`
            components.append({"name": name, "form": "electronic", "file": sample_pdf(rng, name)})
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


class UploadRefused(RuntimeError):
    """The document store did not take a file: its answer's `status` (0: never reached), and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


UNAVAILABLE = frozenset({429, 500, 502, 503, 504})  # "not now": try again
PAUSE_S, PAUSE_CAP_S = 0.5, 8.0


async def upload(client: httpx.AsyncClient, name: str, content: bytes, patience: float = 0) -> dict[str, Any]:
    """Upload one file as a careful portal does: while the store is busy or unreachable, again
    (after `Retry-After`, or a growing pause) until `patience` seconds have passed."""
    deadline, attempt = time.monotonic() + patience, 0
    while True:
        attempt += 1
        pause = backoff(attempt, PAUSE_S, cap=PAUSE_CAP_S)
        try:
            answer = await client.post("/documents", files={"file": ("thanh-phan.pdf", content, "application/pdf")})
        except httpx.TransportError as error:
            status, reason = 0, type(error).__name__
        else:
            if answer.status_code == 201:
                return answer.json()
            status, reason = answer.status_code, answer.text[:200]
            if status not in UNAVAILABLE:
                raise UploadRefused(status, f"upload of {name!r}: {reason}")
            pause = float(answer.headers.get("Retry-After", pause))
        if time.monotonic() + pause > deadline:
            raise UploadRefused(status, f"upload of {name!r} not taken within {patience:.0f} s: {reason}")
        await asyncio.sleep(pause)


async def with_uploads(digitisation: httpx.AsyncClient, dossier: dict[str, Any], patience: float = 0) -> dict[str, Any]:
    """The submission of `dossier`: each file put into the document store first (`upload`) and
    named by the document id, hash and upload token the store answers with."""
    components = []
    for component in dossier["components"]:
        if "file" not in component:
            components.append(component)
            continue
        stored = await upload(digitisation, component["name"], component["file"], patience)
        components.append(
            {
                "name": component["name"],
                "form": "electronic",
                "document_id": stored["document_id"],
                "sha256": stored["sha256"],
                "upload_token": stored["upload_token"],
            }
        )
    return dossier | {"components": components}
