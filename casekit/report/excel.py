"""Results out to Excel: ``casekit export --xlsx`` and :func:`export_excel`.

One sheet per table an analyst continues with, numbers as numbers with number formats, a header row that
stays in view and filters, and the settings the results were computed with on a sheet of their own. Text
from the cases that Excel would run as a formula (a leading ``=``, ``+``, ``-`` or ``@``) is written as
text with Excel's quote prefix, so it shows as written and never runs.
"""

from __future__ import annotations

import errno
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import replaced, target_problem
from ..errors import ArgumentError
from ..inputs.loading import Portfolio
from ..version import VERSION

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {  # column name -> Excel number format; the first rule a column's name matches
    "p": "0.0000", "money": "#,##0", "count": "0", "ratio": "0.00", "effect": "0.0", "other": "General"}


def export_excel(portfolio: Portfolio, path: str | Path, alpha: float = 0.05, correction: str = "holm",
                 meta_method: str = "DL", reference: pd.DataFrame | None = None, force: bool = False) -> Path:
    """Write the portfolio's results to an ``.xlsx`` workbook, one sheet per table.

    Sheets: ``Settings`` (alpha, correction, meta-analysis method, casekit
    version, when), ``KPIs`` (label, unit, direction of every KPI used),
    ``Cases``, ``KPI comparison`` (each case's :attr:`CaseComparison.table`),
    ``Goals``, ``ROI``, ``KPI effects`` (:attr:`PortfolioComparison.effects`),
    ``Portfolio tests`` (:meth:`PortfolioComparison.tests`) and
    ``Categories`` (:meth:`PortfolioComparison.categories`, beside
    ``reference`` where given).

    Parameters
    ----------
    portfolio : Portfolio
    path : str or Path
        The workbook to write; an existing file is replaced only with ``force``.
    alpha, correction, meta_method
        As in :func:`casekit.compare_case` and :func:`casekit.compare_portfolio`.
    reference : DataFrame, optional
        The SEI's results (``pd.read_csv(ck.project.reference_path())``) for ``Categories``.
    force : bool
        Replace an existing file.

    Returns
    -------
    Path
        The workbook written.

    Examples
    --------
    >>> import casekit as ck, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "results.xlsx"
    >>> pf = ck.load_cases("cases", case_ids=["quantia-tech", "meridian-financial"])
    >>> sorted(pd.read_excel(ck.export_excel(pf, out), sheet_name=None, engine="calamine"))[:3]
    ['Cases', 'Categories', 'Goals']
    """
    from .comparison import compare_case, compare_portfolio
    from .summary import case_overview

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ArgumentError(f"the workbook's name must end in .xlsx, got {path.name!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ArgumentError(f"alpha must be a number between 0 and 1 (such as 0.05), got {alpha!r}")
    problem = target_problem(path, force)
    if problem is not None:
        raise ArgumentError(problem.replace("--force replaces it", "force=True (--force) replaces it"))
    ids = list(portfolio.cases["case_id"])
    cases = [compare_case(portfolio, c, alpha=alpha) for c in ids]  # each case fitted once
    across = compare_portfolio(portfolio, correction=correction, alpha=alpha, meta_method=meta_method)
    used = portfolio.kpis.drop_duplicates("kpi")[["kpi", "label", "unit", "better", "category", "scale"]]
    sheets = {
        "Settings": pd.DataFrame([
            ("alpha", alpha), ("confidence level", f"{100 * (1 - alpha):g}%"), ("correction", correction),
            ("meta-analysis method", meta_method), ("pooled effect's test", across.meta_test),
            ("cases", len(ids)), ("casekit version", VERSION),
            ("exported (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")),
            ("effects", "direction-aware: positive is better; % for ratio-scale KPIs, points for interval-scale")],
            columns=["setting", "value"]),
        "KPIs": used.sort_values("kpi", ignore_index=True),
        "Cases": case_overview(portfolio).merge(portfolio.cases[["case_id", "name", "region", "size", "source",
                                                                 "currency"]], on="case_id"),
        "KPI comparison": pd.concat([c.table for c in cases], ignore_index=True),
        "Goals": pd.concat([c.goals() for c in cases], ignore_index=True),
        "ROI": pd.concat([c.roi() for c in cases], ignore_index=True),
        "KPI effects": across.effects,
        "Portfolio tests": across.tests(),
        "Categories": across.categories(reference=reference),
    }
    try:
        _write_workbook(path, {name: _cells(table) for name, table in sheets.items()})
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
        raise ArgumentError(f"cannot write {path}: {reason}; nothing was written") from None
    return path


def _cells(table: pd.DataFrame) -> pd.DataFrame:
    """Values Excel can hold: periods and other objects as text, nullable integers as floats."""
    table = table.copy()
    for column in table.columns:
        series = table[column]
        if isinstance(series.dtype, pd.PeriodDtype):
            table[column] = series.astype(str)
        elif pd.api.types.is_integer_dtype(series) and series.isna().any():
            table[column] = series.astype(float)
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            table[column] = series.map(lambda v: v if v is None or isinstance(v, (str, int, float)) else str(v))
    return table


def _number_format(column: str) -> str:
    """The Excel number format of a column, from its name.

    Examples
    --------
    >>> _number_format("p_adjusted"), _number_format("benefit"), _number_format("improvement")
    ('0.0000', '#,##0', '0.0')
    """
    name = column.lower()
    if name in ("p_value", "p_adjusted", "q_pvalue", "p_between", "p_between_adjusted") or name.endswith("_p"):
        return FORMATS["p"]
    if name in ("investment", "monthly_benefit", "benefit", "benefit_low", "benefit_high", "net_benefit", "amount",
                "size"):
        return FORMATS["money"]
    if name.startswith("n_") or name in ("k", "n", "kpis", "before", "after", "transition", "cases", "data_points",
                                          "levels", "sign_n", "sign_positive", "xmr_signals_better",
                                          "xmr_signals_worse", "horizon_months", "payback_months", "levels_gained"):
        return FORMATS["count"]
    if name in ("benefit_cost_ratio", "autocorrelation", "i2", "tau2", "dz", "dz_ci_low", "dz_ci_high", "effect",
                "effect_se", "rho"):
        return FORMATS["ratio"]
    return FORMATS["effect"] if name.endswith(("improvement", "_change", "ci_low", "ci_high", "_pct", "median",
                                              "lowest", "highest", "pi_low", "pi_high")) else FORMATS["other"]


def _write_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with replaced(path, suffix=".xlsx") as temporary, pd.ExcelWriter(
            temporary, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        quoted = writer.book.add_format({"quote_prefix": True})
        for name, table in sheets.items():
            table.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for number, column in enumerate(table.columns):
                lengths = [len(str(v)) for v in table[column] if not pd.isna(v)]
                width = min(60, max(10, len(str(column)) + 2, int(np.percentile(lengths, 90)) + 2 if lengths else 0))
                sheet.set_column(number, number, width, writer.book.add_format(
                    {"num_format": _number_format(str(column))}))
                if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
                    for row, value in enumerate(table[column], start=1):
                        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                            sheet.write_string(row, number, value, quoted)  # shown as written, never run
            sheet.freeze_panes(1, 0)
            if len(table.columns):
                sheet.autofilter(0, 0, max(len(table), 1), len(table.columns) - 1)
