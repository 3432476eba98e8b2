"""Money: one rounding rule for every amount the pipeline rounds, stores or shows."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

# Totals from different systems must agree to the cent; amounts are shown and stored in cents.
CENT = Decimal("0.01")

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def cents(value: Decimal | float | str) -> Decimal:
    """``value`` rounded to the cent, half up (what finance expects: 0.005 -> 0.01)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal | float | str | None, currency: str = "USD") -> str:
    """``$12,345.67``: symbol, thousands separators, 2 decimals, rounded half up; minus in front."""
    if value is None:
        return "n/a"
    amount = cents(value)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    return f"{'-' if amount < 0 else ''}{symbol}{abs(amount):,.2f}"


def signed_money(value: Decimal | float | str | None, currency: str = "USD") -> str:
    """``+$1,234.50`` / ``-$12.00``: a change, always with its sign."""
    if value is None:
        return "n/a"
    text = money(value, currency)
    return text if text.startswith("-") else "+" + text


def percent(value: float | None, signed: bool = True) -> str:
    """``+12.3%``; ``n/a`` when there is nothing to compare with."""
    if value is None:
        return "n/a"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def apportion(total: Decimal | str, shares: list[float]) -> list[Decimal]:
    """``total``'s parts by ``shares`` (fractions of it), in cents that add up exactly to
    ``total`` times the shares' sum, rounded (largest remainders get the spare cents): the parts
    shown beside a total agree with it to the cent, and a single part at 100% is the total."""
    total_cents = int(cents(total) / CENT)
    raw = [total_cents * share for share in shares]
    parts = [int(r // 1) for r in raw]
    spare = round(total_cents * sum(shares)) - sum(parts)
    by_remainder = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in by_remainder[: max(0, spare)]:
        parts[i] += 1
    return [Decimal(p) * CENT for p in parts]


def round_to_total(values: list[Decimal], total: Decimal) -> list[Decimal]:
    """``values`` in cents that add up exactly to ``total`` (in cents): each rounded down, then
    the spare cents to the largest remainders (ties: the earlier value). Every part stays within
    a cent of its value, so lines listed under a total (a chargeback file) add up to it.

    ``total`` must lie between the sum of the values rounded down and that sum plus a cent per
    value (``cents(sum(values))`` always does)."""
    floors = [v.quantize(CENT, rounding=ROUND_FLOOR) for v in values]
    spare = int((cents(total) - sum(floors, Decimal(0))) / CENT)
    if not 0 <= spare <= len(values):
        raise ValueError(
            f"a total of {total} cannot be spread over {len(values)} values summing to "
            f"{sum(values, Decimal(0))} with each within a cent"
        )
    by_remainder = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), i))
    for i in by_remainder[:spare]:
        floors[i] += CENT
    return floors
