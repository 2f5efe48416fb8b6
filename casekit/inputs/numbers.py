"""Numbers as spreadsheets write them (68.9%, 1,012.5, 1.012,5, 12,5, 1 012): the one reader of these forms.

``casekit import`` converts values with it, and validation's hints recognise with it what a value in
``kpis.csv`` that is not a plain number was meant to be, so the two never disagree on a form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THOUSANDS_POINT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")    # 1.012,5  1.012.000
THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")    # 1,012.5  1,012,000
DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_GROUPING = re.compile(r"(?<=\d)[\s\u00a0\u202f'’](?=\d)")


@dataclass(frozen=True)
class NumberText:
    """A number read from text, and what was taken away to read it."""

    value: float
    percent: bool = False       # a trailing % sign
    grouped: bool = False       # thousands separators (, . space or apostrophe)
    decimal_comma: bool = False


def squeeze(text: str) -> str:
    """Text without the spaces, no-break spaces and apostrophes that group digits (1 012, 1'012).

    Parameters
    ----------
    text : str
        A cell's text.

    Returns
    -------
    str
        Stripped, with the digit-grouping characters removed.

    Examples
    --------
    >>> squeeze(" 1 012,5 "), squeeze("1'000'000"), squeeze("12 %")
    ('1012,5', '1000000', '12 %')
    """
    return _GROUPING.sub("", text.strip())


def decimal_mark(texts: list[str]) -> str | None:
    """``"."`` or ``","``, whichever the values use as their decimal mark; None when they read both ways.

    Parameters
    ----------
    texts : list of str
        The values' texts, squeezed (:func:`squeeze`), without a percent sign.

    Returns
    -------
    str or None
        None for values such as ``1,012`` alone: a thousands separator or a decimal comma.

    Examples
    --------
    >>> decimal_mark(["1.012,5", "3"]), decimal_mark(["12,5"]), decimal_mark(["1,012", "3.5"]), decimal_mark(["1,012"])
    (',', ',', '.', None)
    """
    if any(THOUSANDS_POINT.match(t) and "," in t or t.count(".") > 1 for t in texts):
        return ","
    if any(THOUSANDS_COMMA.match(t) and "." in t or t.count(",") > 1 for t in texts):
        return "."
    with_comma = [t for t in texts if "," in t]
    if not with_comma:
        return "."
    if any(DECIMAL_COMMA.match(t) and not THOUSANDS_COMMA.match(t) for t in with_comma):
        return ","  # 12,5 or 3,14: no thousands separator has other than three digits after it
    if any(PLAIN.match(t) and "." in t for t in texts):
        return "."  # 1,012 beside 3.5: the point is the decimal mark
    return None


def read_number_text(text: str, mark: str = ".") -> NumberText | None:
    """A value as a spreadsheet writes it, read with the decimal ``mark``; None when it is no number in these forms.

    Parameters
    ----------
    text : str
        The cell's text.
    mark : {".", ","}, default "."
        The decimal mark (:func:`decimal_mark` tells it from a column's values); the other is a
        thousands separator.

    Returns
    -------
    NumberText or None
        The number, and whether a percent sign, thousands separators or a decimal comma were read.

    Examples
    --------
    >>> read_number_text("68,9%", ",")
    NumberText(value=68.9, percent=True, grouped=False, decimal_comma=True)
    >>> read_number_text("1 012.5").value, read_number_text("1 012.5").grouped
    (1012.5, True)
    >>> read_number_text("twelve") is None, read_number_text("1_000") is None
    (True, True)
    """
    squeezed = squeeze(text)
    number, percent = squeezed, squeezed.endswith("%")
    if percent:
        number = number[:-1].strip()
    grouped = squeezed != text.strip()
    decimal_comma = False
    if mark == ",":
        grouped |= "." in number
        decimal_comma = "," in number
        number = number.replace(".", "").replace(",", ".")
    else:
        grouped |= "," in number
        number = number.replace(",", "")
    if not PLAIN.match(number):
        return None
    return NumberText(float(number), percent, grouped, decimal_comma)
