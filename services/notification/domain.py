"""Notification rules (thông báo): what the citizen is told, and on which channel.

Skeleton: messages go to a sandbox channel (recorded, not sent to a phone
network); SMS and e-mail gateways come with the notification rules.
"""

from __future__ import annotations

from typing import Any

TEMPLATES = {
    "result_ready": "Ho so {dossier_code} da co ket qua ({result_code}). Tra cuu tai cong dich vu cong.",
    "supplement_requested": "Ho so {dossier_code} can bo sung giay to. Vui long xem phieu yeu cau bo sung.",
    "refused": "Ho so {dossier_code} bi tu choi giai quyet. Vui long xem phieu tu choi.",
    "apologised": "Xin loi: ho so {dossier_code} cham tra ket qua. Hen lai ngay {new_due_date}.",
    "withdrawn": "Ho so {dossier_code} da duoc rut theo yeu cau cua ong/ba.",
    "withdrawal_declined": "Ho so {dossier_code} da duoc giai quyet nen khong the rut. Tra cuu tai cong dich vu cong.",
}


def render(template: str, **values: Any) -> str:
    # SMS text without diacritics: cheaper (GSM-7) and readable on every handset.
    return TEMPLATES[template].format(**values)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-3:] if len(phone) >= 7 else "****"
