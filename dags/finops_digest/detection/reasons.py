"""Why a finding is unusual: one plain sentence of the costs it was judged against.

"$2,400.00 on the 1st; the last two 1sts were $1,100.00 and $1,090.00". Money is written the way
the emails write it (``report.emails.money``), in the configured currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from finops_digest.report.emails import money

COUNTS = {1: "one", 2: "two", 3: "three", 4: "four"}


def against_past(
    actual: float,
    when: str,
    plural: str,
    past: Sequence[float],
    currency: str,
    notes: Sequence[str] = (),
) -> str:
    """``"$X on <when>; the last three <plural> were $A, $B and $C"``, then any notes."""
    text = f"{money(actual, currency)} on {when}"
    if past:
        amounts = [money(v, currency) for v in past]
        listed = (
            amounts[0] if len(amounts) == 1 else ", ".join(amounts[:-1]) + " and " + amounts[-1]
        )
        if len(past) == 1:
            text += f"; the last {plural.removesuffix('s')} was {listed}"
        else:
            text += f"; the last {COUNTS.get(len(past), len(past))} {plural} were {listed}"
    return "; ".join([text, *notes])


def new_service(actual: float, days: int, currency: str) -> str:
    """A series with no cost before."""
    return f"{money(actual, currency)}; no cost at all in the {days} days before"


def above_largest(actual: float, largest: float, what: str, currency: str) -> str:
    """A young or batch service above the largest day it has had."""
    return f"{money(actual, currency)}; {what} was {money(largest, currency)}"


def ramp(actual: float, before: float, currency: str) -> str:
    """A rise that has not paused for two weeks."""
    return (
        f"{money(actual, currency)}; rising without a pause for two weeks, "
        f"from about {money(before, currency)} a day"
    )


def yesterday(value: float, currency: str) -> str:
    """The note of a step: it was high the day before too."""
    return f"{money(value, currency)} yesterday"


def still_elevated(actual: float, expected: float, began: date, currency: str) -> str:
    """A rise that alerted before and has not come down."""
    return (
        f"{money(actual, currency)}; still above the {money(expected, currency)} expected "
        f"before it rose on {began.day} {began:%B}"
    )
