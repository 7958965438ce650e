"""E-mail over SMTP (aiosmtplib): a text/plain UTF-8 letter per message. The Message-ID is
made from the message's id, so a letter sent again after a crash is recognisably the same
letter to mail clients; SMTP itself has no idempotency key."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from . import Accepted, Outgoing, PermanentFailure, TransientFailure

TIMEOUT_S = 20


class EmailChannel:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        per_second: float = 50,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.per_second = per_second

    def letter(self, message: Outgoing) -> EmailMessage:
        letter = EmailMessage()
        name, address = parseaddr(self.sender)
        letter["From"] = str(Address(display_name=name, addr_spec=address)) if name else address
        letter["To"] = message.to
        letter["Subject"] = message.subject or ""
        letter["Date"] = formatdate(localtime=False)
        letter["Message-ID"] = f"<{re.sub(r'[^0-9A-Za-z.-]', '.', message.message_id)}@{address.split('@')[-1]}>"
        letter["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
        letter.set_content(message.text, charset="utf-8")
        return letter

    async def send(self, message: Outgoing) -> Accepted:
        letter = self.letter(message)
        try:
            await aiosmtplib.send(
                letter,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.starttls,
                timeout=TIMEOUT_S,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            error = refused.recipients[0]
            raise _failure(error.code, error.message) from None
        except aiosmtplib.SMTPResponseException as error:
            raise _failure(error.code, error.message) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise TransientFailure(f"mail server unreachable: {type(error).__name__}") from None
        return Accepted(letter["Message-ID"])

    async def aclose(self) -> None:
        return None


def _failure(code: int, text: str) -> Exception:
    """SMTP replies: 5xx is final (RFC 5321), 4xx may pass later."""
    reason = f"SMTP {code} {' '.join(text.split())[:200]}"
    return PermanentFailure(reason) if 500 <= code < 600 else TransientFailure(reason)
