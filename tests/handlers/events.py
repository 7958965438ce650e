"""Sample events of the dossier lifecycle, as their owners publish them."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from motcua_contracts import (
    Applicant,
    DossierApproved,
    DossierReceived,
    DossierRefused,
    DossierStepStarted,
    DossierWithdrawn,
    FeeLine,
    ResultSigned,
)

from services.runtime.approvals import ApprovalSigner, public_key_path, write_key_pair
from services.runtime.personal import PersonalData, decode_key
from services.runtime.settings import DEVELOPMENT_PERSONAL_DATA_KEY

RECEIVED_AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Vietnam
APPLICANT = Applicant(name="Nguyễn Văn An", phone="0912345678")
# Intake's seal as the development profile's key makes it (the handler tests run in that profile).
PERSONAL = PersonalData(decode_key(DEVELOPMENT_PERSONAL_DATA_KEY))

# Routing's approval key for the fast tests: routing signs with it, signing checks with its public part.
APPROVAL_KEY = Path(tempfile.mkdtemp(prefix="motcua-approvals-")) / "approval-key.pem"
write_key_pair(APPROVAL_KEY)
APPROVAL_PUBLIC_KEY = public_key_path(APPROVAL_KEY)


def approved(code: str, **changes: Any) -> DossierApproved:
    """Routing's approval of `code`, signed with its key."""
    data: dict[str, Any] = {
        "dossier_code": code,
        "competent_unit": code.split("-")[0],
        "approved_by": "Nguyễn Văn Minh",
        "result_title": "Giấy xác nhận thông tin cư trú",
    }
    return ApprovalSigner.load(APPROVAL_KEY, create_if_missing=False).sign(DossierApproved(**(data | changes)))


def received(code: str, **changes: Any) -> DossierReceived:
    data: dict[str, Any] = {
        "dossier_code": code,
        "procedure_code": "1.004194",
        "procedure_name": "Đăng ký thường trú",
        "field": "Cư trú",
        "channel": "online_partial",
        "commune_code": code.split("-")[0],
        "applicant": PERSONAL.seal(APPLICANT, code),
        "components": [
            {"name": "Tờ khai", "form": "electronic", "sha256": "ab" * 32},
            {"name": "Giấy tờ chứng minh chỗ ở", "form": "paper"},
            {"name": "Giấy khai sinh", "form": "e_data_store"},
        ],
        "fee_vnd": 20000,
        "receipt_number": f"BN-{code}",
        "received_at": RECEIVED_AT,
        "due_at": RECEIVED_AT + timedelta(days=9),
        "level": "commune",
        "competent_authority": "UBND cấp xã",
        "workflow": "commune-standard",
    }
    return DossierReceived.model_validate(data | changes)


def signed(code: str, at: datetime) -> ResultSigned:
    """Signing's event: the dossier's first result carries the agency's signature."""
    return ResultSigned(
        dossier_code=code,
        result_code=f"{code}-KQ1",
        document_sha256="ab" * 32,
        signature="c2ln",
        algorithm="ECDSA-P256-SHA256",
        key_id="k1",
        signed_at=at,
    )


def charged(code: str, *lines: tuple[str, int, int], **changes: Any) -> DossierReceived:
    """`received(code)` with its fee in lines of (name, unit price, quantity): a lệ phí each."""
    fee_lines = [
        FeeLine(kind="charge", name=name, unit_vnd=unit, quantity=quantity, unit="bản", amount_vnd=unit * quantity)
        for name, unit, quantity in lines
    ]
    return received(code, fee_vnd=sum(line.amount_vnd for line in fee_lines), fee_lines=fee_lines, **changes)


def step_started(code: str, holder: str | None, step: str = "receive") -> DossierStepStarted:
    """Routing put the dossier's `step` in `holder`'s hands (or its unit's queue)."""
    return DossierStepStarted(
        dossier_code=code,
        workflow="commune-standard",
        workflow_version=1,
        step=step,
        step_name="Tiếp nhận hồ sơ",
        unit=code.split("-")[0],
        role="reception",
        holder=holder,
        started_at=RECEIVED_AT,
        step_due_at=RECEIVED_AT + timedelta(days=1),
    )


def refused(code: str) -> DossierRefused:
    at = RECEIVED_AT + timedelta(days=2)
    return DossierRefused(
        dossier_code=code, reason="Không thuộc thẩm quyền", refused_by="h40101.lanhdao", unit="H40.101", refused_at=at
    )


def withdrawn(code: str) -> DossierWithdrawn:
    at = RECEIVED_AT + timedelta(days=1)
    return DossierWithdrawn(dossier_code=code, reason="Không còn nhu cầu", withdrawn_at=at, requested_at=at)
