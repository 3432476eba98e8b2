"""Render the emails from Jinja templates and send them as raw MIME through SES."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from typing import Any

from finops_digest.resources import templates_dir

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(value: Decimal | float | str | None, currency: str = "USD") -> str:
    """``$12,345.67``: symbol, thousands separators, 2 decimals, rounded half up; minus in front."""
    if value is None:
        return "n/a"
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    return f"{'-' if amount < 0 else ''}{symbol}{abs(amount):,.2f}"


def signed_money(value: Decimal | float | str | None, currency: str = "USD") -> str:
    """``+$1,234.50`` / ``-$12.00``: a change, always with its sign."""
    if value is None:
        return "n/a"
    text = money(value, currency)
    return text if text.startswith("-") else "+" + text


def percent(value: float | None, signed: bool = True) -> str:
    """``+12.3%``; ``n/a`` when there is nothing to compare with."""
    if value is None:
        return "n/a"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


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
) -> bytes:
    """A MIME message: text and HTML alternatives, plus ``(filename, data, mime type)`` attachments."""
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
    for filename, data, mime_type in attachments:
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def send_raw(ses_client: Any, sender: str, recipients: Sequence[str], message: bytes) -> str:
    """Send through SES ``SendRawEmail``; returns SES's message id."""
    response = ses_client.send_raw_email(
        Source=sender, Destinations=list(recipients), RawMessage={"Data": message}
    )
    return response["MessageId"]
