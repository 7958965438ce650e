"""A submission (hồ sơ nộp) and its checks against the catalogue and the units.

`check` looks at everything and returns every problem it finds, so a portal or a
receiving officer can fix a submission in one go; the answer's status is the most
specific problem's (unknown procedure or commune first). No I/O here.

Files are not sent here: they are uploaded to the document store first (digitisation's
`POST /documents`), and a component names its upload by id, hash and the upload token the
store answered with. A component the owner already holds in their e-data store (an earlier
result, still valid) is attached from there: the citizen is not asked for it again.

The fee is assessed here too (`services/intake/fees.py`), once the submission passed: per-unit
lines for its `quantity`, waived when it claims one of the procedure's exemption grounds.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from motcua_contracts import ComponentReceived
from motcua_contracts.events import Channel, MessageChannel
from pydantic import BaseModel, Field

from services.runtime.receipts import upload_proved

from .catalogue import Catalogue, Procedure
from .fees import Assessment, assess

Phone = Annotated[str, Field(pattern=r"^0[0-9]{9}$", examples=["0912345678"])]
IdentityNumber = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="12-digit citizen identity number.")]
Form = Literal["electronic", "paper", "e_data_store"]

NOT_FOUND, INVALID = 404, 422
# The answer carries the most specific problem's status: this order.
PRECEDENCE = (NOT_FOUND, INVALID)


class ApplicantIn(BaseModel):
    name: str = Field(min_length=2, max_length=120, examples=["Nguyễn Văn An"])
    phone: Phone
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    identity_number: IdentityNumber
    notify_by: list[MessageChannel] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="How to be told of the dossier, in order of preference (the next when one fails); "
        "none: ZNS falling back to SMS, and e-mail too when given.",
        examples=[["zns", "email"]],
    )


class ComponentIn(BaseModel):
    name: str = Field(min_length=1, max_length=300, examples=["Tờ khai đăng ký khai sinh"])
    form: Form = Field(
        description="electronic: uploaded to the document store; paper: scanned at receipt; "
        "e_data_store: taken from the owner's e-data store (a component the owner holds is taken "
        "from there even when it is not named)."
    )
    document_id: str | None = Field(
        default=None, pattern=r"^UP-[0-9A-Z]{26}$", description="Electronic: the upload's id from the document store."
    )
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="Electronic: the upload's SHA-256.")
    upload_token: str | None = Field(
        default=None, max_length=100, description="Electronic: the upload token the document store answered with."
    )


class ExemptionIn(BaseModel):
    """The applicant claims an exemption from the fee (miễn phí, lệ phí) on one of the procedure's grounds."""

    ground: str = Field(
        min_length=1,
        max_length=60,
        pattern=r"^[a-z0-9_]+$",
        description="One of the procedure's exemption grounds (its `fee.exemptions` in the catalogue).",
        examples=["social_protection"],
    )
    reason: str = Field(
        min_length=3,
        max_length=300,
        description="What proves it, as the applicant or the receiving officer records it: e.g. the beneficiary card's number.",
        examples=["Thẻ BTXH số 40-0123456"],
    )


@dataclass(frozen=True)
class Holding:
    """A document the owner holds in their e-data store, still valid (learned from `result.archived`)."""

    kind: str
    document_id: str
    sha256: str
    valid_until: datetime | None = None


Holdings = Mapping[str, Holding]  # by kind of document


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
    quantity: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="Copies, pages or units of measure for per-unit fees (bản, trang…); fixed fees ignore it.",
    )
    exemption: ExemptionIn | None = Field(default=None, description="An exemption from the fee the applicant claims.")


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
    """A submission that passed every check, with its components as received (files hashed) and its fee."""

    submission: Submission
    procedure: Procedure
    components: list[ComponentReceived]
    fee: Assessment


def check(
    submission: Submission, catalogue: Catalogue, communes: Container[str], upload_key: bytes, holdings: Holdings
) -> Accepted | Refused:
    """Every problem of `submission`, or the accepted submission if there is none; `holdings`
    are the owner's documents in their e-data store, `upload_key` checks the upload tokens."""
    problems: list[Problem] = []
    procedure = catalogue.get(submission.procedure_code)
    if procedure is None:
        problems.append(Problem("unknown_procedure", f"unknown procedure {submission.procedure_code!r}", NOT_FOUND))
    else:
        problems += procedure_problems(submission, procedure, holdings)
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
    components, file_problems = received_components(submission.components, procedure, upload_key, holdings)
    problems += file_problems
    if problems or procedure is None:
        return Refused(problems)
    held = held_components(submission.components, procedure, holdings)
    fee = assess(procedure, submission.quantity, submission.exemption)
    return Accepted(submission, procedure, components + held, fee)


def held_components(given: Sequence[ComponentIn], procedure: Procedure, holdings: Holdings) -> list[ComponentReceived]:
    """The procedure's reusable components the owner left out and holds: taken from the e-data store."""
    named = {c.name for c in given}
    return [
        _reused(component.name, holding)
        for component in procedure.components
        if component.name not in named and component.reusable and (holding := _held(component.kind, holdings))
    ]


def _held(kind: str | None, holdings: Holdings) -> Holding | None:
    return holdings.get(kind) if kind else None


def _reused(name: str, holding: Holding) -> ComponentReceived:
    return ComponentReceived(
        name=name, form="e_data_store", sha256=holding.sha256, document_id=holding.document_id, kind=holding.kind
    )


def procedure_problems(submission: Submission, procedure: Procedure, holdings: Holdings) -> list[Problem]:
    """What the procedure's rules say of the submission: online level, required and reusable
    components (a required one the owner holds in their e-data store need not be given), the
    exemption claimed."""
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
        if required.name not in given and not (required.reusable and _held(required.kind, holdings)):
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
    return problems + exemption_problems(submission.exemption, procedure)


def exemption_problems(claim: ExemptionIn | None, procedure: Procedure) -> list[Problem]:
    """What is wrong with the exemption claimed, if anything: the procedure must carry a fee and
    list the claimed ground."""
    if claim is None:
        return []
    if procedure.fee.free:
        return [Problem("no_fee_to_exempt", f"procedure {procedure.code!r} carries no fee: there is nothing to exempt")]
    if procedure.fee.exemption(claim.ground) is None:
        grounds = ", ".join(repr(e.ground) for e in procedure.fee.exemptions) or "none"
        return [
            Problem(
                "exemption_not_applicable",
                f"procedure {procedure.code!r} has no exemption ground {claim.ground!r} (its grounds: {grounds})",
            )
        ]
    return []


def received_components(
    components: Sequence[ComponentIn], procedure: Procedure | None, upload_key: bytes, holdings: Holdings
) -> tuple[list[ComponentReceived], list[Problem]]:
    """The components as received (uploads named by id and hash, reused ones from the owner's
    e-data store), and their problems."""
    kinds = {c.name: c.kind for c in procedure.components} if procedure else {}
    received, problems = [], []
    for component in components:
        kind = kinds.get(component.name)
        if component.form == "paper":
            received.append(ComponentReceived(name=component.name, form="paper", kind=kind))
        elif component.form == "e_data_store":
            if procedure and component.name not in procedure.reusable_components:
                continue  # not reusable at all: the procedure's rules say so (not_reusable)
            if holding := _held(kind, holdings):
                received.append(_reused(component.name, holding))
            else:
                problems.append(
                    Problem(
                        "not_held",
                        f"component {component.name!r} is not in the owner's e-data store: upload it or bring it on paper",
                        INVALID,
                        component.name,
                    )
                )
        elif problem := upload_problem(component, upload_key):
            problems.append(problem)
        else:
            received.append(
                ComponentReceived(
                    name=component.name,
                    form="electronic",
                    sha256=component.sha256,
                    document_id=component.document_id,
                    kind=kind,
                )
            )
    return received, problems


def upload_problem(component: ComponentIn, upload_key: bytes) -> Problem | None:
    """What is wrong with an electronic component's reference to its upload, if anything."""
    name = component.name
    if not (component.document_id and component.sha256 and component.upload_token):
        return Problem(
            "file_missing",
            f"component {name!r} is electronic: upload its file to the document store first and give "
            "its document_id, sha256 and upload_token",
            INVALID,
            name,
        )
    if not upload_proved(upload_key, component.document_id, component.sha256, component.upload_token):
        return Problem(
            "upload_unknown",
            f"component {name!r}: the document store did not answer this upload (wrong id, hash or token)",
            INVALID,
            name,
        )
    return None
