"""The ledger (sổ thu): every movement of money, one immutable entry each.

An entry is written once, in the same transaction as the payment change that caused it, under
an id made from what it records (the gateway's transaction and the movement's kind), so a
redelivered notification or a repeated job writes the same id again and changes nothing. Entries
are never updated nor deleted: a refund is a new entry, not an edit of the capture. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LEDGER = "ledger"
Kind = Literal["capture", "refund"]
Channel = Literal["online", "counter"]


class LedgerEntry(BaseModel):
    """One movement: money in (`capture`) or out (`refund`), always a positive amount."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    entry_id: str = Field(alias="_id")
    kind: Kind
    dossier_code: str
    commune: str
    channel: Channel
    gateway: str = Field(description='The gateway it went through; "counter" for cash or card at the counter.')
    reference: str = Field(description="Our reference of the order (the gateway's TxnRef).")
    transaction_id: str = Field(description="The gateway's transaction id; at the counter, the receipt number.")
    amount_vnd: int = Field(gt=0)
    at: datetime = Field(description="When the money moved (the gateway's confirmation, or the officer's record).")
    reason: str | None = Field(default=None, description="Why money went back (refund).")
    receipt_number: str | None = None

    @classmethod
    def make(cls, **fields: object) -> LedgerEntry:
        """An entry whose id is its kind, gateway and transaction: the same movement, the same id."""
        entry_id = f"{fields['kind']}:{fields['gateway']}:{fields['transaction_id']}"
        return cls.model_validate({"_id": entry_id, **fields})

    def document(self) -> dict[str, object]:
        return self.model_dump(by_alias=True)
