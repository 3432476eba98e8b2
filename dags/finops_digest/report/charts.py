"""The digest's and the snapshot's charts, drawn with matplotlib (Agg, no display, no JavaScript).

Each chart has a ``draw_*`` function onto a matplotlib Axes (the PDF draws vector charts on its
page) and a ``*_png`` function for the email's inline images. matplotlib is imported inside the
functions: the DAG file must parse without it.
"""

from __future__ import annotations

import io
from typing import Any

from finops_digest.budgets.lights import LIGHT_COLOURS, NO_LIGHT_COLOUR
from finops_digest.money import CURRENCY_SYMBOLS

# Qualitative colours that stay apart in print and for common colour-vision deficiencies
# (Okabe-Ito order), then greys for the tail.
SERIES_COLOURS = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#999999",
)
TEXT, MUTED, GRID = "#111827", "#6b7280", "#e5e7eb"
# Emails show the images 632 px wide; rendered at twice that, they stay sharp on HiDPI screens.
EMAIL_WIDTH_PX = 632
PNG_SCALE = 2


def digest_images(context: dict[str, Any], currency: str) -> list[tuple[str, bytes]]:
    """The digest's inline images, ``(content id, PNG)``: the trend, and the budgets when any
    OU has a forecast row; ``context["images"]`` is set to what the template shows."""
    images = [("trend@finops-digest", trend_png(context["trend"], currency))]
    if context["ou_budgets"]:
        images.append(("budget@finops-digest", budget_png(context["ou_budgets"], currency)))
    context["images"] = {cid.split("@", 1)[0]: cid for cid, _ in images}
    return images


def trend_png(trend: dict[str, Any], currency: str) -> bytes:
    """The 30-day stacked daily cost by OU, as PNG."""
    figure = _figure(EMAIL_WIDTH_PX, 300)
    draw_trend(figure.add_subplot(), trend, currency)
    return _png(figure)


def budget_png(rows: list[dict[str, Any]], currency: str) -> bytes:
    """Month-to-date, month-end forecast (with its 80% interval) and budget per OU, as PNG."""
    figure = _figure(EMAIL_WIDTH_PX, 100 + 30 * max(len(rows), 1))
    draw_budget(figure.add_subplot(), rows, currency)
    return _png(figure)


def draw_trend(ax: Any, trend: dict[str, Any], currency: str) -> None:
    """Stacked bars: one per day, one colour per OU, largest OU at the bottom."""
    days = trend["days"]
    positions = list(range(len(days)))
    bottom = [0.0] * len(days)
    for n, series in enumerate(trend["series"]):
        values = [float(v) for v in series["costs"]]
        ax.bar(
            positions,
            values,
            bottom=bottom,
            width=0.8,
            color=SERIES_COLOURS[n % len(SERIES_COLOURS)],
            label=series["ou"].replace("$", r"\$"),  # a "$" would start mathtext
            linewidth=0,
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    # One tick a week, on the billing day's weekday, so the last bar is always labelled.
    ticks = [i for i in positions if (len(days) - 1 - i) % 7 == 0]
    ax.set_xticks(ticks, [days[i].strftime("%a %d %b") for i in ticks])
    ax.set_xlim(-0.6, len(days) - 0.4)
    _money_grid(ax, "y", currency, "Daily cost by OU, last 30 days")
    if not trend["series"]:
        ax.text(0.5, 0.5, "No costs in the last 30 days", transform=ax.transAxes, ha="center")
        return
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=min(4, max(len(trend["series"]), 1)),
        frameon=False,
        fontsize=7.5,
        handlelength=1,
        columnspacing=1.2,
    )


def draw_budget(ax: Any, rows: list[dict[str, Any]], currency: str) -> None:
    """Horizontal bars per OU: month to date (solid) inside the month-end forecast (light), the
    80% interval as a whisker, the budget as a black tick; coloured by the OU's traffic light."""
    rows = list(reversed(rows))  # barh draws bottom-up; the first row belongs on top
    labels = [r["ou"] for r in rows]
    positions = list(range(len(rows)))
    peak = max(
        [float(r["upper"] or r["forecast"]) for r in rows]
        + [float(r["budget"]) for r in rows if r["budget"] is not None]
        + [1.0]
    )
    for y, row in zip(positions, rows, strict=True):
        colour = LIGHT_COLOURS.get(row["light"] or "", NO_LIGHT_COLOUR)
        forecast, mtd = float(row["forecast"]), float(row["month_to_date"])
        ax.barh(y, forecast, height=0.62, color=colour, alpha=0.3, linewidth=0)
        ax.barh(y, mtd, height=0.62, color=colour, linewidth=0)
        if row["lower"] is not None and row["upper"] is not None and row["upper"] != row["lower"]:
            ax.plot([float(row["lower"]), float(row["upper"])], [y, y], color=TEXT, linewidth=1)
        if row["budget"] is not None:
            ax.plot([float(row["budget"])] * 2, [y - 0.42, y + 0.42], color=TEXT, linewidth=2.2)
            label = f"{float(row['budget_used']) * 100:.1f}% of budget"
        else:
            label = "no budget"
        ax.text(peak * 1.02, y, label, va="center", fontsize=7.5, color=MUTED)
    ax.set_yticks(positions, labels, fontsize=8, parse_math=False)
    ax.set_xlim(0, peak * 1.28)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    _money_grid(ax, "x", currency, "Month-end forecast vs budget per OU")
    _budget_legend(ax)


def _budget_legend(ax: Any) -> None:
    """What the marks mean, in grey so it reads as a key, not as one more OU."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Patch(color=NO_LIGHT_COLOUR, label="Month to date"),
        Patch(color=NO_LIGHT_COLOUR, alpha=0.3, label="Rest of month (forecast)"),
        Line2D([], [], color=TEXT, linewidth=1, label="80% interval"),
        Line2D([], [], color=TEXT, linewidth=2.2, marker="|", markersize=9, linestyle="none",
               label="Budget"),
    ]  # fmt: skip
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.09),
        ncol=4,
        frameon=False,
        fontsize=7.5,
        handlelength=1.4,
    )


def short_money(value: float, currency: str) -> str:
    """Axis labels: ``$1.2M``, ``$45k``, ``$900``."""
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    size = abs(value)
    if size >= 1_000_000:
        text = f"{size / 1_000_000:.1f}M"
    elif size >= 1_000:
        text = f"{size / 1_000:.0f}k"
    else:
        text = f"{size:.0f}"
    return f"{'-' if value < 0 else ''}{symbol}{text}"


def _money_axis(axis: Any, currency: str) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=5))
    axis.set_major_formatter(FuncFormatter(lambda value, _: short_money(value, currency)))


def _money_grid(ax: Any, axis: str, currency: str, title: str) -> None:
    """Money ticks and grid lines along ``axis`` ("x" or "y"), the plain frame, the title."""
    _money_axis(ax.xaxis if axis == "x" else ax.yaxis, currency)
    ax.grid(axis=axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    _plain(ax)
    ax.set_title(title, loc="left", fontsize=9.5, color=TEXT)


def _plain(ax: Any) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(GRID)
    ax.tick_params(colors=MUTED, labelsize=7.5, length=0)
    for label in ax.get_yticklabels():
        label.set_color(TEXT)


def _figure(width_px: int, height_px: int) -> Any:
    """A figure without pyplot (no global state: safe in any worker thread)."""
    from matplotlib.figure import Figure

    dpi = 100 * PNG_SCALE
    figure = Figure(figsize=(width_px / 100, height_px / 100), dpi=dpi, layout="constrained")
    figure.set_facecolor("white")
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    # No Software/date text chunks: the same figures give the same bytes.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
