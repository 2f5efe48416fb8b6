import pandas as pd
import pytest

from casekit.inputs.periods import format_period, parse_date, parse_period, phase_of, phases_of


@pytest.mark.parametrize("text", ["2020-01", "2020-12", "2020-Q1", "2020-Q4"])
def test_round_trip(text):
    assert format_period(parse_period(text)) == text


@pytest.mark.parametrize("text", ["2020-00", "2020-13", "2020-Q0", "2020-Q5", "2020Q1", "20-01", "2020-1", "", "2020-01-01"])
def test_bad_periods(text):
    with pytest.raises(ValueError, match="YYYY-MM or a quarter YYYY-Qn"):
        parse_period(text)


def test_each_period_text_is_parsed_once():
    # a case repeats each period once per KPI; a pandas Period is slow to make
    assert parse_period("2021-07") is parse_period(" 2021-07")


def test_dates():
    assert parse_date("2020-02-29") == pd.Timestamp("2020-02-29")
    assert parse_date("2020-02") == pd.Timestamp("2020-02-01")
    with pytest.raises(ValueError, match="not a real calendar date"):
        parse_date("2021-02-29")


def test_phases_with_transition():
    start = parse_period("2020-03")
    assert phase_of(parse_period("2020-02"), start, 3) == "before"
    assert phase_of(parse_period("2020-03"), start, 3) == "transition"
    assert phase_of(parse_period("2020-05"), start, 3) == "transition"
    assert phase_of(parse_period("2020-06"), start, 3) == "after"
    assert phase_of(parse_period("2020-03"), start, 0) == "after"
    # a quarter holding the start month straddles it
    assert phase_of(parse_period("2020-Q1"), start, 0) == "transition"
    assert phase_of(parse_period("2019-Q4"), start, 0) == "before"


def test_phases_of_many_periods_agrees_with_phase_of():
    start = parse_period("2020-03")
    texts = [f"{year}-{month:02d}" for year in (2019, 2020, 2021) for month in range(1, 13)]
    texts += [f"{year}-Q{quarter}" for year in (2019, 2020, 2021) for quarter in range(1, 5)]
    for months in (0, 3, 7):
        expected = [phase_of(parse_period(text), start, months) for text in texts]
        assert list(phases_of(texts, start, months)) == expected
        assert list(phases_of([parse_period(text) for text in texts], start, months)) == expected
    assert list(phases_of(["2020-05", "2020-01", "2020-05"], start, 0)) == ["after", "before", "after"]
