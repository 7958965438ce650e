"""Uploads (tải tệp lên): a citizen's portal, a business's system or a receiving officer puts a
component's file into the document store before submitting the dossier, and submits the
document id, hash and upload token the store answered with."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request
from motcua_contracts import new_event_id
from pydantic import BaseModel, Field
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.runtime import RuntimeDep, utcnow
from services.runtime.clients import client_of
from services.runtime.limits import Limited
from services.runtime.receipts import upload_token
from services.runtime.web import answers

from .. import store
from ..context import Digitisation, DigitisationDep
from ..upload import received

router = APIRouter(tags=["uploads"])
TOO_MANY = "Quá nhiều tệp tải lên từ địa chỉ của bạn; vui lòng thử lại sau {seconds} giây."
MULTIPART = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        }
    }
}


class Uploaded(BaseModel):
    """What a submission names a component's file with."""

    document_id: str = Field(description="The upload's id: name it as the component's `document_id`.")
    sha256: str = Field(description="SHA-256 (hex) of the file.")
    size: int
    media_type: str = Field(examples=["application/pdf"])
    pages: int
    upload_token: str = Field(description="Proof of this upload for intake: the component's `upload_token`.")
    expires_at: datetime = Field(description="Removed then unless a dossier refers to it.")


async def count_upload(request: Request, digitisation: Digitisation) -> None:
    try:
        await digitisation.uploads.spend(client_of(request))
    except Limited as spent:
        wait = spent.retry_after_s
        raise HTTPException(429, TOO_MANY.format(seconds=wait), {"Retry-After": str(wait)}) from None


async def form_of(request: Request, most_files: int) -> FormData:
    """The request's multipart form (422 if it is not one, is malformed or has too many parts)."""
    try:
        return await request.form(max_files=most_files, max_fields=10)
    except (StarletteHTTPException, AssertionError, ValueError, KeyError) as error:  # Starlette's 400
        reason = error.detail if isinstance(error, StarletteHTTPException) else str(error)
        raise HTTPException(422, f"send the files as multipart/form-data: {reason}") from None


def files_in(form: FormData, field: str) -> list[UploadFile]:
    """The files of multipart field `field` (422 if there is none)."""
    files = [value for value in form.getlist(field) if isinstance(value, UploadFile)]
    if not files:
        raise HTTPException(422, f"send the file as the multipart field `{field}`")
    return files


@router.post("/documents", status_code=201, responses=answers(411, 413, 415, 422, 429, 503), openapi_extra=MULTIPART)
async def upload(request: Request, runtime: RuntimeDep, digitisation: DigitisationDep) -> Uploaded:
    """Put one file (PDF, JPEG or PNG, judged by its content) into the document store. A file that
    is truncated, corrupt, encrypted, a decompression bomb or of absurd dimensions is refused
    with the problem named and nothing is stored. Counted against the client's per-minute budget."""
    await count_upload(request, digitisation)
    [file] = files_in(await form_of(request, 1), "file")
    async with received(runtime, [file], digitisation.limits) as [checked]:
        await runtime.files.put(checked.sha256, checked.path)
    now = utcnow()
    expires_at = now + timedelta(days=digitisation.settings.upload_retention_days)
    record = {
        "_id": new_upload_id(),
        "sha256": checked.sha256,
        "size": checked.size,
        "media_type": checked.inspected.media_type,
        "pages": checked.inspected.pages,
        "uploaded_at": now,
        "expires_at": expires_at,
    }
    await runtime.documents.insert(store.UPLOADS, [record])
    return Uploaded(
        document_id=record["_id"],
        sha256=checked.sha256,
        size=checked.size,
        media_type=checked.inspected.media_type,
        pages=checked.inspected.pages,
        upload_token=upload_token(digitisation.receipt_key, record["_id"], checked.sha256),
        expires_at=expires_at,
    )


def new_upload_id() -> str:
    return f"UP-{new_event_id()}"
