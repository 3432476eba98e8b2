from datetime import date

import pytest

from finops_digest.detection.status import FeedbackError, classify, parse_feedback

DAY = date(2025, 9, 14)


def spike(ou="Marketing", service="Amazon CloudFront"):
    return {"ou": ou, "service": service, "impact": "2500.00"}


def test_a_first_spike_is_new_and_pages():
    [result] = classify([spike()], DAY, previous=None, feedback=[])
    assert result["status"] == "new" and result["elevated_days"] == 1


def test_a_continuing_spike_is_still_elevated_with_its_day_count_not_realerted():
    yesterday = [{**spike(), "status": "still_elevated", "elevated_days": 2}]
    [result] = classify([spike()], DAY, previous=yesterday, feedback=[])
    assert result["status"] == "still_elevated" and result["elevated_days"] == 3


def test_yesterdays_expected_spike_does_not_make_today_a_continuation():
    yesterday = [{**spike(), "status": "expected", "elevated_days": 1}]
    [result] = classify([spike()], DAY, previous=yesterday, feedback=[])
    assert result["status"] == "new"


def test_feedback_marks_planned_spikes_until_their_date_inclusive():
    feedback = parse_feedback(
        [{"ou": "Marketing", "service": "*", "until": "2025-09-14", "reason": "campaign launch"}],
        "feedback.json",
    )
    [result] = classify([spike()], DAY, previous=None, feedback=feedback)
    assert result["status"] == "expected"
    assert result["expected_reason"] == "campaign launch"
    [later] = classify([spike()], date(2025, 9, 15), previous=None, feedback=feedback)
    assert later["status"] == "new"
    [other_ou] = classify([spike(ou="Sales")], DAY, previous=None, feedback=feedback)
    assert other_ou["status"] == "new"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (b"{not json", "feedback.json: not valid JSON"),
        ({"ou": "x"}, "expected a JSON list"),
        ([{"ou": "x", "until": "2025-09-30"}], "entry 1: missing or non-text service"),
        (
            [{"ou": "x", "service": "*", "until": "30/09/2025"}],
            "until '30/09/2025' is not YYYY-MM-DD",
        ),
    ],
)
def test_malformed_feedback_names_the_file_and_entry(entries, message):
    with pytest.raises(FeedbackError, match=message):
        parse_feedback(entries, "feedback.json")
