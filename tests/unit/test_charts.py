"""The charts render as PNG and as vector pages, whatever the OU names and amounts."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from finops_digest.report.charts import budget_png, short_money, trend_png

PNG = b"\x89PNG\r\n\x1a\n"


def test_trend_and_budget_charts_are_png_at_twice_the_email_width():
    from PIL import Image

    days = [date(2025, 9, 14) - timedelta(days=n) for n in range(29, -1, -1)]
    trend = {
        "days": days,
        "series": [{"ou": "Cost $ and $ more", "costs": [Decimal(i) for i in range(30)]}],
    }
    image = trend_png(trend, "USD")
    assert image.startswith(PNG)
    assert Image.open(io.BytesIO(image)).size[0] == 1264
    rows = [
        {
            "ou": "A",
            "month_to_date": Decimal("5"),
            "forecast": Decimal("10"),
            "lower": Decimal("9"),
            "upper": Decimal("11"),
            "budget": Decimal("12"),
            "budget_used": 10 / 12,
            "light": "amber",
        },
        {
            "ou": "No budget",
            "month_to_date": Decimal("0"),
            "forecast": Decimal("0"),
            "lower": None,
            "upper": None,
            "budget": None,
            "budget_used": None,
            "light": None,
        },
    ]
    assert budget_png(rows, "EUR").startswith(PNG)
    assert trend_png(trend, "USD") == image  # no timestamps: same figures, same bytes


def test_axis_money_is_short():
    assert short_money(1_250_000, "USD") == "$1.2M"
    assert short_money(45_000, "EUR") == "€45k"
    assert short_money(-900, "CHF") == "-CHF 900"
