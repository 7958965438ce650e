"""Digitisation's settings: the file store, the limits on files, the worker processes that check,
assemble and recognise them, what opens a dossier's files (the receipt-token key, officials'
tokens), the roots that officers' scan signatures chain to, and the personal-data key that opens
the owner of a dossier (the e-data store is kept by owner)."""

from pydantic import Field

from services.runtime import ServiceSettings
from services.runtime.settings import (
    FileStore,
    OfficialsTokens,
    PersonalDataKey,
    ReceiptTokens,
    Workers,
    required,
)

from .checks import Limits

MEBIBYTE = 1024 * 1024


class DigitisationSettings(ServiceSettings, FileStore, Workers, OfficialsTokens, ReceiptTokens, PersonalDataKey):
    http_port: int = 8002
    max_body_bytes: int = Field(default=64 * MEBIBYTE, description="Larger requests (a scan's files together) get 413.")
    max_file_bytes: int = Field(default=20 * MEBIBYTE, ge=1024, description="Largest file accepted.")
    max_files_per_scan: int = Field(default=50, ge=1, description="Files (pages) of one scanned component at most.")
    max_pages: int = Field(default=200, ge=1, description="Pages of one PDF at most.")
    max_image_pixels: int = Field(default=40_000_000, ge=1_000_000, description="Pixels of one image at most.")
    upload_retention_days: int = Field(
        default=7, ge=1, description="An upload no dossier refers to is removed after this many days."
    )
    retention_years: int = Field(
        default=20, ge=1, description="How long a dossier's documents and results are kept (retention date)."
    )
    uploads_per_minute: int = Field(default=60, ge=1, description="Uploads per client address and minute.")
    ocr_language: str = Field(default="vie", description="Tesseract's language data for recognition.")
    ocr_workers: int = Field(
        default=1, ge=1, le=64, description="Worker processes for OCR, apart from those that answer requests."
    )
    ocr_batch: int = Field(default=4, ge=1, description="Documents the recognition job takes at once per OCR worker.")
    trust_roots_file: str | None = required(
        "pki/root-ca.pem", "PEM file of the root certificates officers' scan signatures must chain to."
    )

    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_file_bytes, max_pages=self.max_pages, max_pixels=self.max_image_pixels)
