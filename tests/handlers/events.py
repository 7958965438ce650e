"""Sample events of the dossier lifecycle, as their owners publish them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from motcua_contracts import DossierReceived, ResultSigned

RECEIVED_AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Vietnam


def received(code: str, **changes: Any) -> DossierReceived:
    data: dict[str, Any] = {
        "dossier_code": code,
        "procedure_code": "1.004194",
        "procedure_name": "Đăng ký thường trú",
        "field": "Cư trú",
        "channel": "online_partial",
        "commune_code": code.split("-")[0],
        "applicant": {"name": "Nguyễn Văn An", "phone": "0912345678"},
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
