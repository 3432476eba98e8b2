"""A chat message as a Slack Block Kit message (incoming webhook or ``chat.postMessage``).

Organisation names go into ``rich_text`` elements, which Slack shows literally (a ``link``
element carries its URL apart from its text), so a name never becomes a mention or a link; only
our own labels and figures are written as mrkdwn, escaped.
"""

from __future__ import annotations

from typing import Any

from finops_digest.report.chat.content import ChatMessage, Row, Section, fit
from finops_digest.report.chat.inert_text import clip, one_line, slack_escape

# Slack's documented limits (https://docs.slack.dev/reference/block-kit/blocks): at most 50
# blocks in a message; a header's plain_text at most 150 characters; a section's text at most
# 3,000 and each of its at most 10 fields at most 2,000; a message's top-level text is cut at
# 40,000 characters (https://docs.slack.dev/reference/methods/chat.postMessage).
MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
MAX_FIELDS = 10
FIELD_CHARS = 2000
TEXT_CHARS = 40_000
# rich_text has no documented length; each is held to a section's 3,000 characters. Slack also
# refuses messages whose blocks hold much more than about 13,000 characters in all
# (msg_blocks_too_long, slackapi/bolt-js#2509, undocumented): all blocks stay within 12,000.
BLOCK_CHARS = SECTION_CHARS
MESSAGE_BLOCKS_CHARS = 12_000
# A link's URL: Slack's limit for URLs in Block Kit elements.
URL_CHARS = 3000
# One row's name and figures: a very long name is cut rather than crowding out the other rows.
NAME_CHARS = 200
DETAIL_CHARS = 500


def slack_payload(message: ChatMessage) -> dict[str, Any]:
    """``{"text", "blocks"}``: the header, the key figures, one list per section ("and N more"
    past what fits), the drill-down link and the footer; ``text`` is what notifications and
    clients without blocks show."""
    return fit(message, _render, _fits)


def _render(message: ChatMessage) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(message.title, HEADER_CHARS)},
        }
    ]
    if message.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {
                        "type": "mrkdwn",
                        "text": clip(
                            f"*{slack_escape(f.label)}*\n{slack_escape(f.value)}", FIELD_CHARS
                        ),
                    }
                    for f in message.facts[:MAX_FIELDS]
                ],
            }
        )
    blocks.extend(_list(section) for section in message.sections)
    if message.link and len(message.link) <= URL_CHARS:
        blocks.append(
            _rich_text(
                [
                    _line(
                        [
                            {
                                "type": "link",
                                "url": message.link,
                                "text": message.link_text,
                                "style": {"bold": True},
                            }
                        ]
                    )
                ]
            )
        )
    if message.footer:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": clip(slack_escape(message.footer), SECTION_CHARS)}
                ],
            }
        )
    return {"text": clip(slack_escape(message.summary), TEXT_CHARS), "blocks": blocks}


def _list(section: Section) -> dict[str, Any]:
    """A section as one rich_text block: its title in bold, a row per line (bulleted, unless the
    rows lead with their own marker, a budget light), and "and N more" in italics."""
    elements = [_line([{"type": "text", "text": section.title, "style": {"bold": True}}])]
    if any(row.marker for row in section.rows):
        elements.extend(_line(_row(row)) for row in section.rows)
    elif section.rows:
        elements.append(
            {
                "type": "rich_text_list",
                "style": "bullet",
                "elements": [_line(_row(row)) for row in section.rows],
            }
        )
    if section.more:
        more = f"and {section.more} more (in the email)"
        elements.append(_line([{"type": "text", "text": more, "style": {"italic": True}}]))
    return _rich_text(elements)


def _row(row: Row) -> list[dict[str, Any]]:
    name = clip(one_line(row.name), NAME_CHARS)
    parts: list[dict[str, Any]] = []
    if row.marker:
        parts.append({"type": "text", "text": row.marker + " "})
    if row.url and len(row.url) <= URL_CHARS:
        parts.append({"type": "link", "url": row.url, "text": name, "style": {"bold": True}})
    else:
        parts.append({"type": "text", "text": name, "style": {"bold": True}})
    parts.append({"type": "text", "text": ": " + clip(one_line(row.detail), DETAIL_CHARS)})
    return parts


def _line(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "rich_text_section", "elements": elements}


def _rich_text(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "rich_text", "elements": elements}


def block_chars(block: dict[str, Any]) -> int:
    """Characters a block carries (its texts and URLs), as Slack counts them against its limits."""
    total = 0
    for key, value in block.items():
        if key in ("text", "url") and isinstance(value, str):
            total += len(value)
        elif isinstance(value, dict):
            total += block_chars(value)
        elif isinstance(value, list):
            total += sum(block_chars(v) for v in value if isinstance(v, dict))
    return total


def _fits(payload: dict[str, Any]) -> bool:
    blocks = payload["blocks"]
    return (
        len(blocks) <= MAX_BLOCKS
        and all(block_chars(b) <= BLOCK_CHARS for b in blocks)
        and sum(block_chars(b) for b in blocks) <= MESSAGE_BLOCKS_CHARS
        and len(payload["text"]) <= TEXT_CHARS
    )
