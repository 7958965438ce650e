"""The timestamp authority's client (RFC 3161 over HTTP): one kept-alive connection pool for
every signature of a batch, instead of a new session per request; pyHanko checks each answer
(status, nonce, imprint)."""

from __future__ import annotations

import httpx
from asn1crypto import tsp
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError


class TimestampAuthority(TimeStamper):
    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        super().__init__()
        self.url, self.client = url, client

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            response = await self.client.post(
                self.url, content=req.dump(), headers={"Content-Type": "application/timestamp-query"}
            )
        except httpx.HTTPError as error:
            raise TimestampRequestError(f"timestamp authority unreachable: {type(error).__name__}") from error
        if response.status_code != 200 or response.headers.get("content-type") != "application/timestamp-reply":
            raise TimestampRequestError(f"timestamp authority answered {response.status_code}")
        return tsp.TimeStampResp.load(response.content)
