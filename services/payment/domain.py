"""Payment rules (thanh toán phí, lệ phí): references and gateway checksums.

Checksum as the national payment platform's integration does it: SHA-256 hex
over the pipe-joined fields followed by the shared secret.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from pydantic import BaseModel, Field

SUCCESS = "00"
TIME_FORMAT = "%Y%m%d%H%M%S"


class GatewayCallback(BaseModel):
    """The gateway's server-to-server notification (IPN): the only trusted confirmation."""

    partner_code: str
    reference: str
    amount_vnd: int = Field(gt=0)
    currency: str = "VND"
    transaction_id: str
    error_code: str = Field(description='"00" means paid.')
    time: str = Field(pattern=r"^\d{14}$", description="yyyyMMddHHmmss")
    checksum: str

    def signed_fields(self) -> list[str]:
        return [
            self.partner_code,
            self.reference,
            str(self.amount_vnd),
            self.currency,
            self.transaction_id,
            self.error_code,
            self.time,
        ]


def checksum(fields: list[str], secret: str) -> str:
    return hashlib.sha256(("|".join(fields) + "|" + secret).encode()).hexdigest()


def verify(callback: GatewayCallback, secret: str) -> bool:
    return hmac.compare_digest(checksum(callback.signed_fields(), secret).encode(), callback.checksum.encode())


def reference_for(dossier_code: str) -> str:
    return f"PAY-{dossier_code}"


def gateway_time(at: datetime) -> str:
    return at.strftime(TIME_FORMAT)
