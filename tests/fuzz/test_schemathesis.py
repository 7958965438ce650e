"""Each service's HTTP API fuzzed from the OpenAPI document it serves in the development profile,
in process on the harness (tests/harness.py): no answer is a 5xx, every answer's status, content
type and body are ones the document declares, and requests that break the document are refused.
NaN, Infinity, -Infinity or an overflowing number anywhere in a JSON body is a 422 that leaves
the service's database and outbox as they were.

Routing's requests carry an administrator's token from the development issuer, so they get past
401. Examples are bounded per operation and derandomized: the file runs in well under a minute."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from services.digitisation import app as digitisation
from services.digitisation.settings import DigitisationSettings
from services.intake import app as intake
from services.intake.settings import IntakeSettings
from services.notification import app as notification
from services.notification.settings import NotificationSettings
from services.payment import app as payment
from services.payment.settings import PaymentSettings
from services.runtime import Service
from services.signing import app as signing
from services.stats import app as stats
from services.stats.settings import StatsSettings
from tests.handlers.events import APPROVAL_PUBLIC_KEY
from tests.handlers.routing_support import running as running_routing
from tests.harness import Harness
from tests.signing_pki import dev_pki, signing_settings

EXAMPLES = 20  # per operation and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]
JSON = {"content-type": "application/json"}
IDENTITY = "001203004567"
ADMINISTRATOR = "h40101.quantri"


@schemathesis.serializer("application/pdf")
def pdf_body(_: Any, value: Any) -> bytes:
    """Signing's verification takes a PDF as the body: the generated value's bytes, anything at all."""
    return value if isinstance(value, bytes) else str(value).encode()


SERVICES: dict[str, Callable[[Path], Service[Any]]] = {
    "intake": lambda _: intake.create(IntakeSettings(profile="development")),
    "digitisation": lambda _: digitisation.create(
        DigitisationSettings(profile="development", trust_roots_file=str(dev_pki().root))
    ),
    "payment": lambda _: payment.create(PaymentSettings(profile="development")),
    "signing": lambda _: signing.create(
        signing_settings(approval_public_key_file=str(APPROVAL_PUBLIC_KEY)), transport=dev_pki().transport()
    ),
    "notification": lambda _: notification.create(NotificationSettings(profile="development")),
    "stats": lambda _: stats.create(StatsSettings(profile="development")),
}


@dataclass
class Edge:
    harness: Harness[Any]
    client: httpx.AsyncClient

    async def state(self) -> dict[str, Any]:
        """Every document the service holds, its outbox included."""
        return copy.deepcopy(self.harness.documents.data)


@asynccontextmanager
async def running(name: str, tmp_path: Path) -> AsyncIterator[Edge]:
    if name == "routing":
        async with running_routing(tmp_path) as routing:
            administrator = await routing.officer(ADMINISTRATOR)
            routing.client.headers.update(administrator.auth)
            yield Edge(routing.harness, routing.client)
        return
    async with Harness.running(SERVICES[name](tmp_path)) as harness, harness.http() as client:
        yield Edge(harness, client)


async def operations(edge: Edge) -> list[APIOperation]:
    served = await edge.client.get("/openapi.json")
    assert served.status_code == 200, "the development profile serves the API's document"
    return [result.ok() for result in schemathesis.openapi.from_dict(served.json()).get_all_operations()]


def cases(operation: APIOperation, mode: GenerationMode) -> list[Case]:
    """Up to EXAMPLES cases of `operation`, the same ones on every run."""
    found: list[Case] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def collect(case: Case) -> None:
        found.append(case)

    try:
        collect()
    except Unsatisfiable:  # nothing in the operation can be made invalid
        pass
    return found


async def send(client: httpx.AsyncClient, case: Case) -> httpx.Response:
    sent = case.as_transport_kwargs(base_url=str(client.base_url))
    data = sent.get("data")
    body = {"json": sent["json"]} if "json" in sent else {"data": data} if isinstance(data, dict) else {"content": data}
    return await client.request(
        sent["method"], sent["url"], params=sent.get("params"), headers=sent.get("headers"), **body
    )


ALL = ["intake", "routing", *(name for name in SERVICES if name != "intake")]


@pytest.mark.parametrize("name", ALL)
async def test_every_answer_is_documented_and_none_is_a_server_error(name: str, tmp_path: Path) -> None:
    problems: dict[str, str] = {}  # each distinct failure once, with its first example
    async with running(name, tmp_path) as edge:
        for operation in await operations(edge):
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for case in cases(operation, mode):
                    try:
                        case.validate_response(await send(edge.client, case), checks=CHECKS)
                    except FailureGroup as failures:
                        for failure in failures.exceptions:
                            found = f"{operation.label}: {failure.title} ({failure.message.splitlines()[0]})"
                            problems.setdefault(found, str(failures))
    assert not problems, "\n".join(problems) + "\n\n" + "\n\n".join(problems.values())


async def json_operations(edge: Edge) -> list[tuple[APIOperation, str, dict[str, Any]]]:
    """Each operation with a JSON body: its URL and a valid body, as the fuzzer made them."""
    found = []
    for operation in await operations(edge):
        if "application/json" in operation.definition.raw.get("requestBody", {}).get("content", {}):
            example = cases(operation, GenerationMode.POSITIVE)[0]
            url = example.as_transport_kwargs(base_url=str(edge.client.base_url))["url"]
            found.append((operation, url, example.body if isinstance(example.body, dict) else {}))
    return found


def spoiled(body: dict[str, Any], number: str) -> list[str]:
    """`body` with `number` in place of each field in turn, and deep inside one."""
    fields = body or {"value": 1}
    bodies = [fields | {name: number} for name in fields] + [fields | {next(iter(fields)): [{"deep": number}]}]
    return [json.dumps(spoilt).replace(f'"{number}"', number) for spoilt in bodies]


@pytest.mark.parametrize("name", ALL)
async def test_a_number_json_cannot_carry_is_refused_with_422_and_changes_nothing(name: str, tmp_path: Path) -> None:
    async with running(name, tmp_path) as edge:
        for operation, url, body in await json_operations(edge):
            before = await edge.state()
            for content in (spoilt for number in NOT_FINITE for spoilt in spoiled(body, number)):
                answer = await edge.client.request(operation.method, url, content=content, headers=JSON)
                assert answer.status_code == 422, (operation.label, content, answer.text)
                assert "finite" in answer.json()["detail"][0]["msg"]
            for content_type in ("application/json", "text/plain"):  # not UTF-8: never a 500
                answer = await edge.client.request(
                    operation.method, url, content=IDENTITY.encode() + b"\xff", headers={"content-type": content_type}
                )
                assert answer.status_code in (403, 422) and IDENTITY not in answer.text, (operation.label, answer.text)
            assert await edge.state() == before, f"{operation.label} stored something"


async def test_phone_and_identity_numbers_are_ascii_digits(tmp_path: Path) -> None:
    async with running("intake", tmp_path) as edge:
        [(_, url, body)] = [found for found in await json_operations(edge) if found[0].label == "POST /dossiers"]
        applicant = {"name": "Trần Thị Mai", "phone": "0987654321", "identity_number": "001203004567"}
        before = await edge.state()
        for field, digits in (("phone", "0٩٨٧٦٥٤٣٢١"), ("identity_number", "００１２０３００４５６７")):
            answer = await edge.client.post(url, json=body | {"applicant": applicant | {field: digits}})
            assert answer.status_code == 422 and ["body", "applicant", field] in [
                problem["loc"] for problem in answer.json()["detail"]
            ], answer.text
        assert await edge.state() == before
