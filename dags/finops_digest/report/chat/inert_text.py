"""Text that stays text in chat: names from the organisation (an OU called
``<!channel> <https://evil|x>``) must never become a mention, a link or formatting.

Slack and Teams get names in elements that are never parsed as markup (Slack ``rich_text`` text
elements, Adaptive Card ``TextRun``s); what is written as markup (Slack's fallback text, the
Amazon Q Developer description) goes through these functions.
"""

from __future__ import annotations

import re

ELLIPSIS = "\u2026"
ZERO_WIDTH_SPACE = "\u200b"

# Slack: "&", "<" and ">" are the only characters to escape in mrkdwn, and escaping them is what
# keeps "<!channel>", "<@U123>" and "<url|text>" literal
# (https://docs.slack.dev/messaging/formatting-message-text#escaping).
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})

# Amazon Q Developer renders ``client-markdown`` as the channel's own markdown (Slack mrkdwn or
# Teams markdown), which differ in how (and whether) they escape. So markup characters are
# replaced by look-alikes that neither parses: angle brackets (Slack links and mentions), asterisk,
# tilde and backtick (bold, strike, code in both), and brackets (Markdown links).
_LOOK_ALIKES = str.maketrans(
    {
        "<": "\u2039",
        ">": "\u203a",
        "*": "\u2217",
        "~": "\u02dc",
        "`": "\u02cb",
        "[": "\u27e6",
        "]": "\u27e7",
        "|": "\u2223",
    }
)
# An underscore inside a word ("data_lake") is never emphasis; at a word's edge it may be.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# A URL or an @mention written in a name would be linked by the chat client: a zero-width space
# keeps it readable but unlinked.
_AUTO_LINKED = re.compile(r"(://|@|www\.)")


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with "…" when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    """``text`` with newlines and runs of spaces as one space: a name never breaks a layout."""
    return " ".join(str(text).split())


def slack_escape(text: str) -> str:
    """``text`` for Slack mrkdwn: shown literally, never a mention or a link."""
    return text.translate(_SLACK_ESCAPES)


def inert_markdown(text: str) -> str:
    """``text`` for Amazon Q Developer's ``client-markdown``: no mention, link, or formatting in
    Slack or Teams, and still readable."""
    text = _EDGE_UNDERSCORE.sub("\u02cd", one_line(text).translate(_LOOK_ALIKES))
    return _AUTO_LINKED.sub(lambda m: m.group(1)[0] + ZERO_WIDTH_SPACE + m.group(1)[1:], text)
