"""The KPI catalog: the measures CMMI case studies report, with direction and category.

The categories are the six of the SEI's performance-results reports (Gibson,
Goldenson & Kost 2006, CMU/SEI-2006-TR-004).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import pandas as pd

CATEGORIES = (
    "cost",
    "schedule",
    "productivity",
    "quality",
    "customer satisfaction",
    "return on investment",
)
DIRECTIONS = ("higher", "lower")
SCALES = ("ratio", "interval", "count")
# the scales whose changes are relative: reported in percent, compared as log ratios (of levels or of rates)
RELATIVE = ("ratio", "count")
COLUMNS = ["kpi", "label", "unit", "better", "category", "scale", "min", "max", "description"]


@lru_cache(maxsize=1)
def _catalog() -> pd.DataFrame:
    with resources.files(__package__).joinpath("catalog_data/kpis.csv").open(encoding="utf-8") as f:
        table = pd.read_csv(f, dtype={"min": float, "max": float})
    return table[COLUMNS]


def kpi_catalog() -> pd.DataFrame:
    """Return casekit's KPI catalog as a tidy table, one row per KPI.

    Returns
    -------
    pandas.DataFrame
        Columns: ``kpi`` (identifier used in ``kpis.csv``), ``label``, ``unit``,
        ``better`` (``"higher"`` or ``"lower"``: the direction of improvement),
        ``category`` (one of the SEI categories), ``scale`` (``"ratio"``: changes
        are reported in percent; ``"interval"``: values can be zero or negative,
        so changes are reported as differences; ``"count"``: whole numbers of
        events, zeros included, fitted by a count model and reported in percent),
        ``min`` and ``max`` (the
        plausible range; NaN where open) and ``description``.

    Examples
    --------
    >>> from casekit import kpi_catalog
    >>> cat = kpi_catalog().set_index("kpi")
    >>> cat.loc["defect_density", ["better", "category"]].tolist()
    ['lower', 'quality']
    >>> sorted(cat["category"].unique())  # doctest: +NORMALIZE_WHITESPACE
    ['cost', 'customer satisfaction', 'productivity', 'quality',
     'return on investment', 'schedule']
    """
    return _catalog().copy()


def normalise(name) -> str:
    """A KPI or column name as casekit compares them: lower case, runs of other characters as one underscore.

    Parameters
    ----------
    name : object
        The name (anything ``str()`` takes).

    Returns
    -------
    str

    Examples
    --------
    >>> normalise(" On-time delivery "), normalise("KPI")
    ('on_time_delivery', 'kpi')
    """
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def kpi_names(ids, labels) -> dict[str, str]:
    """Each KPI's id and label, both passed through :func:`normalise`, mapped to its id (an id wins over another
    KPI's label).

    Parameters
    ----------
    ids, labels : iterable of str
        The KPIs' ids and labels, in the same order.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> kpi_names(["on_time_delivery"], ["On-time delivery"])["on_time_delivery"]
    'on_time_delivery'
    """
    names = {normalise(label): kpi for kpi, label in zip(ids, labels)}
    names.update({normalise(kpi): kpi for kpi in ids})
    return names


# The catalog's absolute deviations and the signed KPIs beside them, for a negative value given to the former.
SIGNED_TWINS = {"cost_variance": "cost_overrun", "schedule_variance": "schedule_overrun"}


def signed_hint(kpi: str) -> str:
    """What to do with a negative value of an absolute-deviation KPI ("" for other KPIs): validation and import
    say the same.

    Parameters
    ----------
    kpi : str
        The KPI's id.

    Returns
    -------
    str

    Examples
    --------
    >>> signed_hint("cost_variance")[:52]
    'cost_variance is an absolute deviation, never negati'
    >>> signed_hint("cycle_time")
    ''
    """
    if kpi not in SIGNED_TWINS:
        return ""
    below = "under budget" if kpi == "cost_variance" else "early"
    return (f"{kpi} is an absolute deviation, never negative; signed values (negative: {below}) are "
            f"{SIGNED_TWINS[kpi]}'s, on an interval scale (if your negative means over budget or late, as earned "
            "value's variances do, flip the sign first)")


def practice_area_names() -> dict[str, str]:
    """The names of CMMI's practice areas (V2.0 and V3.0) and process areas (V1.3), by abbreviation.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> names = practice_area_names()
    >>> names["MPM"], names["DAR"]
    ('Managing Performance and Measurement', 'Decision Analysis and Resolution')
    """
    with resources.files(__package__).joinpath("catalog_data/practice_areas.csv").open(encoding="utf-8") as f:
        table = pd.read_csv(f)
    return dict(zip(table["practice_area"], table["name"]))


def in_range(value: float, info) -> bool:
    """Whether ``value`` lies within a KPI's ``min`` and ``max`` (a missing bound does not bound it): the one
    range rule validation and import apply.

    Parameters
    ----------
    value : float
        The value.
    info : mapping
        The KPI's catalog row (``min``, ``max``; NaN for no bound).

    Returns
    -------
    bool

    Examples
    --------
    >>> in_range(-4, {"min": 0, "max": float("nan")}), in_range(40, {"min": 0, "max": 100})
    (False, True)
    """
    return not (value < info["min"] or value > info["max"])  # NaN bounds compare False


def range_text(info) -> str:
    """A KPI's range as messages write it: ``[0, 100] % of releases``.

    Parameters
    ----------
    info : mapping
        The KPI's catalog row (``min``, ``max``, ``unit``).

    Returns
    -------
    str

    Examples
    --------
    >>> range_text({"min": 0, "max": float("nan"), "unit": "days"})
    '[0, inf] days'
    """
    low = "-inf" if pd.isna(info["min"]) else f"{info['min']:g}"
    high = "inf" if pd.isna(info["max"]) else f"{info['max']:g}"
    return f"[{low}, {high}] {info['unit']}"
