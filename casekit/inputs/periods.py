"""Periods as written in case files: months ``YYYY-MM`` and quarters ``YYYY-Qn``."""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd

from ..errors import ArgumentError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.ASCII)
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)


def parse_period(text: str) -> pd.Period:
    """Parse ``YYYY-MM`` (monthly) or ``YYYY-Qn`` (quarterly) into a pandas Period.

    Raises ``ValueError`` with the expected forms when the text is neither.

    Parameters
    ----------
    text : str
        The period as case files write it.

    Returns
    -------
    pandas.Period
        Monthly (``M``) or quarterly (``Q-DEC``).

    Examples
    --------
    >>> parse_period("2020-01"), parse_period("2020-Q3")
    (Period('2020-01', 'M'), Period('2020Q3', 'Q-DEC'))
    """
    return _parse_period(str(text).strip())


@functools.lru_cache(maxsize=4096)
def _parse_period(text: str) -> pd.Period:
    # A case repeats each period once per KPI, and making a pandas Period costs tens of microseconds.
    _check_year(text)
    m = _MONTH.match(text)
    if m and 1 <= int(m.group(2)) <= 12:
        return pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")
    q = _QUARTER.match(text)
    if q:
        return pd.Period(year=int(q.group(1)), quarter=int(q.group(2)), freq="Q")
    if any(c.isdigit() and not c.isascii() for c in text):
        raise ArgumentError(f"expected a month YYYY-MM or a quarter YYYY-Qn in the digits 0-9, got {text!r}, whose "
                            "digits are another script's (such as full-width ２０１７): retype them")
    raise ArgumentError(f"expected a month YYYY-MM or a quarter YYYY-Qn, got {text!r}")


FIRST_YEAR, LAST_YEAR = 1900, 2100


def _check_year(text: str) -> None:
    """Refuse years outside FIRST_YEAR-LAST_YEAR: outside pandas' range they would land on other dates."""
    if text[:4].isascii() and text[:4].isdigit() and text[4:5] == "-" and not FIRST_YEAR <= int(text[:4]) <= LAST_YEAR:
        raise ArgumentError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}, got {text!r}")


def parse_month(text: str) -> pd.Period:
    """Parse a month ``YYYY-MM``; raise ``ValueError`` otherwise.

    Parameters
    ----------
    text : str
        ``YYYY-MM``.

    Returns
    -------
    pandas.Period

    Examples
    --------
    >>> parse_month("2021-07")
    Period('2021-07', 'M')
    """
    period = parse_period(text)
    if period.freqstr != "M":
        raise ArgumentError(f"expected a month YYYY-MM, got {text!r}")
    return period


def parse_date(text: str) -> pd.Timestamp:
    """Parse a calendar date ``YYYY-MM-DD`` or a month ``YYYY-MM`` (its first day).

    Parameters
    ----------
    text : str
        ``YYYY-MM-DD`` or ``YYYY-MM``.

    Returns
    -------
    pandas.Timestamp

    Examples
    --------
    >>> parse_date("2021-07-15"), parse_date("2021-07")
    (Timestamp('2021-07-15 00:00:00'), Timestamp('2021-07-01 00:00:00'))
    """
    text = str(text).strip()
    _check_year(text)
    d = _DAY.match(text)
    if d:
        try:
            return pd.Timestamp(year=int(d.group(1)), month=int(d.group(2)), day=int(d.group(3)))
        except ValueError:
            raise ArgumentError(f"{text!r} is not a real calendar date") from None
    try:
        return parse_month(text).start_time
    except ValueError:
        raise ArgumentError(f"expected a date YYYY-MM-DD or a month YYYY-MM, got {text!r}") from None


def month_span(period: pd.Period) -> tuple[int, int]:
    """First and last month of a period, as months since 1970-01.

    Parameters
    ----------
    period : pandas.Period
        A month or a quarter.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> month_span(parse_period("1970-02")), month_span(parse_period("1970-Q2"))
    ((1, 1), (3, 5))
    """
    if period.freqstr.startswith("Q"):
        return period.ordinal * 3, period.ordinal * 3 + 2
    return period.ordinal, period.ordinal


def phases(first_months, last_months, start_months, transition_months) -> np.ndarray:
    """Which side of the adoption each period falls on (vectorized :func:`phase_of`).

    Periods are given by their first and last month and the adoption by its
    month, all as months since 1970-01 (see :func:`month_span`); the start and
    transition may be one value or one per period.

    Parameters
    ----------
    first_months, last_months : array of int
        Each period's first and last month (months since 1970-01).
    start_months : int or array of int
        The adoption's month.
    transition_months : int or array of int
        The months of transition after it.

    Returns
    -------
    numpy.ndarray of str
        ``before``, ``transition`` or ``after`` for each period.

    Examples
    --------
    >>> phases([0, 5, 9], [0, 5, 9], 5, 3).tolist()
    ['before', 'transition', 'after']
    """
    first, last = np.asarray(first_months), np.asarray(last_months)
    start = np.asarray(start_months)
    return np.select(
        [first >= start + np.asarray(transition_months), last < start],
        ["after", "before"],
        "transition",
    )


def phase_of(period: pd.Period, start: pd.Period, transition_months: int) -> str:
    """Which side of the adoption a period falls on.

    ``"before"`` when the period ends before the adoption month ``start``;
    ``"after"`` when it begins at least ``transition_months`` after ``start``;
    ``"transition"`` otherwise (including a quarter that straddles the start).

    Parameters
    ----------
    period : pandas.Period
        A month or a quarter.
    start : pandas.Period
        The adoption's month.
    transition_months : int
        The months of transition after it.

    Returns
    -------
    str

    Examples
    --------
    >>> phase_of(parse_period("2020-Q1"), parse_month("2020-02"), 6)
    'transition'
    """
    first, last = month_span(period)
    return str(phases([first], [last], start.ordinal, transition_months)[0])


def phases_of(periods, start: pd.Period, transition_months: int) -> np.ndarray:
    """:func:`phase_of` for many periods at once (Periods, or text as :func:`parse_period` reads it).

    Parameters
    ----------
    periods : sequence of pandas.Period or str
        The periods.
    start : pandas.Period
        The adoption's month.
    transition_months : int
        The months of transition after it.

    Returns
    -------
    numpy.ndarray of str

    Examples
    --------
    >>> phases_of(["2019-12", "2020-03", "2020-12"], parse_month("2020-02"), 6).tolist()
    ['before', 'transition', 'after']
    """
    spans = {p: month_span(p if isinstance(p, pd.Period) else parse_period(p)) for p in set(periods)}
    first, last = np.array([spans[p] for p in periods], dtype="int64").reshape(-1, 2).T
    return phases(first, last, start.ordinal, transition_months)


def month_starts(first_months) -> np.ndarray:
    """The first day of each month given as months since 1970-01.

    Parameters
    ----------
    first_months : array of int
        Months since 1970-01.

    Returns
    -------
    numpy.ndarray of datetime64

    Examples
    --------
    >>> [str(d)[:10] for d in month_starts([0, 13])]
    ['1970-01-01', '1971-02-01']
    """
    return (np.datetime64("1970-01", "M") + np.asarray(first_months, dtype="int64")).astype("datetime64[ns]")


def format_period(period: pd.Period) -> str:
    """Write a Period as case files do: ``YYYY-MM`` or ``YYYY-Qn``.

    Parameters
    ----------
    period : pandas.Period
        A month or a quarter.

    Returns
    -------
    str

    Examples
    --------
    >>> format_period(parse_period("2020-03")), format_period(parse_period("2020-Q4"))
    ('2020-03', '2020-Q4')
    """
    if period.freqstr.startswith("Q"):
        return f"{period.year}-Q{period.quarter}"
    return f"{period.year}-{period.month:02d}"


MAX_HARMONICS = 6  # pairs of yearly Fourier terms; 6 on monthly data is as many as month dummies
SEASONALITY_CHOICES = (f"none, a number of harmonic pairs from 1 to {MAX_HARMONICS} (2 is usual for monthly data), "
                       "or months")


def seasonality_setting(value):
    """A yearly-seasonality setting as a case file or report parameter writes it, made canonical.

    ``none`` (or None) is 0, a whole number 0 to :data:`MAX_HARMONICS` that many harmonic pairs, ``months`` a
    dummy per month (or quarter) but the first. Raises ArgumentError for anything else.

    Parameters
    ----------
    value : str, int or None
        The setting as written.

    Returns
    -------
    int or "months"

    Examples
    --------
    >>> [seasonality_setting(v) for v in ("none", None, 2, "months")]
    [0, 0, 2, 'months']
    """
    if value is None or (isinstance(value, str) and value == "none"):
        return 0
    if isinstance(value, str) and value == "months":
        return "months"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value <= MAX_HARMONICS:
        return int(value)
    raise ArgumentError(f"expected {SEASONALITY_CHOICES}, got {value!r}")


# The forms a period takes in spreadsheets, read by `casekit import` and recognised by validation's hints.
MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}
ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)
QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*Q([1-4])$|^Q([1-4])\s*[-/ ]?\s*(\d{4})$", re.IGNORECASE | re.ASCII)
MONTH_YEAR = re.compile(r"^(\d{1,2})[/.\-](\d{4})$", re.ASCII)
YEAR_MONTH = re.compile(r"^(\d{4})[/.](\d{1,2})$", re.ASCII)
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$", re.ASCII)
NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$", re.ASCII)
NAMED_MONTH = re.compile(r"^([A-Za-z]{3,9})\.?[\s\-/]*(\d{4})$|^(\d{4})[\s\-/]*([A-Za-z]{3,9})\.?$", re.ASCII)


def read_period_text(text: str, dayfirst: bool | None = None) -> tuple[str, str] | None:
    """A period as spreadsheets write it, read as ``(period, form)``: the period as case files write it
    (``YYYY-MM`` or ``YYYY-Qn``) and the form's name; None when ``text`` is none of the forms, or is a date that
    reads two ways (``01/02/2020``) and ``dayfirst`` does not say which. The one reader of these forms:
    ``casekit import`` converts with it, and validation's hints recognise with it.

    Parameters
    ----------
    text : str
        The cell's text.
    dayfirst : bool, optional
        How to read a date whose day and month could be swapped.

    Returns
    -------
    tuple of (str, str) or None

    Examples
    --------
    >>> read_period_text("Mar 2020"), read_period_text("2020 Q2"), read_period_text("15/01/2020")
    (('2020-03', 'month names'), ('2020-Q2', 'quarters such as Q1 2020'), ('2020-01', 'dates DD/MM/YYYY'))
    >>> read_period_text("01/02/2020") is None, read_period_text("01/02/2020", dayfirst=True)
    (True, ('2020-02', 'dates DD/MM/YYYY'))
    """
    if (m := ISO_MONTH.match(text)) and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}", "YYYY-MM" if len(m.group(2)) == 2 else "YYYY-M"
    if m := QUARTER.match(text):
        year, quarter = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        return f"{year}-Q{quarter}", "YYYY-Qn" if re.fullmatch(r"\d{4}-Q[1-4]", text) else "quarters such as Q1 2020"
    if (m := MONTH_YEAR.match(text)) and 1 <= int(m.group(1)) <= 12:
        return f"{m.group(2)}-{int(m.group(1)):02d}", "MM/YYYY"
    if (m := YEAR_MONTH.match(text)) and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}", "YYYY/MM"
    if (m := ISO_DATE.match(text)) and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}", "dates YYYY-MM-DD"
    if m := NUMERIC_DATE.match(text):
        first, second = int(m.group(1)), int(m.group(2))
        if dayfirst is None:
            if first <= 12 and second <= 12 and first != second:
                return None
            dayfirst = first > 12 or first == second
        day, month = (first, second) if dayfirst else (second, first)
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{m.group(3)}-{month:02d}", "dates DD/MM/YYYY" if dayfirst else "dates MM/DD/YYYY"
        return None
    if m := NAMED_MONTH.match(text):
        name, year = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        if name.lower() in MONTHS:
            return f"{year}-{MONTHS[name.lower()]:02d}", "month names"
    return None
