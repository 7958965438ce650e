"""The received dossier (hồ sơ đã tiếp nhận): one value from which intake stores its
document, publishes `dossier.received` and answers with the receipt.

What every service may know is the `DossierReceived` event itself, the applicant's name
and contact in it sealed for the services that address the citizen; what stays with intake
(the applicant's contact in clear, the identity number's keyed hash, who received it at the
counter, the postal item number, the receipt's access token) sits beside it. The stored document is the two together, so no
field is written twice and none can drift between the event and the store. No I/O here.

The fee travels as assessed at receipt (`fees.py`): its lines, the total to collect, the
exemption if any, and until when it can be paid online (`pay_by`, the receipt plus intake's
payment window). The receipt adds the link to the dossier's payment page, made when the
receipt is read, so it follows payment's current address.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from motcua_contracts import Applicant, DossierReceived, Exemption, FeeLine
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.runtime.calendar import WorkCalendar
from services.runtime.clock import local
from services.runtime.personal import PersonalData
from services.runtime.receipts import receipt_token

from . import domain
from .submission import Accepted

LocalTime = Annotated[datetime, AfterValidator(local)]


class Receipt(BaseModel):
    """The receipt-and-appointment slip (giấy tiếp nhận và hẹn trả kết quả); times in local time."""

    dossier_code: str
    receipt_number: str
    procedure_name: str
    received_at: LocalTime
    due_at: LocalTime
    fee_vnd: int = Field(description="Fee and charges to collect, in VND: the lines' sum, 0 when exempt.")
    fee_lines: list[FeeLine] = Field(default_factory=list, description="The fee's lines (phí and lệ phí apart).")
    exemption: Exemption | None = Field(default=None, description="Why no fee is collected although one applies.")
    pay_by: LocalTime | None = Field(default=None, description="Until when the fee can be paid online.")
    pay_url: str | None = Field(
        default=None,
        description="The dossier's payment page, with the token that opens it (and nothing else); "
        "none when there is nothing to pay.",
    )
    access_token: str = Field(
        description="Unguessable token (`?token=`) that opens the receipt, the slip, the dossier's documents "
        "and the signed result, and authorises the owner's supplement and withdrawal."
    )
    reused_components: list[str] = Field(
        default_factory=list,
        description="Components taken from the owner's e-data store: the citizen did not have to give them.",
    )


class ReceivedDossier(BaseModel):
    """A dossier as intake received it."""

    model_config = ConfigDict(frozen=True)

    public: DossierReceived
    contact: Applicant  # the owner's name, phone and email: in the event only sealed
    identity_hash: str
    received_by: str | None = None
    postal_reference: str | None = None
    access_token: str

    @property
    def code(self) -> str:
        return self.public.dossier_code

    def event(self) -> DossierReceived:
        return self.public

    def document(self) -> dict[str, Any]:
        """What intake stores: the event's fields and intake's own, keyed by the dossier code."""
        return {"_id": self.code, **self.public.model_dump(), **self.model_dump(exclude={"public"})}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ReceivedDossier:
        private = {name: document.get(name) for name in cls.model_fields if name != "public"}
        public = DossierReceived.model_validate(
            {key: value for key, value in document.items() if key != "_id" and key not in private}
        )
        if private["contact"] is None and isinstance(public.applicant, Applicant):
            private["contact"] = public.applicant  # received before contact data was sealed
        return cls(public=public, **private)

    def receipt(self, pay_url: str, due_at: datetime | None = None) -> Receipt:
        """The receipt, with `pay_url` (the dossier's payment page) if a fee is to be paid; `due_at`
        if the appointment moved since (a supplement paused the clock)."""
        received = self.public
        return Receipt(
            dossier_code=received.dossier_code,
            receipt_number=received.receipt_number,
            procedure_name=received.procedure_name,
            received_at=received.received_at,
            due_at=due_at or received.due_at,
            fee_vnd=received.fee_vnd,
            fee_lines=received.fee_lines,
            exemption=received.exemption,
            pay_by=received.pay_by,
            pay_url=pay_url if received.fee_vnd else None,
            access_token=self.access_token,
            reused_components=[c.name for c in received.components if c.form == "e_data_store"],
        )


def receive(
    accepted: Accepted,
    sequence: int,
    received_at: datetime,
    calendar: WorkCalendar,
    identity_key: bytes,
    receipt_key: bytes,
    personal: PersonalData,
    payment_window: timedelta,
) -> ReceivedDossier:
    """The dossier received at `received_at` as its unit's `sequence`-th of that day, its
    receipt's access token made from its code under `receipt_key`; a fee due can be paid online
    for `payment_window` after receipt."""
    submission, procedure, fee = accepted.submission, accepted.procedure, accepted.fee
    code = domain.dossier_code(submission.commune_code, local(received_at).date(), sequence)
    applicant = submission.applicant
    contact = Applicant(
        name=applicant.name, phone=applicant.phone, email=applicant.email, notify_by=applicant.notify_by
    )
    owner = domain.identity_hash(applicant.identity_number, identity_key)
    return ReceivedDossier(
        public=DossierReceived(
            dossier_code=code,
            procedure_code=procedure.code,
            procedure_name=procedure.name,
            field=procedure.field,
            channel=submission.channel,
            commune_code=submission.commune_code,
            # the identity number stays here; name and contact travel sealed
            applicant=personal.seal(contact, code),
            components=accepted.components,
            fee_vnd=fee.total_vnd,
            fee_lines=list(fee.lines),
            exemption=fee.exemption,
            pay_by=received_at + payment_window if fee.due else None,
            receipt_number=domain.receipt_number(code),
            received_at=received_at,
            due_at=domain.due_at(procedure, received_at, calendar),
            level=procedure.level,
            competent_authority=procedure.competent_unit,
            workflow=procedure.workflow,
            area=submission.area,
            owner=personal.seal_owner(owner, code),  # for the e-data store: whose documents these are
            result_kind=procedure.result_kind,
            result_valid_days=procedure.result_valid_days,
        ),
        contact=contact,
        identity_hash=owner,
        received_by=submission.received_by,
        postal_reference=submission.postal_reference,
        access_token=receipt_token(receipt_key, code),
    )
