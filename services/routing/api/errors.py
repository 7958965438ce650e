"""The domain's refusals as HTTP answers: 404, 403, 409, 422 with the reason in `detail`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException

from ..domain import Conflict, DomainError, Forbidden, Invalid, NotFound, Refused

STATUS: dict[type[DomainError], int] = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422}


def http_error(error: DomainError) -> HTTPException:
    status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    if isinstance(error, Refused) and error.detail is not None:
        return HTTPException(status, {"message": str(error), "errors": error.detail})
    return HTTPException(status, str(error))


@contextmanager
def answering() -> Iterator[None]:
    """Turn a `DomainError` raised inside the block into its HTTP answer."""
    try:
        yield
    except DomainError as error:
        raise http_error(error) from None
