"""Sample events of the dossier lifecycle, as their owners publish them."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from motcua_contracts import Applicant, DossierApproved, DossierReceived, ResultSigned

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
