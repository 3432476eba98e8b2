"""Read a chat payload back the way its service shows it: the key figures, and each list's rows
as (name, detail, url), plus its "and N more" count. One reader per service, so the tests check
what a reader in Slack, Teams or Amazon Q Developer would see."""

from __future__ import annotations

import json
import re
from typing import Any

MORE = re.compile(r"and (\d+) more")


def slack_view(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"title", "facts", "lists" {title: [(name, detail, url)]}, "more" {title: n},
    "links" [urls outside lists], "mrkdwn" [every mrkdwn text]}`` of a Block Kit message."""
    view: dict[str, Any] = {"facts": {}, "lists": {}, "more": {}, "links": [], "mrkdwn": []}
    for block in payload["blocks"]:
        if block["type"] == "header":
            view["title"] = block["text"]["text"]
        elif block["type"] == "section":
            for field in block["fields"]:
                assert field["type"] == "mrkdwn"
                view["mrkdwn"].append(field["text"])
                label, value = field["text"].split("\n", 1)
                view["facts"][label.strip("*")] = value
        elif block["type"] == "context":
            view["mrkdwn"].extend(e["text"] for e in block["elements"] if e["type"] == "mrkdwn")
        elif block["type"] == "rich_text":
            title = None
            for element in block["elements"]:
                if element["type"] == "rich_text_list":
                    view["lists"][title] = [
                        _slack_row(item["elements"]) for item in element["elements"]
                    ]
                    continue
                texts = element["elements"]
                if len(texts) == 1 and texts[0]["type"] == "link":
                    view["links"].append(texts[0]["url"])
                elif title is None:
                    title = texts[0]["text"]
                    view["lists"].setdefault(title, [])
                elif any(t.get("style", {}).get("bold") for t in texts):  # a row with a marker
                    view["lists"][title].append(_slack_row(texts))
                else:
                    view["more"][title] = int(MORE.search(texts[0]["text"]).group(1))
    return view


def _slack_row(elements: list[dict[str, Any]]) -> tuple[str, str, str | None]:
    named = [e for e in elements if e.get("style", {}).get("bold")]
    assert len(named) == 1, elements
    detail = elements[-1]
    assert detail["type"] == "text" and detail["text"].startswith(": ")
    return named[0]["text"], detail["text"][2:], named[0].get("url")


def teams_view(payload: dict[str, Any]) -> dict[str, Any]:
    """The same view of a Teams Adaptive Card message; ``"markdown"``: every text Teams reads as
    Markdown (TextBlocks, facts)."""
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    view: dict[str, Any] = {"facts": {}, "lists": {}, "more": {}, "markdown": []}
    view["links"] = [a["url"] for a in card.get("actions", [])]
    title = None
    heading = card["body"][0]["inlines"][0]
    assert heading["size"] == "Large" and heading["weight"] == "Bolder"
    view["title"] = heading["text"]
    for item in card["body"][1:]:
        if item["type"] == "TextBlock":
            view["markdown"].append(item["text"])
            title = item["text"]
            view["lists"][title] = []
        elif item["type"] == "FactSet":
            for fact in item["facts"]:
                view["markdown"].extend([fact["title"], fact["value"]])
                view["facts"][fact["title"]] = fact["value"]
        elif item["type"] == "RichTextBlock":
            runs = item["inlines"]
            named = [r for r in runs if r.get("weight") == "Bolder"]
            if named:
                url = named[0].get("selectAction", {}).get("url")
                view["lists"][title].append((named[0]["text"], runs[-1]["text"][2:], url))
            elif title is not None and MORE.search(runs[0]["text"]):
                view["more"][title] = int(MORE.search(runs[0]["text"]).group(1))
    return view


def sns_view(message: str) -> dict[str, Any]:
    """The same view of an Amazon Q Developer custom notification (the SNS message)."""
    notification = json.loads(message)
    assert notification["version"] == "1.0" and notification["source"] == "custom"
    content = notification["content"]
    assert content["textType"] == "client-markdown"
    view: dict[str, Any] = {"title": content["title"], "facts": {}, "lists": {}, "more": {}}
    view["links"] = [step.rsplit(": ", 1)[1] for step in content.get("nextSteps", [])]
    view["description"] = content["description"]
    title = None
    for line in content["description"].split("\n"):
        fact = re.fullmatch(r"\*(.+?):\* (.*)", line)
        row = re.fullmatch(r"\S+ \*(.+?)\*: (.*)", line)
        if fact:
            view["facts"][fact.group(1)] = fact.group(2)
        elif re.fullmatch(r"\*[^*]+\*", line):
            title = line.strip("*")
            view["lists"][title] = []
        elif row and title is not None:
            view["lists"][title].append((row.group(1), row.group(2), None))
        elif MORE.search(line) and title is not None:
            view["more"][title] = int(MORE.search(line).group(1))
    return view
