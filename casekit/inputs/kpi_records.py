"""A case's kpis.csv rows held as columns: a portfolio of 10,000 cases holds a million of them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .periods import month_span


class KpiRecords(Sequence):
    """kpis.csv's valid rows: ``period`` (pandas Periods), ``kpi``, ``value`` and ``line`` columns.

    ``spans``, when the reader has them, are :meth:`month_spans`.

    Indexing or iterating gives each row as a dict, ``{"period", "kpi", "value", "line"}``; the
    checks and tables that go over every row read the columns instead, so that no per-row object is
    made. Rows with the same period text share one Period object, so that each distinct period is
    measured once (:meth:`month_spans`).

    Examples
    --------
    >>> from casekit.inputs.kpi_records import KpiRecords
    >>> from casekit.inputs.periods import parse_period
    >>> rows = KpiRecords([parse_period("2020-01")], ["defect_density"], [4.2], [2])
    >>> len(rows), rows[0]["value"], rows.kpi
    (1, 4.2, ['defect_density'])
    """

    def __init__(self, period=(), kpi=(), value=(), line=(), spans=None):
        self.period, self.kpi = list(period), list(kpi)
        self.value = np.asarray(value, dtype=float)
        self.line = np.asarray(line, dtype=np.int64)
        self._spans = None if spans is None else np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        if not len(self.period) == len(self.kpi) == len(self.value) == len(self.line):
            raise ValueError("every column of KpiRecords needs one value per row")

    @classmethod
    def from_rows(cls, rows) -> KpiRecords:
        """From dicts with ``period, kpi, value, line``.

        Parameters
        ----------
        rows : iterable of dict
            ``{"period": pandas.Period, "kpi": str, "value": float, "line": int}``.

        Returns
        -------
        KpiRecords

        Examples
        --------
        >>> import pandas as pd
        >>> records = KpiRecords.from_rows([{"period": pd.Period("2020-01", "M"), "kpi": "nps", "value": 12.0, "line": 2}])
        >>> len(records)
        1
        """
        rows = list(rows)
        return cls([r["period"] for r in rows], [r["kpi"] for r in rows], [r["value"] for r in rows],
                   [r["line"] for r in rows])

    def __len__(self) -> int:
        return len(self.kpi)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return KpiRecords(self.period[index], self.kpi[index], self.value[index], self.line[index])
        return {"period": self.period[index], "kpi": self.kpi[index], "value": float(self.value[index]),
                "line": int(self.line[index])}

    def __repr__(self) -> str:
        return f"KpiRecords({len(self)} rows, KPIs {sorted(set(self.kpi))})"

    def month_spans(self) -> np.ndarray:
        """Each row's first and last month, as months since 1970-01: an (n, 2) array.

        A pandas Period is slow to hash and to ask for its times: each distinct Period object is
        measured once, and the rows find it by ``id``.

        Returns
        -------
        numpy.ndarray of int, shape (n, 2)

        Examples
        --------
        >>> import pandas as pd
        >>> rows = [{"period": pd.Period(p, "M" if "-Q" not in p else "Q"), "kpi": "nps", "value": 1.0, "line": 2}
        ...         for p in ("1970-02", "1970-Q2")]
        >>> KpiRecords.from_rows(rows).month_spans().tolist()
        [[1, 1], [3, 5]]
        """
        if self._spans is None:  # asked for by the span check and again by the portfolio's table
            distinct = {id(p): p for p in self.period}
            spans = {key: month_span(p) for key, p in distinct.items()}
            self._spans = np.array([spans[id(p)] for p in self.period], dtype=np.int64).reshape(-1, 2)
        return self._spans
