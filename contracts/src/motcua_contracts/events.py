"""Typed payloads of the dossier lifecycle, one section per owning service.

Past-tense names: each event states a fact that has happened.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .envelope import Event, event
from .topics import DIGITISATION, INTAKE, NOTIFICATION, PAYMENT, ROUTING, SIGNING, STATS

Channel = Literal["online_full", "online_partial", "counter", "post"]
MessageChannel = Literal["sms", "zns", "email"]
"""How notification reaches a person: SMS (brandname), a Zalo-style template message (ZNS), e-mail."""
Outcome = Literal["early", "on_time", "late"]
Level = Literal["commune", "province", "inter_agency"]


class Part(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


# --- intake (tiếp nhận) -------------------------------------------------------


class Applicant(Part):
    """The dossier owner's name and contact: what a `SealedApplicant` holds. Identity numbers
    never travel in events."""

    name: str = Field(examples=["Nguyễn Văn An"])
    phone: str = Field(examples=["0912345678"])
    email: str | None = None
    notify_by: list[MessageChannel] | None = Field(
        default=None,
        description="The channels the citizen chose, in order of preference; none: the platform's default "
        "(ZNS, falling back to SMS, and e-mail when an address is given).",
    )


class Sealed(Part):
    """Personal data as JSON, sealed with AES-256-GCM under the platform's personal-data key
    `key_id`, the dossier code as associated data. Departments and dashboards see only this."""

    key_id: str = Field(examples=["3f9a1c0b7d2e"])
    nonce: str = Field(description="96-bit nonce, base64.")
    ciphertext: str = Field(description="Ciphertext with its 128-bit tag, base64.")


class SealedApplicant(Sealed):
    """The `Applicant`, sealed for the services that address the citizen (routing, notification)."""


class Holder(Part):
    """Whom a result is issued to, as the result document names them: what a `SealedHolder` holds."""

    name: str = Field(examples=["Nguyễn Văn An"])


class SealedHolder(Sealed):
    """The `Holder`, sealed for signing, which prints the name on the result document."""


class Owner(Part):
    """Whose dossier it is, as the e-data store knows them: the keyed hash of their identity
    number (never the number). What a `SealedOwner` holds."""

    identity_hash: str = Field(description="HMAC-SHA256 (hex) of the owner's identity number under intake's key.")


class SealedOwner(Sealed):
    """The `Owner`, sealed for digitisation (the e-data store) and intake."""


class PayLink(Part):
    """The payment page's link with the token that lets its holder pay one dossier's fee: what a
    `SealedPayLink` holds."""

    url: str


class SealedPayLink(Sealed):
    """The `PayLink`, sealed for notification, which sends it to the citizen."""


class ComponentReceived(Part):
    """One component (thành phần hồ sơ) of a dossier as received."""

    name: str = Field(examples=["Tờ khai đăng ký khai sinh"])
    form: Literal["electronic", "paper", "e_data_store"] = Field(
        description="Uploaded file, paper to scan, or reused from the citizen's e-data store."
    )
    sha256: str | None = Field(default=None, description="SHA-256 (hex) of the file, if it has one.")
    document_id: str | None = Field(
        default=None,
        description="The file in the document store: an upload's id (electronic), or the owner's document reused (e_data_store).",
    )
    kind: str | None = Field(
        default=None, description="Kind of document, as the catalogue names it.", examples=["giay-khai-sinh"]
    )


class FeeLine(Part):
    """One line of a dossier's fee as assessed from the catalogue: a fee (phí) or a charge (lệ
    phí), kept apart as the law and the treasury keep them. Money is integer VND."""

    kind: Literal["fee", "charge"] = Field(description="fee: phí (pays for a service); charge: lệ phí (a state levy).")
    name: str = Field(examples=["Lệ phí đăng ký cư trú"])
    unit_vnd: int = Field(ge=0, description="Price of one unit (one copy, one page, one m²…), or the fixed amount.")
    quantity: int = Field(ge=1, description="How many units: copies, pages, m²; 1 for a fixed amount.")
    unit: str | None = Field(default=None, description="What one unit is, for the receipt.", examples=["bản"])
    amount_vnd: int = Field(ge=0, description="unit_vnd × quantity, within the line's cap if it has one.")


class Exemption(Part):
    """Why the applicant owes no fee although the procedure has one (miễn phí, lệ phí)."""

    ground: str = Field(examples=["social_protection"], description="The catalogue's exemption ground.")
    label: str = Field(examples=["Đối tượng hưởng chính sách bảo trợ xã hội"])
    reason: str = Field(description="What the applicant or the officer recorded, e.g. the beneficiary card's number.")
    waived_vnd: int = Field(ge=0, description="What the fee would have been.")


@event("dossier.received", INTAKE)
class DossierReceived(Event):
    """A dossier was received and a receipt-and-appointment slip issued."""

    procedure_code: str = Field(examples=["1.001193"])
    procedure_name: str = Field(examples=["Đăng ký khai sinh"])
    field: str = Field(examples=["Hộ tịch"])
    channel: Channel
    commune_code: str = Field(examples=["H40.101"])
    applicant: SealedApplicant | Applicant = Field(
        description="Sealed for routing and notification; in clear only in events published before sealing began."
    )
    components: list[ComponentReceived]
    fee_vnd: int = Field(ge=0, description="Fee and charges to collect, in VND: the lines' sum, 0 when exempt.")
    fee_lines: list[FeeLine] = Field(default_factory=list, description="The fee's lines (phí and lệ phí apart).")
    exemption: Exemption | None = Field(default=None, description="Why no fee is collected although one applies.")
    pay_by: datetime | None = Field(
        default=None, description="Until when the fee can be paid online; set when a fee is due."
    )
    receipt_number: str = Field(description="Number of the receipt-and-appointment slip.")
    received_at: datetime
    due_at: datetime = Field(description="Appointment date: when the result is due.")
    level: Level | None = Field(
        default=None, description="Who resolves the procedure: commune, province, or both in turn."
    )
    competent_authority: str | None = Field(
        default=None, description="The catalogue's competent authority.", examples=["Văn phòng đăng ký đất đai"]
    )
    workflow: str | None = Field(default=None, description="Workflow template id.", examples=["commune-standard"])
    area: str | None = Field(default=None, description="Hamlet or quarter (thôn, tổ dân phố) of the applicant.")
    owner: SealedOwner | None = Field(
        default=None, description="The owner, sealed for the e-data store (digitisation) and intake."
    )
    result_kind: str | None = Field(
        default=None, description="Kind of document the procedure's result is.", examples=["giay-khai-sinh"]
    )
    result_valid_days: int | None = Field(
        default=None, ge=1, description="How long the result stays valid for reuse, in days; none: without limit."
    )


@event("dossier.supplemented", INTAKE)
class DossierSupplemented(Event):
    """The citizen resubmitted against the same code; the clock resumes and the due date moves."""

    components: list[ComponentReceived]
    supplemented_at: datetime
    paused_working_days: int = Field(ge=0)
    due_at: datetime = Field(description="The new appointment date.")


@event("dossier.withdrawal_requested", INTAKE)
class DossierWithdrawalRequested(Event):
    """The owner asked to withdraw the dossier (rút hồ sơ); routing accepts or declines."""

    reason: str
    requested_at: datetime


# --- digitisation (số hóa) -----------------------------------------------------


class ComponentDigitised(Part):
    name: str
    origin: Literal["scanned", "uploaded", "reused"]
    sha256: str
    document_id: str = Field(description="Id of the stored electronic copy.")
    digitised_at: datetime | None = Field(default=None, description="When the copy was made or attached.")
    digitised_by: str | None = Field(
        default=None, description="Scanned: the official who scanned the paper and signed the copy."
    )
    pages: int | None = Field(default=None, ge=1)


@event("dossier.digitised", DIGITISATION)
class DossierDigitised(Event):
    """Every component of the dossier has an electronic copy: uploaded, scanned at receipt and
    signed by the officer, or reused from the owner's e-data store. Carries the dossier's
    digitisation figures."""

    components: list[ComponentDigitised]
    digitised_at: datetime
    unit: str | None = Field(default=None, description="The receiving unit.", examples=["H40.101"])
    components_scanned: int | None = Field(default=None, ge=0, description="Paper components scanned here.")
    components_uploaded: int | None = Field(default=None, ge=0, description="Components the applicant uploaded.")
    components_reused: int | None = Field(default=None, ge=0, description="Components reused from the e-data store.")


@event("result.archived", DIGITISATION)
class ResultArchived(Event):
    """The signed result is in the document store under its result code and in the owner's
    e-data store (kho quản lý dữ liệu điện tử), where later dossiers reuse it."""

    result_code: str = Field(examples=["H40.101-261122-0001-KQ1"])
    document_id: str
    sha256: str
    unit: str | None = Field(default=None, description="The unit that issued it.")
    kind: str | None = Field(default=None, description="Kind of document.", examples=["giay-khai-sinh"])
    owner: SealedOwner | None = Field(default=None, description="Whose e-data store holds it, sealed for intake.")
    valid_until: datetime | None = Field(default=None, description="Reusable until then; none: without limit.")
    archived_at: datetime


# --- payment (thanh toán phí, lệ phí) --------------------------------------------


@event("payment.requested", PAYMENT)
class PaymentRequested(Event):
    """The dossier's fee is asked for: the citizen pays it on the payment page (a gateway or a bank
    transfer by QR) until `expires_at`, or at the counter."""

    reference: str
    amount_vnd: int = Field(gt=0)
    gateway: str = Field(examples=["payment-platform"], description="The gateway the payment is opened at first.")
    expires_at: datetime | None = Field(default=None, description="Until when it can be paid online.")
    pay_link: SealedPayLink | None = Field(
        default=None, description="The payment page's link (with its pay token), sealed for notification."
    )


PaymentMethod = Literal["gateway", "bank_transfer", "cash", "card"]


@event("payment.completed", PAYMENT)
class PaymentCompleted(Event):
    """The fee was paid: confirmed by the gateway's verified notification (amount, partner, time
    checked) or recorded at the counter by the receiving officer."""

    reference: str
    amount_vnd: int = Field(gt=0)
    gateway_transaction: str = Field(description="The gateway's transaction id; at the counter, the receipt number.")
    paid_at: datetime
    channel: Literal["online", "counter"] = Field(default="online", description="Paid online, or at the counter.")
    gateway: str | None = Field(default=None, description="The gateway that confirmed it (online).")
    method: PaymentMethod | None = Field(default=None)
    receipt_number: str | None = Field(
        default=None,
        description="The electronic receipt's (biên lai điện tử) series and number.",
        examples=["BL26E-0000001"],
    )


@event("payment.cancelled", PAYMENT)
class PaymentCancelled(Event):
    """The fee is no longer asked for: the dossier was withdrawn or refused before it was paid."""

    reference: str
    reason: str = Field(examples=["dossier withdrawn"])
    cancelled_at: datetime


@event("payment.expired", PAYMENT)
class PaymentExpired(Event):
    """The fee was not paid online in time: its link no longer works; it can still be paid at the counter."""

    reference: str
    amount_vnd: int = Field(gt=0)
    expired_at: datetime


@event("payment.refunded", PAYMENT)
class PaymentRefunded(Event):
    """Money paid back through the gateway: the dossier was refused or withdrawn after it was paid,
    or it was paid twice."""

    reference: str
    amount_vnd: int = Field(gt=0)
    reason: str = Field(examples=["dossier refused", "paid twice"])
    gateway: str
    gateway_transaction: str = Field(description="The transaction refunded.")
    refunded_at: datetime


@event("payment.not_required", PAYMENT)
class PaymentNotRequired(Event):
    """Nothing to collect: the procedure carries no fee, or the applicant is exempt (`exemption`)."""

    exemption: Exemption | None = Field(default=None, description="Set when a fee applies but is waived.")


# --- routing and processing (xử lý) ----------------------------------------------


class OfficialContact(Part):
    """How notification reaches an official: what a `SealedOfficialContact` holds."""

    name: str = Field(examples=["Phạm Thị Lan"])
    email: str | None = Field(default=None, examples=["lan.pt@h40101.gov.vn"])
    phone: str | None = Field(default=None, examples=["0912000111"])


class SealedOfficialContact(Sealed):
    """The `OfficialContact`, sealed for notification, which alerts officials."""


@event("official.updated", ROUTING)
class OfficialUpdated(Event):
    """An official's record as routing keeps it (routing owns the roster): announced when the
    record is made or changed, and again at every start of routing. Here `dossier_code` is the
    official's id."""

    unit: str = Field(examples=["H40.101"])
    roles: list[str] = Field(examples=[["specialist"]])
    active: bool
    contact: SealedOfficialContact | None = Field(default=None, description="Name, e-mail and phone, sealed.")
    updated_at: datetime


@event("dossier.approved", ROUTING)
class DossierApproved(Event):
    """The competent authority approved the result; it now needs a signature."""

    competent_unit: str = Field(examples=["H40.101"])
    approved_by: str = Field(description="The approving leader, as they sign.", examples=["Nguyễn Văn Minh"])
    result_title: str
    approver_id: str | None = Field(
        default=None,
        description="The approving leader's official id: the result is signed with their personal certificate, by them.",
        examples=["h40101.chutich"],
    )
    procedure_code: str | None = Field(default=None, examples=["1.001193"])
    procedure_name: str | None = Field(default=None, examples=["Đăng ký khai sinh"])
    field: str | None = Field(default=None, examples=["Hộ tịch"])
    holder: SealedHolder | None = Field(default=None, description="Whom the result is issued to, sealed for signing.")
    routing_signature: str | None = Field(
        default=None,
        description=(
            "Routing's Ed25519 signature (base64) over this event's canonical JSON: every other field, "
            "sorted keys, no whitespace, UTF-8. Always set by routing; signing refuses approvals it cannot verify."
        ),
    )


@event("dossier.step_started", ROUTING)
class DossierStepStarted(Event):
    """The dossier entered a step of its workflow; `holder` is the assigned official, if any."""

    workflow: str = Field(examples=["commune-standard"])
    workflow_version: int
    step: str = Field(examples=["review"])
    step_name: str = Field(examples=["Thẩm định hồ sơ"])
    unit: str = Field(description="Unit holding the dossier.", examples=["H40.101"])
    role: str = Field(examples=["specialist"])
    holder: str | None = Field(default=None, description="Official id; none while it waits in the unit's queue.")
    started_at: datetime
    step_due_at: datetime


@event("dossier.transferred", ROUTING)
class DossierTransferred(Event):
    """The dossier passed from one unit to another (liên thông)."""

    from_unit: str = Field(examples=["H40.101"])
    to_unit: str = Field(examples=["000.16.01.H40"])
    step: str
    transferred_at: datetime


@event("dossier.assigned", ROUTING)
class DossierAssigned(Event):
    """An official took the dossier's current step: claimed, or reassigned by a leader."""

    step: str
    unit: str
    holder: str
    assigned_by: str
    assigned_at: datetime


@event("dossier.supplement_requested", ROUTING)
class DossierSupplementRequested(Event):
    """The dossier was sent back for more documents (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ); its clock pauses."""

    documents: list[str] = Field(description="The documents to add or complete.")
    reason: str
    requested_by: str
    requested_at: datetime
    unit: str | None = Field(default=None, description="Unit that asked.")


@event("dossier.refused", ROUTING)
class DossierRefused(Event):
    """The competent unit refused to resolve the dossier, with its reason (phiếu từ chối giải quyết)."""

    reason: str
    refused_by: str
    unit: str
    refused_at: datetime


@event("dossier.due_soon", ROUTING)
class DossierDueSoon(Event):
    """One working day is left before the dossier's due date."""

    due_at: datetime
    unit: str
    holder: str | None = None


@event("dossier.overdue", ROUTING)
class DossierOverdue(Event):
    """A due time passed: the dossier's (`scope` dossier) or its current step's (`scope` step)."""

    scope: Literal["dossier", "step"]
    step: str
    due_at: datetime
    unit: str
    holder: str | None = None


@event("dossier.apologised", ROUTING)
class DossierApologised(Event):
    """The unit apologised to the citizen with the reason and a new return date (allowed once)."""

    reason: str
    due_at: datetime = Field(description="The appointment date the result will miss.")
    new_due_at: datetime = Field(description="The new return date promised.")
    apologised_by: str
    unit: str
    apologised_at: datetime


@event("dossier.withdrawn", ROUTING)
class DossierWithdrawn(Event):
    """Routing accepted the owner's withdrawal: processing stopped before any decision."""

    reason: str
    withdrawn_at: datetime
    requested_at: datetime | None = Field(default=None, description="When the owner asked.")


@event("dossier.withdrawal_declined", ROUTING)
class DossierWithdrawalDeclined(Event):
    """Routing kept the dossier: it was already decided (approved, refused or done) when the request came."""

    reason: str = Field(examples=["the result was already approved"])
    status: str = Field(description="The dossier's status when the request arrived.", examples=["signing"])
    requested_at: datetime
    declined_at: datetime


@event("dossier.completed", ROUTING)
class DossierCompleted(Event):
    """The signed result was returned; the dossier is done (trả kết quả)."""

    result_code: str = Field(examples=["H40.101-261122-0001-KQ1"])
    completed_at: datetime
    due_at: datetime
    outcome: Outcome = Field(description="Early (trước hạn), on time (đúng hạn) or late (quá hạn).")
    apologised: bool = Field(default=False, description="An apology with a new return date was sent.")


# --- signing (ký số) -----------------------------------------------------------


@event("result.signed", SIGNING)
class ResultSigned(Event):
    """The result document (PDF) carries the approving leader's signature and the competent
    unit's seal: PAdES baseline B-LT, each with a timestamp, verifiable by anyone."""

    result_code: str
    document_sha256: str = Field(description="SHA-256 (hex) of the signed PDF as stored and served.")
    signature: str = Field(description="Base64 of the leader's signature value (the CMS SignerInfo's).")
    algorithm: str = Field(examples=["PAdES-B-LT"], description="The signature format and level.")
    key_id: str = Field(description="SHA-256 (hex, first 16 digits) of the leader's certificate.")
    signed_at: datetime = Field(description="The leader's signature time, from the timestamp authority.")
    signed_by: str | None = Field(default=None, description="The leader, as their certificate names them.")
    sealed_by: str | None = Field(default=None, description="The unit whose organisation certificate sealed it.")
    verify_url: str | None = Field(default=None, description="Public verification page (the QR code on the paper).")


# --- notification (thông báo) ----------------------------------------------------


@event("citizen.notified", NOTIFICATION)
class CitizenNotified(Event):
    """A message to the citizen was accepted by its channel's provider (the SMS or ZNS gateway,
    the mail server). One per (dossier, milestone, channel), whatever was redelivered."""

    channel: MessageChannel
    template: str = Field(examples=["result_ready"], description="The milestone the message tells of.")
    recipient: str = Field(description="Masked recipient address.", examples=["091****678"])
    sent_at: datetime
    message_id: str | None = Field(
        default=None,
        description="The message's id: `<dossier code>:<milestone>:<channel>`; delivery reports name it.",
        examples=["H40.101-261122-0001:result_ready:zns"],
    )
    attempts: int | None = Field(default=None, ge=1, description="Tries it took (transient failures retried).")


@event("official.notified", NOTIFICATION)
class OfficialNotified(Event):
    """A message to an official (a dossier due soon or overdue, a complaint to answer, the daily
    digest of a unit's late dossiers) was accepted by its channel's provider."""

    channel: MessageChannel
    template: str = Field(examples=["official_overdue"])
    official: str = Field(description="The official's id.", examples=["h40101.hotich"])
    role: Literal["holder", "leader"] = Field(description="Told as the dossier's holder or as the unit's leader.")
    sent_at: datetime
    message_id: str | None = None


DeliveryStatus = Literal["delivered", "undelivered"]


@event("message.delivered", NOTIFICATION)
class MessageDelivered(Event):
    """What the provider reported of a sent message: delivered to the handset or mailbox, or not."""

    message_id: str
    channel: MessageChannel
    template: str
    status: DeliveryStatus
    reason: str | None = Field(default=None, description="Why not delivered, as the provider says.")
    reported_at: datetime


@event("message.failed", NOTIFICATION)
class MessageFailed(Event):
    """A message could not be sent on its channel: refused for good by the provider (an invalid
    number, not a Zalo user, an unknown mailbox) or still failing after every retry. It is kept,
    with the reason, for operators to resend; `fallback` is the channel tried next, if any."""

    message_id: str
    channel: MessageChannel
    template: str
    reason: str
    attempts: int = Field(ge=1)
    fallback: MessageChannel | None = None
    failed_at: datetime


@event("feedback.received", NOTIFICATION)
class FeedbackReceived(Event):
    """The citizen rated how the dossier was handled (khảo sát mức độ hài lòng), once, through the
    one-time link sent with the result."""

    rating: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied).")
    comment: str | None = Field(default=None, max_length=2000)
    unit: str | None = Field(default=None, description="The unit that resolved the dossier.", examples=["H40.101"])
    procedure_code: str | None = None
    field: str | None = None
    received_at: datetime


ComplaintKind = Literal["phan_anh", "kien_nghi"]


@event("complaint.received", NOTIFICATION)
class ComplaintReceived(Event):
    """A complaint (phản ánh) or petition (kiến nghị) about the dossier's handling, sent from the
    tracking page; routed to the unit holding the dossier, to answer by `answer_by`."""

    complaint_code: str = Field(examples=["PA-H40.101-261122-0001-1"])
    kind: ComplaintKind
    unit: str
    received_at: datetime
    answer_by: datetime


@event("complaint.reminded", NOTIFICATION)
class ComplaintReminded(Event):
    """The unit was reminded of an unanswered complaint: its deadline is near (`overdue` false) or
    passed (`overdue` true)."""

    complaint_code: str
    unit: str
    answer_by: datetime
    overdue: bool
    reminded_at: datetime


@event("complaint.answered", NOTIFICATION)
class ComplaintAnswered(Event):
    """The unit answered the complaint; the citizen was sent the answer."""

    complaint_code: str
    unit: str
    answered_by: str = Field(description="The official who answered.")
    answered_at: datetime
    on_time: bool = Field(description="Answered by `answer_by`.")


# --- stats (read models) --------------------------------------------------------


@event("stats.snapshot", STATS)
class StatsSnapshot(Event):
    """A unit's figures (or the province's: `dossier_code` is the literal `province`, `unit` none;
    otherwise both are the unit's code) for the period `period_from`–`period_to`, local dates,
    both included: by default the year to date. Published every few seconds for the units whose
    figures changed, and for every unit at least every few minutes. Counters of dossiers
    received count on their receipt day, of dossiers resolved on their closing day; each
    dossier counts for the unit that resolves it. See docs/stats.md for every figure."""

    as_of: datetime
    received: int
    completed: int
    early: int
    on_time: int
    late: int
    online: int
    paid: int
    digitised: int
    supplement_requests: int = 0
    withdrawn: int = 0
    components: int = Field(default=0, description="Components of the dossiers received.")
    components_digitised: int = Field(default=0, description="Components with an electronic copy.")
    components_scanned: int = Field(default=0, description="Paper components scanned and signed at receipt.")
    components_reused: int = Field(default=0, description="Components taken from owners' e-data stores.")
    results: int = Field(default=0, description="Results signed.")
    results_digitised: int = Field(default=0, description="Signed results archived in owners' e-data stores.")
    # fees and charges (phí, lệ phí): the share of fee-bearing dossiers paid online
    fee_bearing: int = Field(
        default=0,
        description="Dossiers whose procedure has a fee (hồ sơ có thu phí, lệ phí): one `payment.requested` each, "
        "or a `payment.not_required` with an exemption.",
    )
    fee_exempt: int = Field(
        default=0,
        description="Fee-bearing dossiers whose applicant is exempt (miễn phí, lệ phí): `payment.not_required` "
        "with an exemption.",
    )
    paid_online: int = Field(
        default=0, description="Fees paid online (thanh toán trực tuyến): `payment.completed` of channel `online`."
    )
    paid_counter: int = Field(
        default=0,
        description="Fees paid at the counter (nộp trực tiếp tại Bộ phận Một cửa): `payment.completed` of channel "
        "`counter`.",
    )
    paid_online_rate: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Percent of the paid fee-bearing dossiers that were paid online (tỷ lệ thanh toán trực tuyến): "
        "100 × paid_online / (paid_online + paid_counter). The denominator is the dossiers paid, not `fee_bearing`: "
        "exempt dossiers and fees not paid (yet, or ever) are left out. None while nothing is paid.",
    )
    payments_expired: int = Field(
        default=0,
        description="Fees not paid online in time (`payment.expired`); some are paid at the counter later.",
    )
    refunded: int = Field(default=0, description="Refunds made through the gateway (hoàn trả): `payment.refunded`.")
    collected_vnd: int = Field(
        default=0, description="Fees collected (số tiền đã thu), in VND: the sum of `payment.completed` amounts."
    )
    refunded_vnd: int = Field(
        default=0,
        description="Fees refunded, in VND: the sum of `payment.refunded` amounts. A refund of a second payment, "
        "or of one made after the fee was cancelled, returns money `collected_vnd` never counted: "
        "collected_vnd − refunded_vnd is not what was kept.",
    )
    unit: str | None = Field(default=None, description="The unit these counters are of; none: the whole province.")
    level: Literal["commune", "department", "province"] | None = Field(default=None, description="What the unit is.")
    unit_name: str | None = Field(default=None, examples=["Xã An Hiệp"])
    period_from: date | None = Field(default=None, description="First day of the period (local date).")
    period_to: date | None = Field(default=None, description="Last day of the period (local date).")
    carried_over: int = Field(default=0, description="Dossiers received before the period and open at its start.")
    in_progress: int = Field(default=0, description="Dossiers open at the period's end (đang giải quyết).")
    overdue_now: int = Field(default=0, description="Open dossiers past their appointment time at `as_of`.")
    resolved: int = Field(default=0, description="Results returned and refusals (đã giải quyết); early+on_time+late.")
    refused: int = Field(default=0, description="Dossiers refused (từ chối giải quyết).")
    apologised: int = Field(default=0, description="Closed dossiers with an apology and a new date (xin lỗi).")
    rated: int = Field(default=0, description="Resolved dossiers whose citizen answered the satisfaction survey.")
    satisfied: int = Field(default=0, description="... rated 4 or 5 of 5.")
    complaints: int = Field(default=0, description="Complaints and petitions received (phản ánh, kiến nghị).")
    complaints_answered_on_time: int = Field(default=0, description="... answered within their deadline.")
    rates: dict[str, float | None] = Field(
        default_factory=dict,
        description="The shares the reports quote, in percent (none: no denominator): online_rate, "
        "early_or_on_time_rate, components_digitised_rate, results_digitised_rate, paid_online_rate, "
        "satisfaction_rate, handling_satisfaction_rate, complaints_on_time_rate and more (docs/stats.md).",
    )
    index_score: float | None = Field(
        default=None, ge=0, le=100, description="The service index (Decision 766/QĐ-TTg), of 100 points."
    )
    index_groups: dict[str, float] = Field(
        default_factory=dict,
        description="Points per criteria group: transparency, progress, online, digitisation, satisfaction.",
    )
    index_rank: int | None = Field(default=None, ge=1, description="The commune's rank among the province's communes.")
    index_of: int | None = Field(default=None, ge=1, description="How many communes are ranked.")
