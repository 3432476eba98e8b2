"""Budget traffic lights: where an OU's month-end forecast stands against its monthly budget."""

from __future__ import annotations

from decimal import Decimal

GREEN, AMBER, RED = "green", "amber", "red"
# One colour per light, shared by the email, the charts and the PDF (so "red" looks the same).
LIGHT_COLOURS = {GREEN: "#15803d", AMBER: "#d97706", RED: "#b91c1c"}
NO_LIGHT_COLOUR = "#9ca3af"
# Words beside each light (a colour alone is lost on colour-blind readers and in plain text).
LIGHT_WORDS = {GREEN: "On track", AMBER: "At risk", RED: "Over budget", None: "No budget"}


def traffic_light(budget: Decimal | None, forecast: Decimal, upper: Decimal | None) -> str | None:
    """``green`` when even the upper bound of the 80% interval is within budget, ``red`` when the
    forecast itself exceeds it, ``amber`` in between; ``None`` for an OU without a budget.

    Without an interval (a run-rate forecast) the forecast stands in for the upper bound, so such an
    OU is green or red, never amber. Landing exactly on the budget is within budget.
    """
    if budget is None:
        return None
    ceiling = forecast if upper is None else max(upper, forecast)
    if forecast > budget:
        return RED
    if ceiling <= budget:
        return GREEN
    return AMBER
