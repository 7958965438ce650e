"""A submission (hồ sơ nộp) and its checks against the catalogue and the units.

`check` looks at everything and returns every problem it finds, so a portal or a
receiving officer can fix a submission in one go; the answer's status is the most
specific problem's (unknown procedure or commune, then file type, then size). No I/O here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from motcua_contracts import ComponentReceived
from motcua_contracts.events import Channel
from pydantic import BaseModel, Field

from . import domain
from .catalogue import Catalogue, Procedure

Phone = Annotated[str, Field(pattern=r"^0[0-9]{9}$", examples=["0912345678"])]
IdentityNumber = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="12-digit citizen identity number.")]
Form = Literal["electronic", "paper", "e_data_store"]

NOT_FOUND, TOO_LARGE, UNSUPPORTED_TYPE, INVALID = 404, 413, 415, 422
# The answer carries the most specific problem's status: this order.
PRECEDENCE = (NOT_FOUND, UNSUPPORTED_TYPE, TOO_LARGE, INVALID)


class ApplicantIn(BaseModel):
    name: str = Field(min_length=2, max_length=120, examples=["Nguyễn Văn An"])
    phone: Phone
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    identity_number: IdentityNumber


class ComponentIn(BaseModel):
    name: str = Field(min_length=1, max_length=300, examples=["Tờ khai đăng ký khai sinh"])
    form: Form
    content_base64: str | None = Field(default=None, description="The file, for electronic components.")


class Submission(BaseModel):
    """What a citizen, a portal, a receiving officer or the post submits."""

    procedure_code: str = Field(max_length=40, examples=["1.001193"])
    commune_code: str = Field(max_length=40, description="Receiving unit's agency code.", examples=["H40.101"])
    channel: Channel
    applicant: ApplicantIn
    components: list[ComponentIn] = Field(max_length=50)
    received_by: str | None = Field(
        default=None, min_length=2, max_length=120, description="At the counter: the receiving officer."
    )
    postal_reference: str | None = Field(
        default=None, pattern=r"^[A-Z0-9]{6,20}$", description="By post: the public postal service's item number."
    )
    area: str | None = Field(
        default=None, min_length=1, max_length=80, description="The applicant's hamlet or quarter (thôn, tổ dân phố)."
    )


@dataclass(frozen=True)
class Problem:
    """One reason a submission cannot be received."""

    kind: str  # stable name for programs, e.g. "missing_component"
    message: str
    status: int = INVALID
    component: str | None = None

    def as_json(self) -> dict[str, Any]:
        found = {"kind": self.kind, "message": self.message}
        return found | ({"component": self.component} if self.component else {})


@dataclass(frozen=True)
class Refused:
    problems: list[Problem]

    @property
    def status(self) -> int:
        return min((p.status for p in self.problems), key=PRECEDENCE.index)


@dataclass(frozen=True)
class Accepted:
    """A submission that passed every check, with its components as received (files hashed)."""

    submission: Submission
    procedure: Procedure
    components: list[ComponentReceived]


def check(
    submission: Submission, catalogue: Catalogue, communes: Container[str], max_component_bytes: int
) -> Accepted | Refused:
    """Every problem of `submission`, or the accepted submission if there is none."""
    problems: list[Problem] = []
    procedure = catalogue.get(submission.procedure_code)
    if procedure is None:
        problems.append(Problem("unknown_procedure", f"unknown procedure {submission.procedure_code!r}", NOT_FOUND))
    else:
        problems += procedure_problems(submission, procedure)
    if submission.commune_code not in communes:
        problems.append(Problem("unknown_commune", f"unknown commune {submission.commune_code!r}", NOT_FOUND))
    if submission.channel == "counter" and not submission.received_by:
        problems.append(
            Problem("receiving_officer_missing", "a counter submission needs the receiving officer (received_by)")
        )
    if submission.channel == "post" and not submission.postal_reference:
        problems.append(
            Problem("postal_reference_missing", "a postal submission needs the postal item number (postal_reference)")
        )
    components, file_problems = received_components(submission.components, max_component_bytes)
    problems += file_problems
    if problems or procedure is None:
        return Refused(problems)
    return Accepted(submission, procedure, components)


def procedure_problems(submission: Submission, procedure: Procedure) -> list[Problem]:
    """What the procedure's rules say of the submission: online level, required and reusable components."""
    if not procedure.takes_dossiers:
        return [Problem("information_only", f"procedure {procedure.code!r} is information only and takes no dossier")]
    problems = []
    if not procedure.allows(submission.channel):
        problems.append(
            Problem(
                "channel_not_allowed",
                f"procedure {procedure.code!r} is {procedure.online_level} online: not by {submission.channel}",
            )
        )
    given = {c.name for c in submission.components}
    for required in procedure.components:
        if required.name not in given:
            problems.append(
                Problem("missing_component", f"required component {required.name!r} is missing", INVALID, required.name)
            )
    for component in submission.components:
        if component.form == "e_data_store" and component.name not in procedure.reusable_components:
            problems.append(
                Problem(
                    "not_reusable",
                    f"component {component.name!r} cannot come from the e-data store",
                    INVALID,
                    component.name,
                )
            )
    return problems


def received_components(
    components: Sequence[ComponentIn], max_bytes: int
) -> tuple[list[ComponentReceived], list[Problem]]:
    """The components as received (uploaded files hashed), and the problems of their files."""
    received, problems = [], []
    for component in components:
        digest = None
        if component.form == "electronic":
            digest_or_problem = file_digest(component, max_bytes)
            if isinstance(digest_or_problem, Problem):
                problems.append(digest_or_problem)
                continue
            digest = digest_or_problem
        received.append(ComponentReceived(name=component.name, form=component.form, sha256=digest))
    return received, problems


def file_digest(component: ComponentIn, max_bytes: int) -> str | Problem:
    """SHA-256 of an electronic component's file, or what is wrong with the file."""
    name = component.name
    if not component.content_base64:
        return Problem("file_missing", f"component {name!r} is electronic but has no file", INVALID, name)
    try:
        content = base64.b64decode(component.content_base64, validate=True)
    except (binascii.Error, ValueError):
        return Problem("file_not_base64", f"component {name!r}: file is not valid base64", INVALID, name)
    if domain.file_kind(content) is None:
        return Problem(
            "file_type", f"component {name!r}: only PDF, JPEG or PNG files are accepted", UNSUPPORTED_TYPE, name
        )
    if len(content) > max_bytes:
        return Problem("file_too_large", f"component {name!r} exceeds {max_bytes} bytes", TOO_LARGE, name)
    return hashlib.sha256(content).hexdigest()
