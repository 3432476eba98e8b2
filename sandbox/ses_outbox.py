"""Every email SES accepted, as raw MIME bytes in send order."""

from __future__ import annotations

from email.message import EmailMessage

from moto.ses.models import Message, RawMessage, ses_backends

from sandbox.config import ACCOUNT_ID, REGION


def _as_mime(message: object) -> bytes | None:
    """Raw MIME of a moto SES message (send_email messages are rebuilt as MIME)."""
    if isinstance(message, RawMessage):
        raw = message.raw_data
        return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    if isinstance(message, Message):
        mime = EmailMessage()
        mime["Message-ID"] = f"<{message.id}@email.amazonses.com>"
        mime["From"] = message.source
        for header, field in (("To", "ToAddresses"), ("Cc", "CcAddresses")):
            if message.destinations.get(field):
                mime[header] = ", ".join(message.destinations[field])
        mime["Subject"] = message.subject or ""
        body = message.body
        if isinstance(body, dict):  # moto may keep {"html": ..., "text": ...}
            text, html = body.get("text"), body.get("html")
        else:
            text, html = (None, body) if body and "<" in body else (body, None)
        mime.set_content(text or "")
        if html:
            mime.add_alternative(html, subtype="html")
        return bytes(mime)
    return None  # templated sends carry no rendered MIME


def sent_emails(account_id: str = ACCOUNT_ID, region: str = REGION) -> list[bytes]:
    """Raw MIME bytes of every email sent through SES (send_email, send_raw_email), in order."""
    backend = ses_backends[account_id][region]
    out = []
    for message in list(backend.sent_messages):
        mime = _as_mime(message)
        if mime is not None:
            out.append(mime)
    return out
