"""Signing rules (ký số): result codes."""

from __future__ import annotations

UNNAMED_HOLDER = "Tổ chức, cá nhân có tên trong hồ sơ"  # an approval from before routing named the holder


def result_code(dossier_code: str, number: int = 1) -> str:
    """`<dossier code>-KQ<n>`: the n-th result of the dossier."""
    return f"{dossier_code}-KQ{number}"


def dossier_of(result_code: str) -> str | None:
    """The dossier a result code names (`<dossier code>-KQ<n>`); None for anything else."""
    dossier_code, separator, number = result_code.rpartition("-KQ")
    return dossier_code if separator and dossier_code and number.isascii() and number.isdigit() else None
