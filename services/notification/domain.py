"""Notification rules (thông báo): what the citizen is told, and on which channel.

Skeleton: messages go to a sandbox channel (recorded, not sent to a phone
network); SMS and e-mail gateways come with the notification rules.
"""

from __future__ import annotations

import re
from typing import Any

TEMPLATES = {
    "result_ready": "Ho so {dossier_code} da co ket qua ({result_code}). Tra cuu tai cong dich vu cong.",
    "supplement_requested": "Ho so {dossier_code} can bo sung giay to. Vui long xem phieu yeu cau bo sung.",
    "refused": "Ho so {dossier_code} bi tu choi giai quyet. Vui long xem phieu tu choi.",
    "apologised": "Xin loi: ho so {dossier_code} cham tra ket qua. Hen lai ngay {new_due_date}.",
    "withdrawn": "Ho so {dossier_code} da duoc rut theo yeu cau cua ong/ba.",
    "withdrawal_declined": "Ho so {dossier_code} da duoc giai quyet nen khong the rut. Tra cuu tai cong dich vu cong.",
    "payment_requested": "Ho so {dossier_code}: phi, le phi {amount} dong. Thanh toan truc tuyen truoc {deadline} "
    "tai {pay_url} hoac nop tai Bo phan Mot cua.",
    "payment_expired": "Ho so {dossier_code}: lien ket thanh toan truc tuyen da het han. Vui long nop phi, le phi "
    "{amount} dong tai Bo phan Mot cua.",
    "payment_refunded": "Ho so {dossier_code}: da hoan tra {amount} dong phi, le phi ({reason}).",
}

# Payment's refund reasons, as the citizen reads them; any other reason is shown as given.
REFUND_REASONS = {
    "dossier withdrawn": "ho so da duoc rut",
    "dossier refused": "ho so bi tu choi giai quyet",
    "paid twice": "phi da duoc nop hai lan",
}


def render(template: str, **values: Any) -> str:
    # SMS text without diacritics: cheaper (GSM-7) and readable on every handset.
    return TEMPLATES[template].format(**values)


def vnd(amount: int) -> str:
    """An amount as Vietnamese write it: 1250000 -> "1.250.000"."""
    return f"{amount:,}".replace(",", ".")


def refund_reason(reason: str) -> str:
    if reason.startswith("paid after cancellation"):
        return "phi nop sau khi ho so da rut hoac bi tu choi"
    return REFUND_REASONS.get(reason, reason)


def key_part(text: str) -> str:
    """`text` as part of a message's key, a field name in the store: no dots or dollar signs."""
    return re.sub(r"[^0-9A-Za-z_-]", "_", text)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-3:] if len(phone) >= 7 else "****"
