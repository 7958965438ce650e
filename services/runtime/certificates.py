"""Certificates from files: the CA certificates and trust roots that signing embeds and checks,
and that digitisation checks officers' scan signatures against."""

from __future__ import annotations

from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509


def read_certificates(path: str | Path) -> list[asn1_x509.Certificate]:
    """Every certificate of a PEM (or DER) file; an empty or unreadable file stops the start."""
    data = Path(path).read_bytes()
    blocks = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
    if not blocks:
        raise ValueError(f"no certificate in {path}")
    return [asn1_x509.Certificate.load(der) for der in blocks]
