"""E-mail over SMTP (aiosmtplib): a text/plain UTF-8 letter per message. The Message-ID is
made from the message's id, so a letter sent again after a crash is recognisably the same
letter to mail clients; SMTP itself has no idempotency key.

Headers are encoded by `email.header.Header` (RFC 2047 words that keep their spaces), not by
the `email.policy.default` folder: before CPython gh-144156 it drops the space between two
encoded words on a fold, and a Vietnamese subject then reads "đã đượctiếp nhận"."""

from __future__ import annotations

import re
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr

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

    def letter(self, message: Outgoing) -> MIMEText:
        letter = MIMEText(message.text, "plain", "utf-8")
        name, address = parseaddr(self.sender)
        letter["From"] = formataddr((name, address), charset="utf-8")
        letter["To"] = message.to
        letter["Subject"] = Header(message.subject or "", "utf-8")
        letter["Date"] = formatdate(localtime=False)
        letter["Message-ID"] = f"<{re.sub(r'[^0-9A-Za-z.-]', '.', message.message_id)}@{address.split('@')[-1]}>"
        letter["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
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
