"""The executive snapshot: a two-page A4 PDF of budget vs forecast per OU, the trend and the movers.

Drawn with matplotlib alone (pure wheels: MWAA workers cannot install system libraries); text is
embedded as TrueType so it can be searched and copied, charts stay vector.
"""

from __future__ import annotations

import io
from typing import Any

from finops_digest.budgets.lights import LIGHT_COLOURS, LIGHT_WORDS, NO_LIGHT_COLOUR
from finops_digest.money import money, percent, signed_money
from finops_digest.report import charts

PAGE_W, PAGE_H = 8.27, 11.69  # A4 portrait, inches
MARGIN = 0.55
HEADER_BG, TEXT, MUTED, RULE, BAND = "#1f2937", "#111827", "#6b7280", "#e5e7eb", "#f9fafb"
# With more OUs than this the table takes page 1 alone and the trend and movers move on.
ROWS_WITH_TREND = 12


def render_snapshot(context: dict[str, Any]) -> bytes:
    """The PDF's bytes from the digest's figures (``ou_budgets``, ``budget_totals``, ``trend``,
    ``top_movers``, the KPIs, ``currency``, ``cost_metric``, ``billing_date``)."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    day = context["billing_date"]
    metadata = {
        "Title": f"Executive cost snapshot {day.isoformat()}",
        "Subject": "AWS cost: budget vs forecast per OU",
        "Creator": "finops-digest",
        # No creation date: the same day's figures give the same file.
        "CreationDate": None,
    }
    with (
        rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}),
        PdfPages(buffer, metadata=metadata) as pdf,
    ):
        rows = context["ou_budgets"]
        together = len(rows) <= ROWS_WITH_TREND
        pages = 2 if together else 3
        first = _page(context, 1, pages)
        top = _kpis(first, context, _inch_y(1.25))
        top = _ou_table(first, context, top - 0.3)
        if together:
            top = _trend(first, context, top - 0.25, height=2.4)
            _movers(first, context, top - 0.35)
        pdf.savefig(first)
        if not together:
            page = _page(context, 2, pages)
            top = _trend(page, context, PAGE_H - 1.35, height=3.4)
            _movers(page, context, top - 0.3)
            pdf.savefig(page)
        last = _page(context, pages, pages)
        _budget_chart(last, context, PAGE_H - 1.35)
        pdf.savefig(last)
    return buffer.getvalue()


def _inch_y(from_top: float) -> float:
    return PAGE_H - from_top


def _page(context: dict[str, Any], number: int, pages: int) -> Any:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    figure = Figure(figsize=(PAGE_W, PAGE_H))
    figure.set_facecolor("white")
    day = context["billing_date"]
    figure.patches.append(
        Rectangle(
            (0, 1 - 0.95 / PAGE_H),
            1,
            0.95 / PAGE_H,
            transform=figure.transFigure,
            facecolor=HEADER_BG,
            edgecolor="none",
        )
    )
    _text(figure, MARGIN, 0.3, "EXECUTIVE COST SNAPSHOT", size=8, colour="#d1d5db")
    _text(
        figure,
        MARGIN,
        0.62,
        f"AWS costs for {day.strftime('%A %d %B %Y')}",
        size=16,
        colour="white",
        weight="bold",
    )
    _text(
        figure,
        PAGE_W - MARGIN,
        0.3,
        f"{context['cost_metric']} · UTC billing day",
        size=8,
        colour="#d1d5db",
        ha="right",
    )
    excluded = ", ".join(context["excluded_record_types"]) or "none"
    _text(
        figure,
        MARGIN,
        PAGE_H - 0.42,
        f"Source: AWS Cost Explorer, {context['cost_metric']}, record types excluded: {excluded}.",
        size=6.5,
        colour=MUTED,
    )
    _text(
        figure,
        MARGIN,
        PAGE_H - 0.28,
        f"Figures from {context['archive']['csv']['uri']}",
        size=6.5,
        colour=MUTED,
    )
    _text(
        figure,
        PAGE_W - MARGIN,
        PAGE_H - 0.2,
        f"Page {number} of {pages}",
        size=6.5,
        colour=MUTED,
        ha="right",
    )
    return figure


def _kpis(figure: Any, context: dict[str, Any], top: float) -> float:
    """Four KPI boxes; returns the y (inches from the bottom) below them."""
    from matplotlib.patches import Rectangle

    c = context["currency"]
    totals = context["budget_totals"]
    change = context["change"]
    interval = (
        f"80% range {money(totals['lower'], c)} – {money(totals['upper'], c)}"
        if totals["lower"] is not None
        else "run-rate (no interval)"
    )
    used = totals["budget_used"]
    boxes = [
        (
            "Day total",
            money(context["total"], c),
            f"{signed_money(change['amount'], c)} ({percent(change['pct'])}) vs previous day"
            if change
            else "no previous day",
        ),
        (
            "Month to date",
            money(context["month_to_date"], c),
            f"7-day average {money(context['seven_day_average'], c)}",
        ),
        ("Month-end forecast", money(totals["forecast"], c), interval),
        (
            "Total budget",
            money(totals["budget"], c) if totals["budget"] is not None else "none set",
            f"forecast {percent(used, signed=False)} of budget ({totals['budgeted_ous']} OUs)"
            if used is not None
            else "no OU has a budget",
        ),
    ]
    width = (PAGE_W - 2 * MARGIN - 3 * 0.12) / 4
    height = 0.85
    for n, (label, value, note) in enumerate(boxes):
        x = MARGIN + n * (width + 0.12)
        figure.patches.append(
            Rectangle(
                (x / PAGE_W, (top - height) / PAGE_H),
                width / PAGE_W,
                height / PAGE_H,
                transform=figure.transFigure,
                facecolor=BAND,
                edgecolor=RULE,
                linewidth=0.8,
            )
        )
        _text(figure, x + 0.1, PAGE_H - top + 0.22, label, size=7.5, colour=MUTED)
        _text(figure, x + 0.1, PAGE_H - top + 0.5, value, size=12.5, weight="bold")
        _text(figure, x + 0.1, PAGE_H - top + 0.72, note, size=6.2, colour=MUTED)
    return top - height


COLUMNS = (
    # header, x offset from the margin (inches), alignment
    ("OU", 0.0, "left"),
    ("Month to date", 3.0, "right"),
    ("Month-end forecast", 4.25, "right"),
    ("Budget", 5.35, "right"),
    ("Used", 5.95, "right"),
    ("Status", 6.1, "left"),
)


def _ou_table(figure: Any, context: dict[str, Any], top: float) -> float:
    """Budget vs forecast per OU with the traffic light; returns the y below the table."""
    from matplotlib.patches import Ellipse, Rectangle

    c = context["currency"]
    _text(figure, MARGIN, PAGE_H - top, "Budget vs forecast per OU", size=11, weight="bold")
    row_h = 0.27
    y = top - 0.35  # the centre line of the current row, inches from the bottom
    figure.patches.append(
        Rectangle(
            (MARGIN / PAGE_W, (y - row_h / 2) / PAGE_H),
            (PAGE_W - 2 * MARGIN) / PAGE_W,
            row_h / PAGE_H,
            transform=figure.transFigure,
            facecolor=BAND,
            edgecolor="none",
        )
    )
    for header, x, align in COLUMNS:
        _text(figure, MARGIN + x, PAGE_H - y, header, size=7.5, colour=MUTED, ha=align)
    footnotes = set()
    totals = context["budget_totals"]
    rows = [*context["ou_budgets"], None]
    for row in rows:
        y -= row_h
        if row is None:
            cells = [
                "Organisation",
                money(totals["month_to_date"], c),
                money(totals["forecast"], c),
                money(totals["budget"], c) if totals["budget"] is not None else "",
                percent(totals["budget_used"], signed=False) if totals["budget_used"] else "",
            ]
            weight = "bold"
        else:
            mark = "†" if row["method"] == "run-rate" else ""
            if mark:
                footnotes.add(mark)
            cells = [
                row["ou"],
                money(row["month_to_date"], c),
                money(row["forecast"], c) + mark,
                money(row["budget"], c) if row["budget"] is not None else "—",
                percent(row["budget_used"], signed=False) if row["budget"] is not None else "—",
            ]
            weight = "normal"
        for (_, x, align), cell in zip(COLUMNS, cells, strict=False):
            _text(figure, MARGIN + x, PAGE_H - y, cell, size=8.5, weight=weight, ha=align)
        if row is not None:
            colour = LIGHT_COLOURS.get(row["light"] or "", NO_LIGHT_COLOUR)
            cx = MARGIN + COLUMNS[-1][1] + 0.07
            figure.patches.append(
                Ellipse(
                    (cx / PAGE_W, y / PAGE_H),
                    0.11 / PAGE_W,
                    0.11 / PAGE_H,
                    transform=figure.transFigure,
                    facecolor=colour if row["light"] else "white",
                    edgecolor=colour,
                    linewidth=1,
                )
            )
            _text(
                figure,
                cx + 0.13,
                PAGE_H - y,
                LIGHT_WORDS[row["light"]],
                size=8,
                colour=colour if row["light"] else MUTED,
                weight="bold" if row["light"] == "red" else "normal",
            )
        figure.lines.append(_rule(figure, y - row_h / 2))
    notes = [
        "Status: on track = even the upper end of the 80% forecast interval is within budget;",
        "at risk = the forecast is within budget, but its interval reaches past it; "
        "over budget = the forecast exceeds the budget.",
    ]
    if footnotes:
        notes.append(
            "† run-rate forecast (Cost Explorer could not forecast): 7-day average × days left."
        )
    y -= 0.06
    for note in notes:
        y -= 0.15
        _text(figure, MARGIN, PAGE_H - y, note, size=6.5, colour=MUTED)
    return y - 0.1


def _trend(figure: Any, context: dict[str, Any], top: float, height: float) -> float:
    ax = figure.add_axes(
        (
            (MARGIN + 0.45) / PAGE_W,
            (top - height + 0.55) / PAGE_H,
            (PAGE_W - 2 * MARGIN - 0.5) / PAGE_W,
            (height - 0.8) / PAGE_H,
        )
    )
    charts.draw_trend(ax, context["trend"], context["currency"])
    return top - height


def _movers(figure: Any, context: dict[str, Any], top: float) -> float:
    c = context["currency"]
    _text(
        figure,
        MARGIN,
        PAGE_H - top,
        "Top 5 movers vs previous day (OU / service)",
        size=11,
        weight="bold",
    )
    y = top - 0.3
    headers = (("OU / service", 0.0, "left"), ("Day cost", 5.0, "right"), ("Change", 6.3, "right"),
               ("%", 7.15, "right"))  # fmt: skip
    for header, x, align in headers:
        _text(figure, MARGIN + x, PAGE_H - y, header, size=7.5, colour=MUTED, ha=align)
    for mover in context["top_movers"]:
        y -= 0.34
        if mover.get("account"):
            # The account to ask about it, as people know it (name and id), under the line.
            _text(figure, MARGIN, PAGE_H - y + 0.14, f"mostly {mover['account']}", size=6.5,
                  colour=MUTED)  # fmt: skip
        colour = "#b91c1c" if mover["change"] > 0 else "#15803d"
        cells = (
            f"{mover['ou']} / {mover['service']}",
            money(mover["cost"], c),
            signed_money(mover["change"], c),
            percent(mover["pct"]) if mover["pct"] is not None else "new",
        )
        for (_, x, align), cell, tint in zip(
            headers, cells, (TEXT, TEXT, colour, colour), strict=True
        ):
            _text(figure, MARGIN + x, PAGE_H - y, cell, size=8.5, colour=tint, ha=align)
        figure.lines.append(_rule(figure, y - 0.22))
    if not context["top_movers"]:
        _text(figure, MARGIN, PAGE_H - y - 0.24, "No change from the previous day.", size=8.5)
    return y


def _budget_chart(figure: Any, context: dict[str, Any], top: float) -> None:
    rows = context["ou_budgets"]
    height = min(0.4 + 0.34 * len(rows), PAGE_H - 3.2)
    ax = figure.add_axes(
        (
            (MARGIN + 1.5) / PAGE_W,
            (top - height) / PAGE_H,
            (PAGE_W - 2 * MARGIN - 1.6) / PAGE_W,
            height / PAGE_H,
        )
    )
    charts.draw_budget(ax, rows, context["currency"])
    y = top - height - 1.0  # below the axis labels and the legend
    totals = context["budget_totals"]
    methods = ", ".join(totals["methods"]) or "actuals only (the month is over)"
    notes = [
        "How the month-end forecast is made: month-to-date actuals plus AWS Cost Explorer's "
        "forecast of the rest of the month",
        "(GetCostForecast per OU, same metric and exclusions as the actuals, 80% prediction "
        f"interval). Methods used today: {methods}.",
        "Budgets: monthly, per OU, from the finops_config Variable (and AWS Budgets named "
        "finops-ou-<OU path> when enabled; the configuration wins).",
    ]
    for note in notes:
        _text(figure, MARGIN, PAGE_H - y, note, size=7, colour=MUTED)
        y -= 0.18


def _rule(figure: Any, y: float) -> Any:
    from matplotlib.lines import Line2D

    return Line2D(
        [MARGIN / PAGE_W, 1 - MARGIN / PAGE_W],
        [y / PAGE_H, y / PAGE_H],
        transform=figure.transFigure,
        color=RULE,
        linewidth=0.6,
    )


def _text(
    figure: Any,
    x: float,
    y_from_top: float,
    text: str,
    *,
    size: float,
    colour: str = TEXT,
    weight: str = "normal",
    ha: str = "left",
) -> None:
    """Text at (x inches from the left, y inches from the top of the page)."""
    figure.text(
        x / PAGE_W,
        1 - y_from_top / PAGE_H,
        text,
        fontsize=size,
        color=colour,
        fontweight=weight,
        ha=ha,
        va="center",
        # Amounts carry "$": two of them in one string would otherwise be read as mathtext.
        parse_math=False,
    )
