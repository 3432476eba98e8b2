"""Render the emails from Jinja templates and send them as raw MIME through SES."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from typing import Any

from finops_digest.errors import FinopsError
from finops_digest.money import money, percent, signed_money
from finops_digest.resources import templates_dir

# SES SendRawEmail refuses messages over 10 MB (the whole MIME message, after base64 encoding).
SES_MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class EmailTooLargeError(FinopsError):
    """A message cannot be brought under SES's size limit."""


@cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        # HTML templates escape every value (OU, account and service names come from AWS);
        # the plain-text part must not be HTML-escaped.
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, signed_money=signed_money, percent=percent)
    return env


def render(template: str, **context: Any) -> str:
    """Render ``include/templates/<template>``."""
    return _environment().get_template(template).render(**context)


def build_message(
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    text: str,
    html: str,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    headers: dict[str, str] | None = None,
    inline_images: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """A MIME message: text and HTML alternatives, plus ``(filename, data, mime type)`` attachments.

    ``inline_images`` are ``(content id, PNG bytes)`` shown by the HTML as ``<img src="cid:id">``:
    they travel in a multipart/related with the HTML, so clients show them without fetching
    anything and do not list them as attachments.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if inline_images:
        html_part = message.get_body(("html",))
        for content_id, data in inline_images:
            html_part.add_related(
                data,
                maintype="image",
                subtype="png",
                cid=f"<{content_id}>",
                disposition="inline",
                filename=f"{content_id.split('@', 1)[0]}.png",
            )
    for filename, data, mime_type in attachments:
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def fit_to_limit(
    build: Callable[[Sequence[tuple[str, bytes, str]], dict[str, Any]], bytes],
    attachments: Sequence[tuple[str, bytes, str]],
    link: Callable[[], dict[str, str]] | None = None,
    limit: int = SES_MAX_MESSAGE_BYTES,
) -> tuple[bytes, dict[str, Any]]:
    """Build the message with its attachments as they are; if it exceeds ``limit``, with them
    gzip-compressed; past that, with none and a link (``link()``: ``{"url", "valid_until"}``,
    e.g. a pre-signed S3 URL and when it stops working).

    ``build(attachments, delivery)`` renders the message; ``delivery`` (``{"mode": "attached" |
    "gzip" | "link", "url"?}``) tells the templates how the files reach the reader.
    """
    delivery: dict[str, Any] = {"mode": "attached"}
    message = build(attachments, delivery)
    if len(message) <= limit:
        return message, delivery
    delivery = {"mode": "gzip"}
    compressed = [
        (f"{name}.gz", gzip.compress(data, mtime=0), "application/gzip")
        for name, data, _ in attachments
    ]
    message = build(compressed, delivery)
    if len(message) <= limit:
        return message, delivery
    if link is not None:
        delivery = {"mode": "link", **link()}
        message = build((), delivery)
        if len(message) <= limit:
            return message, delivery
    raise EmailTooLargeError(
        f"the message is {len(message):,} bytes with its attachments "
        f"{'linked' if link else 'gzip-compressed'}; SES accepts at most {limit:,}"
    )


def send_raw(ses_client: Any, sender: str, recipients: Sequence[str], message: bytes) -> str:
    """Send through SES ``SendRawEmail``; returns SES's message id."""
    response = ses_client.send_raw_email(
        Source=sender, Destinations=list(recipients), RawMessage={"Data": message}
    )
    return response["MessageId"]
