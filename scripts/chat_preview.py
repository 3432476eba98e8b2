"""Preview chat payloads as a person would see them: a Slack Block Kit message and a Teams Adaptive
Card message rendered into self-contained HTML pages that look like each client (an
approximation: the same blocks in the same order, the same bold, links and lists).

``render_previews(payloads, out_dir)`` writes one ``chat-<service>-<title>.html`` per payload (the
demo writes ``demo-output/chat-*.html``); ``python scripts/chat_preview.py OUT_DIR PAYLOAD.json...``
does the same for payloads saved as JSON. Every text of a payload is HTML-escaped: a hostile name
shows as the text it is.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_STYLE = """
body { margin: 0; padding: 24px; background: #f4f4f5; font: 15px/1.46 -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, sans-serif, "Noto Color Emoji"; color: #1d1c1d; }
a { text-decoration: none; }
.slack { background: #fff; max-width: 720px; border: 1px solid #e1e1e1; border-radius: 8px;
  padding: 16px 20px; display: flex; gap: 12px; }
.slack .avatar { flex: none; width: 36px; height: 36px; border-radius: 6px; background: #2eb67d;
  color: #fff; font-weight: 700; display: flex; align-items: center; justify-content: center; }
.slack .who { font-weight: 900; } .slack .badge { font-size: 10px; background: #e8e8e8;
  color: #616061; padding: 1px 4px; border-radius: 3px; margin-left: 4px; font-weight: 700; }
.slack .time { color: #616061; font-size: 12px; margin-left: 6px; }
.slack .header { font-size: 18px; font-weight: 900; margin: 6px 0 8px; }
.slack .fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin: 8px 0; }
.slack .block { margin: 10px 0; } .slack ul { margin: 2px 0 2px 4px; padding-left: 22px; }
.slack li { margin: 2px 0; } .slack a { color: #1264a3; }
.slack .context { color: #616061; font-size: 12px; margin-top: 10px; }
.slack .fallback { color: #616061; font-size: 12px; border-top: 1px dashed #ddd; margin-top: 14px;
  padding-top: 6px; }
.teams { background: #fff; max-width: 720px; border-radius: 6px; border-top: 4px solid #5b5fc7;
  box-shadow: 0 1px 4px rgba(0,0,0,.18); padding: 16px 20px; font-family: "Segoe UI",
  -apple-system, Roboto, Arial, sans-serif, "Noto Color Emoji"; color: #242424; font-size: 14px; }
.teams .large { font-size: 20px; font-weight: 700; } .teams .subtle { color: #616161; }
.teams .small { font-size: 12px; } .teams .bolder { font-weight: 700; }
.teams .sep { border-top: 1px solid #e0e0e0; padding-top: 10px; margin-top: 12px; }
.teams .item { margin-top: 4px; } .teams .facts td { padding: 2px 16px 2px 0; vertical-align: top; }
.teams .facts td:first-child { font-weight: 700; white-space: nowrap; }
.teams a { color: #5b5fc7; } .teams .actions { margin-top: 14px; }
.teams .button { display: inline-block; border: 1px solid #d1d1d1; border-radius: 4px;
  padding: 5px 12px; font-weight: 600; color: #242424; }
h1 { font-size: 13px; color: #71717a; font-weight: 600; margin: 0 0 10px; }
"""


def render_previews(payloads: Sequence[dict[str, Any]], out_dir: Path | str) -> list[Path]:
    """One HTML page per payload (a Slack ``{"text", "blocks"}`` or a Teams ``{"type":
    "message"}``) in ``out_dir``, named ``chat-<service>-<title>.html``; the pages' paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for payload in payloads:
        if "blocks" in payload:
            service, title, body = "slack", _slack_title(payload), slack_html(payload)
        elif payload.get("type") == "message":
            service, title, body = "teams", _teams_title(payload), teams_html(payload)
        else:
            raise ValueError("expected a Slack Block Kit payload or a Teams message payload")
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "message"
        path = out / f"chat-{service}-{slug}.html"
        n = 2
        while path in written:
            path, n = out / f"chat-{service}-{slug}-{n}.html", n + 1
        path.write_text(_page(f"{service.title()}: {title}", body), encoding="utf-8")
        written.append(path)
    return written


def slack_html(payload: dict[str, Any]) -> str:
    """A Block Kit message as Slack shows it in a channel."""
    parts = []
    for block in payload["blocks"]:
        kind = block["type"]
        if kind == "header":
            parts.append(f'<div class="header">{_e(block["text"]["text"])}</div>')
        elif kind == "section":
            if block.get("text"):
                parts.append(f'<div class="block">{_mrkdwn(block["text"])}</div>')
            if block.get("fields"):
                fields = "".join(f"<div>{_mrkdwn(f)}</div>" for f in block["fields"])
                parts.append(f'<div class="fields">{fields}</div>')
        elif kind == "rich_text":
            parts.append(f'<div class="block">{_rich_text(block["elements"])}</div>')
        elif kind == "context":
            texts = " ".join(_mrkdwn(e) for e in block["elements"] if "text" in e)
            parts.append(f'<div class="context">{texts}</div>')
        elif kind == "divider":
            parts.append("<hr>")
    fallback = f'<div class="fallback">Notification text: {_e(_slack_unescape(payload.get("text", "")))}</div>'
    return (
        '<div class="slack"><div class="avatar">F</div><div><span class="who">FinOps digest</span>'
        '<span class="badge">APP</span><span class="time">06:12</span>'
        + "".join(parts)
        + fallback
        + "</div></div>"
    )


def teams_html(payload: dict[str, Any]) -> str:
    """A Teams message's Adaptive Card as Teams shows it in a channel."""
    card = payload["attachments"][0]["content"]
    parts = [_teams_element(item) for item in card["body"]]
    actions = "".join(
        f'<a class="button" href="{_e(a["url"], quote=True)}">{_e(a["title"])}</a> '
        for a in card.get("actions", [])
        if a.get("type") == "Action.OpenUrl"
    )
    if actions:
        parts.append(f'<div class="actions">{actions}</div>')
    return f'<div class="teams">{"".join(parts)}</div>'


def _teams_element(item: dict[str, Any]) -> str:
    classes = []
    if item.get("separator"):
        classes.append("sep")
    else:
        classes.append("item")
    if item["type"] == "TextBlock":
        classes += _teams_text_classes(item)
        return f'<div class="{" ".join(classes)}">{_teams_markdown(item["text"])}</div>'
    if item["type"] == "RichTextBlock":
        runs = "".join(_teams_run(run) for run in item["inlines"])
        return f'<div class="{" ".join(classes)}">{runs}</div>'
    if item["type"] == "FactSet":
        rows = "".join(
            f"<tr><td>{_teams_markdown(f['title'])}</td><td>{_teams_markdown(f['value'])}</td></tr>"
            for f in item["facts"]
        )
        return f'<table class="facts item">{rows}</table>'
    return ""


def _teams_run(run: dict[str, Any]) -> str:
    text = _e(run["text"])
    style = " ".join(_teams_text_classes(run))
    if run.get("italic"):
        text = f"<i>{text}</i>"
    url = (run.get("selectAction") or {}).get("url")
    if url:
        text = f'<a href="{_e(url, quote=True)}">{text}</a>'
    return f'<span class="{style}">{text}</span>' if style else text


def _teams_text_classes(item: dict[str, Any]) -> list[str]:
    classes = []
    if item.get("size") == "Large":
        classes.append("large")
    if item.get("size") == "Small":
        classes.append("small")
    if item.get("weight") == "Bolder":
        classes.append("bolder")
    if item.get("isSubtle"):
        classes.append("subtle")
    return classes


def _teams_markdown(text: str) -> str:
    """The Markdown Teams reads in TextBlocks and facts (bold only), escaped first."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", _e(text))


def _rich_text(elements: list[dict[str, Any]]) -> str:
    out = []
    for element in elements:
        if element["type"] == "rich_text_section":
            out.append(f"<div>{_inline(element['elements'])}</div>")
        elif element["type"] == "rich_text_list":
            tag = "ol" if element.get("style") == "ordered" else "ul"
            items = "".join(f"<li>{_inline(e['elements'])}</li>" for e in element["elements"])
            out.append(f"<{tag}>{items}</{tag}>")
    return "".join(out)


def _inline(elements: list[dict[str, Any]]) -> str:
    out = []
    for element in elements:
        if element["type"] == "link":
            text = _e(element.get("text") or element["url"])
            text = f'<a href="{_e(element["url"], quote=True)}">{text}</a>'
        elif element["type"] == "emoji":
            text = _e(f":{element['name']}:")
        else:
            text = _e(element.get("text", ""))
        style = element.get("style") or {}
        if style.get("bold"):
            text = f"<b>{text}</b>"
        if style.get("italic"):
            text = f"<i>{text}</i>"
        out.append(text)
    return "".join(out)


def _mrkdwn(text_object: dict[str, Any]) -> str:
    """Slack mrkdwn (bold, italic, newlines) of a text object, escaped first."""
    text = _e(_slack_unescape(text_object["text"]))
    if text_object.get("type") == "mrkdwn":
        text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<b>\1</b>", text)
        text = re.sub(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])", r"<i>\1</i>", text)
    return text.replace("\n", "<br>")


def _slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def title_of(payload: dict[str, Any]) -> str:
    """The title a reader sees first: a Slack message's header, a Teams card's first line."""
    return _slack_title(payload) if "blocks" in payload else _teams_title(payload)


def _slack_title(payload: dict[str, Any]) -> str:
    header = next((b for b in payload["blocks"] if b["type"] == "header"), None)
    return header["text"]["text"] if header else payload.get("text", "message")


def _teams_title(payload: dict[str, Any]) -> str:
    body = payload["attachments"][0]["content"]["body"]
    if not body:
        return "message"
    first = body[0]
    if first["type"] == "RichTextBlock":
        return "".join(run.get("text", "") for run in first["inlines"])
    return str(first.get("text") or "message")


def _e(text: str, quote: bool = False) -> str:
    return html.escape(str(text), quote=quote)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)} (preview)</h1>{body}</body></html>"
    )


def main(argv: list[str] | None = None) -> int:
    """``chat_preview.py OUT_DIR PAYLOAD.json...``: write a preview page per payload file."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    payloads = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args[1:]]
    for path in render_previews(payloads, args[0]):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
