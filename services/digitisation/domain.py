"""Digitisation rules: every component gets an electronic copy, recorded by origin.

Skeleton: a paper component is recorded as scanned with a fingerprint of its
identity; image capture, OCR and the officer's signature on the scan come with
the digitisation rules.
"""

from __future__ import annotations

import hashlib

from motcua_contracts import ComponentDigitised, ComponentReceived

ORIGIN = {"electronic": "uploaded", "paper": "scanned", "e_data_store": "reused"}


def digitise(dossier_code: str, components: list[ComponentReceived]) -> list[ComponentDigitised]:
    result = []
    for index, component in enumerate(components, start=1):
        digest = component.sha256 or hashlib.sha256(f"{dossier_code}/{component.name}".encode()).hexdigest()
        result.append(
            ComponentDigitised(
                name=component.name,
                origin=ORIGIN[component.form],
                sha256=digest,
                document_id=f"{dossier_code}/TP{index}",
            )
        )
    return result
