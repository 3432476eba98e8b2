"""A chat message as an Amazon SNS publication that Amazon Q Developer in chat applications
(formerly AWS Chatbot) shows as a custom notification in the Slack or Teams channels subscribed
to the topic.

The custom notification format (https://docs.aws.amazon.com/chatbot/latest/adminguide/
custom-notifs.html): ``{"version": "1.0", "source": "custom", "content": {"textType":
"client-markdown", "title", "description", "nextSteps", "keywords"}, "metadata": {...}}``; any
other message is dropped by Amazon Q Developer without an error. ``client-markdown`` is rendered
as the channel's own markdown, so organisation names are made inert (``inert_markdown``).
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from finops_digest.money import CURRENCY_SYMBOLS
from finops_digest.report.chat.content import ChatMessage, Section, fit
from finops_digest.report.chat.inert_text import clip, inert_markdown

# SNS Publish: a message of at most 256 KB; a Subject of at most 100 characters, ASCII, starting
# with a letter, a number or punctuation, without line breaks or control characters
# (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
SNS_MESSAGE_BYTES = 256 * 1024
SUBJECT_CHARS = 100
# Amazon Q Developer's guide gives no length for a description; it lands in one Slack section
# (3,000 characters) or Teams card, so it is held to 3,000 characters and the title to 250.
DESCRIPTION_CHARS = 3000
TITLE_CHARS = 250
NAME_CHARS = 200
DETAIL_CHARS = 500
BULLET = "\u2022"
# "$" is ASCII and stays; "€", "£", "¥" become their codes.
_SYMBOL_CODES = {s: f"{code} " for code, s in CURRENCY_SYMBOLS.items() if not s.isascii()}


def sns_message(message: ChatMessage) -> tuple[str, str]:
    """``(subject, message)`` for ``sns.publish``: an ASCII subject of at most 100 characters
    (what email subscribers see), and the custom notification as JSON, its description within
    ``DESCRIPTION_CHARS`` ("and N more" past what fits)."""
    notification = fit(message, _render, _fits)
    return sns_subject(f"[FinOps] {message.summary}"), json.dumps(notification)


def sns_subject(text: str) -> str:
    """``text`` as SNS accepts a Subject: ASCII (currency symbols as their codes, accents
    dropped), one line, at most 100 characters."""
    for symbol, code in _SYMBOL_CODES.items():
        text = text.replace(symbol, code)
    text = text.replace("\u00b7", "-")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    printable = " ".join("".join(c if c.isprintable() else " " for c in ascii_text).split())
    if len(printable) > SUBJECT_CHARS:
        printable = printable[: SUBJECT_CHARS - 3].rstrip() + "..."
    return printable


def _render(message: ChatMessage) -> dict[str, Any]:
    lines = [f"*{f.label}:* {f.value}" for f in message.facts]
    for section in message.sections:
        lines.extend(["", *_list(section)])
    if message.footer:
        lines.extend(["", f"_{inert_markdown(message.footer)}_"])
    next_steps = [f"{message.link_text}: {message.link}"] if message.link else []
    day = message.billing_date.isoformat()
    return {
        "version": "1.0",
        "source": "custom",
        "id": f"finops-{message.category}-{day}",
        "content": {
            "textType": "client-markdown",
            "title": clip(inert_markdown(message.title), TITLE_CHARS),
            "description": "\n".join(lines),
            "nextSteps": next_steps,
            "keywords": ["FinOps", message.category, day],
        },
        "metadata": {
            "summary": clip(inert_markdown(message.summary), TITLE_CHARS),
            "eventType": f"finops-{message.category}",
            "additionalContext": {"billingDate": day},
        },
    }


def _list(section: Section) -> list[str]:
    lines = [f"*{inert_markdown(section.title)}*"]
    for row in section.rows:
        name = inert_markdown(clip(row.name, NAME_CHARS))
        detail = inert_markdown(clip(row.detail, DETAIL_CHARS))
        lines.append(f"{row.marker or BULLET} *{name}*: {detail}")
    if section.more:
        lines.append(f"_and {section.more} more (in the email)_")
    return lines


def _fits(notification: dict[str, Any]) -> bool:
    return (
        len(notification["content"]["description"]) <= DESCRIPTION_CHARS
        and len(json.dumps(notification).encode()) <= SNS_MESSAGE_BYTES
    )
