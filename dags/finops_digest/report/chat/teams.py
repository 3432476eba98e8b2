"""A chat message as a Microsoft Teams message carrying an Adaptive Card (an incoming webhook or a
Power Automate "Workflows" webhook).

Organisation names go into ``TextRun``s, which Adaptive Cards never read as Markdown (a link is
the run's ``selectAction``, apart from its text), so a name never becomes a link or formatting;
``TextBlock``s and facts carry only our own labels and figures.
"""

from __future__ import annotations

import json
from typing import Any

from finops_digest.report.chat.content import ChatMessage, Row, Section, fit
from finops_digest.report.chat.inert_text import clip, one_line

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams renders Adaptive Cards up to 1.5 on desktop and 1.4 on mobile: 1.4 shows everywhere.
CARD_VERSION = "1.4"
# "The message size limit is 28 KB" for incoming webhooks, and about 28 KB for the Workflows
# app's "Post card in a chat or channel" (learn.microsoft.com: add-incoming-webhook; Connectors:
# teams, "Message size limits"). Teams counts its own envelope too, and posts of about 21 KB have
# been refused in practice (msteams_hermes), so cards stay within 20,000 bytes as sent.
TEAMS_LIMIT_BYTES = 28 * 1024
CARD_BUDGET_BYTES = 20_000
NAME_CHARS = 200
DETAIL_CHARS = 500
BULLET = "\u2022"


def teams_payload(message: ChatMessage) -> dict[str, Any]:
    """``{"type": "message", "attachments": [Adaptive Card]}``: title, key figures, one list per
    section ("and N more" past what fits), the footer, and an "Open the drill-down" button."""
    return fit(message, _render, lambda payload: payload_bytes(payload) <= CARD_BUDGET_BYTES)


def payload_bytes(payload: dict[str, Any]) -> int:
    """The payload's size as posted (``json.dumps`` with its defaults: ASCII, non-ASCII escaped),
    the size Teams' limit applies to."""
    return len(json.dumps(payload).encode())


def _render(message: ChatMessage) -> dict[str, Any]:
    # The title may name an owner's OU: a TextRun, never Markdown.
    body: list[dict[str, Any]] = [_plain(message.title, size="Large", weight="Bolder")]
    if message.facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": f.label, "value": f.value} for f in message.facts],
            }
        )
    for section in message.sections:
        body.extend(_list(section))
    if message.footer:
        body.append(_plain(message.footer, isSubtle=True, size="Small", spacing="Medium"))
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if message.link:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": message.link_text, "url": message.link}
        ]
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def _list(section: Section) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": section.title,
            "weight": "Bolder",
            "wrap": True,
            "spacing": "Medium",
            "separator": True,
        }
    ]
    items.extend(_row(row) for row in section.rows)
    if section.more:
        items.append(_plain(f"and {section.more} more (in the email)", isSubtle=True, italic=True))
    return items


def _row(row: Row) -> dict[str, Any]:
    name: dict[str, Any] = {
        "type": "TextRun",
        "text": clip(one_line(row.name), NAME_CHARS),
        "weight": "Bolder",
    }
    if row.url:
        name.update(color="Accent", selectAction={"type": "Action.OpenUrl", "url": row.url})
    inlines = [name, {"type": "TextRun", "text": ": " + clip(one_line(row.detail), DETAIL_CHARS)}]
    # A row leads with its marker (a budget light), else a bullet, as Slack's lists do.
    inlines.insert(0, {"type": "TextRun", "text": (row.marker or BULLET) + " "})
    return {"type": "RichTextBlock", "inlines": inlines, "spacing": "Small"}


def _plain(text: str, italic: bool = False, **options: Any) -> dict[str, Any]:
    """A line shown literally: a RichTextBlock's TextRun (never Markdown, unlike a TextBlock)."""
    run: dict[str, Any] = {"type": "TextRun", "text": text}
    if italic:
        run["italic"] = True
    for key in ("isSubtle", "size", "weight"):
        if key in options:
            run[key] = options.pop(key)
    return {"type": "RichTextBlock", "inlines": [run], **options}
