"""The timestamp authority's client (RFC 3161 over HTTP): one kept-alive connection pool for
every signature of a batch, instead of a new session per request; pyHanko checks each answer
(status, nonce, imprint)."""

from __future__ import annotations

import httpx
from asn1crypto import tsp
from cryptography import x509
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

    async def certificates(self) -> list[x509.Certificate]:
        """The authority's own certificate(s), learnt from a first timestamp (its CA's are not among
        them): whose revocation status B-LT embeds with the signers'."""
        await self.async_dummy_response("sha256")
        found = [x509.load_der_x509_certificate(c.dump()) for c in self.cert_registry]
        return [c for c in found if not _is_ca(c)]


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False
