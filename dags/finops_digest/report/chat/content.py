"""What a chat message says, before any service's format: every format shows the same facts and
rows, so Slack, Teams and Amazon Q Developer (SNS) readers see the same numbers.

Names that come from the organisation (OUs, services, accounts) stay plain text here; each format
shows them literally, never as markup, so a name can neither create a link nor mention anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

DIGEST, ALERT = "digest", "alert"
CATEGORIES = (DIGEST, ALERT)
T = TypeVar("T")


@dataclass(frozen=True)
class Fact:
    """One key figure: ``Day total: $12,345.67``."""

    label: str
    value: str


@dataclass(frozen=True)
class Row:
    """One line of a list: ``name`` (organisation data, shown literally) and ``detail`` (its
    figures); ``marker`` an emoji before it (a budget light); ``url`` the drill-down of the row."""

    name: str
    detail: str
    url: str | None = None
    marker: str = ""


@dataclass(frozen=True)
class Section:
    """A titled list. ``more`` counts the rows left out, said as "and N more"."""

    title: str
    rows: tuple[Row, ...]
    more: int = 0


@dataclass(frozen=True)
class ChatMessage:
    """A digest or an alert for chat. ``summary`` is the one line a notification shows; ``link``
    the drill-down of the whole message (when ``dashboard_url`` is set)."""

    category: str
    title: str
    summary: str
    billing_date: date
    facts: tuple[Fact, ...]
    sections: tuple[Section, ...]
    link: str | None = None
    link_text: str = "Open the drill-down"
    footer: str = ""

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {CATEGORIES}, got {self.category!r}")

    def rows(self) -> int:
        """How many rows the sections show."""
        return sum(len(s.rows) for s in self.sections)

    def shortened(self) -> ChatMessage:
        """The message with the last row of its longest section left out (and counted in that
        section's ``more``): how a format makes a message fit its service's limit."""
        longest = max(range(len(self.sections)), key=lambda i: len(self.sections[i].rows))
        section = self.sections[longest]
        if not section.rows:
            raise ValueError("nothing left to leave out of the message")
        cut = replace(section, rows=section.rows[:-1], more=section.more + 1)
        sections = self.sections[:longest] + (cut,) + self.sections[longest + 1 :]
        return replace(self, sections=sections)


def fit(message: ChatMessage, render: Callable[[ChatMessage], T], fits: Callable[[T], bool]) -> T:
    """``render(message)``, leaving out rows (the last of the longest list first, each said as
    "and N more") until ``fits`` accepts it: a long day is shortened, never refused."""
    while True:
        payload = render(message)
        if fits(payload):
            return payload
        if not message.rows():
            raise ValueError(
                f"the {message.category} does not fit its service's limits, even with no rows"
            )
        message = message.shortened()
