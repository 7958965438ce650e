"""Digitisation's HTTP edge: uploads (anyone, within a budget per client), scans (the officers
routing put on a dossier), the store's documents (those officials, and the owner with a
receipt's token), search (officials)."""

from fastapi import APIRouter

from . import documents, scans, uploads

ROUTERS: tuple[APIRouter, ...] = (uploads.router, scans.router, documents.router)
