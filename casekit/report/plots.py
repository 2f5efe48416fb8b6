"""Charts for the reports: each takes casekit's tidy tables and an optional ``ax``, returns the Axes.

Titles, units and each KPI's direction come from the data. Nothing here calls
``plt.show()``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter

from ..stats.notes import format_p

PHASE_COLORS = {"before": "#4c72b0", "transition": "#999999", "after": "#dd8452"}


def _axes(ax, size=(8, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _label_before_seaborn(ax) -> None:
    """Give the axes stand-in labels before a seaborn call; the caller sets the real ones (which may be
    empty) afterwards. seaborn labels only unlabelled axes, and first asks for their tick labels, which on a
    date axis costs about a tenth of the whole chart."""
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def _plain(text) -> str:
    """Text from a case file, drawn as written: a '$' is a dollar sign, not the start of matplotlib's mathtext."""
    return str(text).replace("$", r"\$")


def _direction(better: str) -> str:
    return "lower is better" if better == "lower" else "higher is better"


def signals_in_better_direction(flagged: pd.DataFrame, better: str) -> pd.Series:
    """For each XmR signal, whether it lies on the KPI's better side of the baseline's centre line.

    Parameters
    ----------
    flagged : pandas.DataFrame
        Rows of an XmR chart that carry a signal (``value`` and the baseline's ``center``).
    better : {"higher", "lower"}
        The KPI's better direction.

    Returns
    -------
    pandas.Series of bool

    Examples
    --------
    >>> import pandas as pd
    >>> signals_in_better_direction(pd.DataFrame({"value": [3.0, 9.0], "center": [5.0, 5.0]}), "lower").tolist()
    [True, False]
    """
    reference = ((flagged["baseline_lcl"] + flagged["baseline_ucl"]) / 2) if "baseline_lcl" in flagged else None
    reference = flagged["center"] if reference is None else reference.fillna(flagged["center"])
    higher = flagged["value"] > reference
    return higher if better == "higher" else ~higher


def kpi_chart(chart: pd.DataFrame, ax=None):
    """One KPI over time: values by phase, the transition shaded, each phase's XmR limits.

    ``chart`` is :func:`casekit.stats.behaviour.xmr_phases` applied to one KPI's rows of
    ``Portfolio.kpis`` (``date, value, phase, label, unit, better, center,
    lcl, ucl``).

    Parameters
    ----------
    chart : pandas.DataFrame
        :func:`casekit.stats.behaviour.xmr_phases` of one KPI's rows.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure of the chart's own size).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit import plots
    >>> pf = ck.load_cases("cases")
    >>> rows = pf.kpis.query("case_id == 'quantia-tech' and kpi == 'defect_density'")
    >>> plots.kpi_chart(ck.behaviour.xmr_phases(rows)).get_title()
    'Defect density (lower is better)'
    """
    ax = _axes(ax)
    _label_before_seaborn(ax)
    sns.lineplot(data=chart, x="date", y="value", hue="phase", palette=PHASE_COLORS, marker="o",
                 markersize=4, errorbar=None, ax=ax, hue_order=[p for p in PHASE_COLORS if p in set(chart["phase"])])
    for phase in ("before", "after"):
        part = chart[(chart["phase"] == phase) & chart["center"].notna()]
        if part.empty:
            continue
        ax.hlines(part[["center", "lcl", "ucl"]].iloc[0], part["date"].min(), part["date"].max(),
                  colors=PHASE_COLORS[phase], linestyles=["-", "--", "--"], linewidth=1)
    transition = chart[chart["phase"] == "transition"]
    if len(transition):
        ax.axvspan(transition["date"].min(), transition["date"].max(), color="#dddddd", alpha=0.6, zorder=0)
    first = chart.iloc[0]
    flagged = chart[chart["signal"] != ""] if "signal" in chart else chart.iloc[0:0]
    better = signals_in_better_direction(flagged, first["better"])
    ax.scatter(flagged.loc[better, "date"], flagged.loc[better, "value"], s=60, marker="o", facecolors="none",
               edgecolors="#2a7f3f", linewidths=1.5, zorder=3, label="XmR signal, better")
    ax.scatter(flagged.loc[~better, "date"], flagged.loc[~better, "value"], s=60, marker="X", color="#c03030",
               zorder=3, label="XmR signal, worse")
    ax.set_title(_plain(f"{first['label']} ({_direction(first['better'])})"))
    ax.set_xlabel("")
    ax.set_ylabel(_plain(first["unit"]))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)  # never over the data
    return ax


def is_flow(unit: str) -> bool:
    """A KPI counted per period (``defects per month``): its effects add up, so a cumulative effect means something.

    Parameters
    ----------
    unit : str
        The KPI's unit.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_flow("defects per month"), is_flow("days")
    (True, False)
    """
    return str(unit).strip().lower().endswith(("per month", "per quarter"))


def counterfactual_chart(one, row: pd.Series, start: pd.Period, transition_months: int, alpha: float = 0.05):
    """What the verdict tests, for one KPI: the data, the baseline trend carried on, and the effect.

    The top panel shows the observed values by phase (the transition shaded), the fitted baseline trend
    and, after adoption, that trend carried on as the counterfactual with its confidence band beside the
    fitted level with the change. The panel below shows the pointwise effect (the fitted level less the
    counterfactual, with its band, and each observed value less the counterfactual as a dot) and, for a
    KPI counted per period, the cumulative effect. Bands use the multiplier of the effect's calibrated
    interval. ``one`` is a :class:`casekit.stats.within.KpiFit` and ``row`` its row of the comparison's table.

    Parameters
    ----------
    one : KpiFit
        ``CaseComparison.fits[kpi]``.
    row : pandas.Series
        The KPI's row of :attr:`casekit.CaseComparison.table`.
    start : pandas.Period
        The adoption's start.
    transition_months : int
        The months of transition after it, shaded.
    alpha : float
        The level of the bands.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import casekit as ck
    >>> comparison = ck.compare_case(ck.load_cases("cases"), "quantia-tech")
    >>> row = comparison.table.set_index("kpi").loc["defect_density"]
    >>> start = comparison.portfolio.cases.set_index("case_id").at["quantia-tech", "adoption_start"]
    >>> figure = counterfactual_chart(comparison.fits["defect_density"], row, start, comparison.transition_months)
    >>> len(figure.axes) >= 2
    True
    """
    from ..stats.timeseries import positions

    data = one.measurements
    flow = is_flow(row["unit"])
    fig, axes = plt.subplots(3 if flow else 2, 1, figsize=(8, 6.2 if flow else 5), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1.6, 1.6] if flow else [3, 1.6]})
    top, effect_ax = axes[0], axes[1]
    for phase in ("before", "transition", "after"):
        part = data[data["phase"] == phase]
        top.plot(part["date"], part["value"], "o", markersize=3.5, color=PHASE_COLORS[phase],
                 label={"before": "before adoption", "transition": "transition", "after": "after"}[phase])
    first_after = (start + transition_months).to_timestamp()
    for ax in axes:
        ax.axvspan(start.to_timestamp(), first_after, color="#dddddd", alpha=0.6, zorder=0, linewidth=0)
    if one.fit is not None:
        freq = data["freq"].iloc[0]
        step = 3 if freq == "Q" else 1
        first, last = data["date"].min().to_period("M").ordinal, data["date"].max().to_period("M").ordinal
        calendar = np.arange(first, last + 1, step)
        t, seasons, _ = positions(calendar, freq, start, transition_months)
        dates = pd.PeriodIndex.from_ordinals(calendar, freq="M").to_timestamp()
        crit = one.fit.critical["effect"]
        before, after = t < 0, t >= 0
        counterfactual = one.series.regressors(t, seasons, changed=False)
        changed = one.series.regressors(t, seasons, changed=True)
        level, level_se = _line(counterfactual, one.fit)
        fitted, _ = _line(changed, one.fit)
        offset = one.series.offset_at(t)  # a controlled series: the comparison's course under both lines
        level, fitted = level + offset, fitted + offset
        show = np.exp if one.fit.scale == "log" else (lambda v: v)
        if one.fit.controlled:
            shown = {time: date for time, date in zip(t, dates)}
            top.plot([shown[time] for time in one.series.t if time in shown],
                     show(one.series.offset[np.isin(one.series.t, t)]), "s", markersize=2.8, color="#8c8c8c",
                     label=f"comparison: {_plain(_short(row.get('comparison') or 'comparison unit', 40))}")
        top.plot(dates[before], show(level[before]), color=PHASE_COLORS["before"], linewidth=1.6,
                 label="fitted before adoption" if one.fit.controlled else "baseline trend")
        top.plot(dates[after], show(level[after]), color="#555555", linewidth=1.4, linestyle="--",
                 label="counterfactual (the comparison's course)" if one.fit.controlled
                 else "counterfactual (trend carried on)")
        top.fill_between(dates[after], show(level[after] - crit * level_se[after]),
                         show(level[after] + crit * level_se[after]), color="#4c72b0", alpha=0.15, linewidth=0,
                         label=f"{100 * (1 - alpha):g}% band")
        top.plot(dates[after], show(fitted[after]), color=PHASE_COLORS["after"], linewidth=1.8,
                 label="fitted with the change")
        gain = changed - counterfactual
        difference, difference_se = _line(gain, one.fit)
        if one.fit.scale == "log":
            pointwise = np.exp(fitted) - np.exp(level)
            low = np.exp(fitted) - np.exp(fitted - difference + crit * difference_se)
            high = np.exp(fitted) - np.exp(fitted - difference - crit * difference_se)
        else:
            pointwise, low, high = difference, difference - crit * difference_se, difference + crit * difference_se
        effect_ax.axhline(0, color="#555555", linewidth=0.8)
        effect_ax.plot(dates[after], pointwise[after], color=PHASE_COLORS["after"], linewidth=1.6)
        effect_ax.fill_between(dates[after], low[after], high[after], color=PHASE_COLORS["after"], alpha=0.2,
                               linewidth=0)
        observed = data[data["phase"] == "after"]
        at = np.searchsorted(calendar, observed["date"].dt.to_period("M").map(lambda p: p.ordinal).to_numpy())
        at = np.clip(at, 0, len(calendar) - 1)
        effect_ax.plot(observed["date"], observed["value"].to_numpy() - show(level[at]), "o", markersize=3,
                       color=PHASE_COLORS["after"], alpha=0.6)
        if flow:
            axes[2].axhline(0, color="#555555", linewidth=0.8)
            axes[2].plot(dates[after], np.cumsum(pointwise[after]), color="#2a7f3f", linewidth=1.8)
            axes[2].set_ylabel(_plain(f"cumulative\n({_unit_count(row['unit'])})"), fontsize="small")
            axes[2].set_title("Cumulative effect since the transition", loc="left", fontsize="small")
    better = _direction(row["better"])
    top.set_title(_plain(f"{row['label']} ({better})"), loc="left")
    top.set_ylabel(_plain(row["unit"]))
    better_side = "above 0 is better" if row["better"] == "higher" else "below 0 is better"
    effect_ax.set_ylabel(_plain(f"effect\n({better_side})"), fontsize="small")
    effect_ax.set_title("Effect: fitted less counterfactual (dots: each measurement less counterfactual)",
                        loc="left", fontsize="small")
    handles, labels = top.get_legend_handles_labels()
    if transition_months:
        from matplotlib.patches import Patch

        handles.append(Patch(color="#dddddd", label="transition (left out of the fit)"))
        labels.append("transition (left out of the fit)")
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize="small", frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.11, 1, 1))
    return fig


def _line(rows: np.ndarray, fit):
    """The model's value of each row of the design, and its standard error."""
    return rows @ fit.beta, np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", rows, fit.cov, rows), 0))


def _unit_count(unit: str) -> str:
    """``defects per month`` → ``defects``: what a cumulative effect is counted in."""
    return str(unit).rsplit(" per ", 1)[0]


# One colour per appraisal method in every report (seaborn's "deep" palette, in a fixed order).
METHOD_COLORS = dict(zip(("SCAMPI A", "Benchmark", "Sustainment", "Action Plan Reappraisal", "SCAMPI B", "SCAMPI C",
                          "Evaluation"), sns.color_palette("deep", 7).as_hex()))
NOT_RATED = 0  # the row unrated appraisals are drawn on, below maturity level 1


def maturity_chart(appraisals: pd.DataFrame, ax=None):
    """Maturity levels appraised over time: rated appraisals filled at their level, joined by a step line;
    informal ones (SCAMPI B/C, Evaluation) hollow on a row of their own, "not rated", never at a level.

    Parameters
    ----------
    appraisals : pandas.DataFrame
        One case's rows of ``Portfolio.appraisals``.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure of the chart's own size).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit import plots
    >>> pf = ck.load_cases("cases")
    >>> plots.maturity_chart(pf.appraisals[pf.appraisals["case_id"] == "atlas-capital"]).get_title()
    'Appraisals and maturity level'
    """
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D

    ax = _axes(ax, (8, 2.8))
    data = appraisals.assign(level=appraisals["maturity_level"].astype("Float64").astype(float))
    rated = data[data["rated"] & data["level"].notna()]
    informal = data[~data.index.isin(rated.index)]
    ax.step(rated["date"], rated["level"], where="post", color="#4c72b0", linewidth=1.5, zorder=1)
    handles = []
    for method in sorted(data["method"].unique(), key=lambda m: list(METHOD_COLORS).index(m)
                         if m in METHOD_COLORS else len(METHOD_COLORS)):
        color = METHOD_COLORS.get(method, "#555555")
        mine = rated[rated["method"] == method]
        ax.scatter(mine["date"], mine["level"], s=80, color=color, zorder=2)
        hollow = informal[informal["method"] == method]
        ax.scatter(hollow["date"], [NOT_RATED] * len(hollow), s=80, facecolors="white", edgecolors=color,
                   linewidths=1.5, zorder=2)
        handles.append(Line2D([], [], marker="o", linestyle="", color=color, markersize=8, label=method))
    handles += [Line2D([], [], marker="o", linestyle="", color="#333333", markersize=8, label="rated"),
                Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor="#333333",
                       markersize=8, label="not rated")]
    ax.set_ylim(-0.6, 5.5)
    ax.set_yticks([NOT_RATED, 1, 2, 3, 4, 5], ["not rated", "ML1", "ML2", "ML3", "ML4", "ML5"])
    ax.axhline(0.5, color="#cccccc", linewidth=0.8)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylabel("")
    ax.set_xlabel("")
    ax.set_title("Appraisals and maturity level")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    return ax


HEATMAP_COLUMNS = 30  # beyond this many organizations, the heatmap shows shares of organizations per level


def capability_heatmap(practice_areas: pd.DataFrame, columns: str = "date", ax=None):
    """Capability level (0-3) per practice area, by appraisal date or (``columns="case_id"``) by organization,
    named by its ``name`` column where ``practice_areas`` has one.

    With more than :data:`HEATMAP_COLUMNS` organizations, one column per
    organization would not fit a page: the chart is then
    :func:`capability_shares`.

    Parameters
    ----------
    practice_areas : pandas.DataFrame
        ``Portfolio.practice_areas`` (``case_id, date, practice_area, capability_level``; ``name`` optional).
    columns : {"date", "case_id"}
        One column per appraisal date (one case) or per organization (a portfolio).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure of the chart's own size).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit import plots
    >>> pf = ck.load_cases("cases")
    >>> ax = plots.capability_heatmap(pf.practice_areas[pf.practice_areas["case_id"] == "quantia-tech"])
    >>> ax.get_title()
    'Practice-area capability levels (0-3)'
    """
    table = practice_areas.copy()
    if columns == "date":
        table["date"] = table["date"].dt.strftime("%Y-%m")
        grid = table.pivot_table(index="practice_area", columns="date", values="capability_level", aggfunc="max")
    else:
        latest = table.sort_values("date").groupby(["case_id", "practice_area"]).last().reset_index()
        if latest[columns].nunique() > HEATMAP_COLUMNS:
            return capability_shares(latest, ax=ax)
        grid = latest.pivot(index="practice_area", columns=columns, values="capability_level")
    grid.index = [_plain(area) for area in grid.index]
    if columns == "case_id" and "name" in table:  # organizations by name; two of one name told apart by id
        names = table.drop_duplicates("case_id").set_index("case_id")["name"].astype(str)
        clash = names.duplicated(keep=False)
        names = names.where(~clash, names + " (" + names.index + ")")
        grid.columns = [_short(names.get(case_id, case_id), 40 if clash.any() else 24) for case_id in grid.columns]
    ax = _axes(ax, (1.2 + 0.9 * grid.shape[1], 0.6 + 0.35 * grid.shape[0]))
    # whole levels: one colour each, and a colour bar with a tick per level, not a continuous scale
    sns.heatmap(grid, annot=True, fmt=".0f", cmap=sns.color_palette("Blues", 4), vmin=-0.5, vmax=3.5,
                cbar_kws={"label": "capability level", "ticks": [0, 1, 2, 3]}, linewidths=0.5, ax=ax)
    ax.set_title("Practice-area capability levels (0-3)")
    ax.set_xlabel("")
    ax.set_ylabel("")
    return ax


def capability_shares(practice_areas: pd.DataFrame, ax=None):
    """For each practice area, the share of organizations at each capability level (their latest appraisal).

    Parameters
    ----------
    practice_areas : pandas.DataFrame
        ``Portfolio.practice_areas``.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure of the chart's own size).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit import plots
    >>> pf = ck.load_cases("cases")
    >>> plots.capability_shares(pf.practice_areas).get_ylabel()
    ''
    """
    latest = practice_areas.sort_values("date").groupby(["case_id", "practice_area"]).last().reset_index()
    counts = latest.pivot_table(index="practice_area", columns="capability_level", values="case_id", aggfunc="count",
                                fill_value=0).reindex(columns=range(4), fill_value=0)
    shares = 100 * counts.div(counts.sum(axis=1), axis=0)
    shares.index = [f"{_plain(area)} (n={n:,})" for area, n in zip(shares.index, counts.sum(axis=1))]
    shares.columns = [f"level {level}" for level in shares.columns]
    ax = _axes(ax, (6, 0.8 + 0.35 * len(shares)))
    sns.heatmap(shares, annot=True, fmt=".0f", cmap="Blues", vmin=0, vmax=100,
                cbar_kws={"label": "% of organizations"}, linewidths=0.5, ax=ax)
    ax.set_title("Practice-area capability: % of organizations at each level")
    ax.set_xlabel("capability level at the latest appraisal")
    ax.set_ylabel("")
    return ax


FOREST_EXTREMES = 10  # beyond 2 × this many organizations, a forest plot shows the most and least improved


def forest_plot(effects: pd.DataFrame, pooled: pd.Series | None = None, ax=None):
    """Each case's improvement with its CI, and the pooled estimate with CI and prediction interval.

    ``effects``: rows of :attr:`casekit.PortfolioComparison.effects` for one KPI; ``pooled``:
    that KPI's row of :meth:`casekit.PortfolioComparison.tests`. A published case study's
    summary (``design`` other than ``time series``) is drawn as an open green
    diamond and named "(published)". The axis spans the
    estimates and their intervals; a prediction interval reaching beyond them
    is cut at the edge with an arrow, and its bounds are printed. It is drawn
    only from three cases up (below that it says nothing).

    With more than ``2 * FOREST_EXTREMES`` organizations the plot shows the
    :data:`FOREST_EXTREMES` least and most improved, and one row between
    them for the rest: their median and the 10th to 90th percentile of
    their estimates. The pooled estimate uses every organization.

    Parameters
    ----------
    effects : pandas.DataFrame
        One KPI's rows of :meth:`casekit.PortfolioComparison.as_reported` (or ``.effects``).
    pooled : pandas.Series, optional
        That KPI's row of :meth:`casekit.PortfolioComparison.tests`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure of the chart's own size).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit import plots
    >>> pf = ck.load_cases("cases")
    >>> across = ck.compare_portfolio(pf)
    >>> rows = across.effects.query("kpi == 'defect_density' and usable")
    >>> ax = plots.forest_plot(rows, across.tests().set_index("kpi").loc["defect_density"])
    >>> ax.get_yticklabels()[-1].get_text()
    'pooled, I² = 78%'
    """
    everyone = effects.sort_values("improvement").reset_index(drop=True)
    rest = None
    if len(everyone) > 2 * FOREST_EXTREMES:
        rest = everyone.iloc[FOREST_EXTREMES:-FOREST_EXTREMES]["improvement"]
        data = pd.concat([everyone.head(FOREST_EXTREMES), everyone.tail(FOREST_EXTREMES)]).reset_index(drop=True)
        y = np.r_[np.arange(FOREST_EXTREMES), np.arange(FOREST_EXTREMES) + FOREST_EXTREMES + 1]
    else:
        data = everyone
        y = np.arange(len(data))
    rows = len(data) + (rest is not None)
    ax = _axes(ax, (7, 1.4 + 0.4 * (rows + 2)))
    published = (data["design"] != "time series").to_numpy() if "design" in data else np.zeros(len(data), bool)
    for chosen, style in ((~published, {"fmt": "s", "color": "#4c72b0", "label": "organization (CI)"}),
                          (published, {"fmt": "D", "color": "#2e8b57", "mfc": "white",
                                       "label": "published case study (CI)"})):
        if chosen.any():
            part = data[chosen]
            ax.errorbar(part["improvement"], y[chosen], xerr=[part["improvement"] - part["ci_low"],
                                                             part["ci_high"] - part["improvement"]],
                        capsize=3, **style)
    names = data["name"] if "name" in data else data["case_id"]
    labels = [f"{name} (published)" if marked else name for name, marked in zip(names, published)]
    spans = [data["ci_low"].min(), data["ci_high"].max(), 0.0]
    if rest is not None:
        low10, median, high90 = np.percentile(rest, [10, 50, 90])
        ax.hlines(FOREST_EXTREMES, low10, high90, colors="#999999", linewidth=6, alpha=0.6,
                  label="the others: 10th–90th percentile")
        ax.plot([median], [FOREST_EXTREMES], "D", color="#555555", label="the others: median")
        y = np.r_[y[:FOREST_EXTREMES], FOREST_EXTREMES, y[FOREST_EXTREMES:]]
        labels = labels[:FOREST_EXTREMES] + [f"… {len(rest):,} others"] + labels[FOREST_EXTREMES:]
    has_pooled = pooled is not None and np.isfinite(pooled["pooled_improvement"])
    if has_pooled:
        spans += [pooled["pooled_ci_low"], pooled["pooled_ci_high"]]
    low, high = np.nanmin(spans), np.nanmax(spans)
    margin = 0.08 * (high - low or 1.0)
    low, high = low - margin, high + margin
    if has_pooled:
        at = -1.5
        if np.isfinite(pooled["pi_low"]) and pooled.get("k", 3) >= 3:
            below = at - 0.5  # its own line under the diamond, which would hide it
            left, right = max(pooled["pi_low"], low), min(pooled["pi_high"], high)
            ax.hlines(below, left, right, colors="#a0522d", linewidth=1.2, label="prediction interval")
            for edge, end, sign in ((left, pooled["pi_low"], -1), (right, pooled["pi_high"], 1)):
                if end != edge:  # cut at the axis: an arrow says it goes on
                    ax.annotate("", (edge, below), (edge - sign * 0.05 * (high - low), below),
                                arrowprops={"arrowstyle": "->", "color": "#a0522d"})
            unit = data["improvement_unit"].iloc[0] if len(data) else "%"
            ax.annotate(f"prediction interval {pooled['pi_low']:+,.1f} to {pooled['pi_high']:+,.1f} {unit}",
                        (0.5, below - 0.3), xycoords=("axes fraction", "data"), ha="center", va="top",
                        fontsize="x-small", color="#a0522d")
        diamond_x = [pooled["pooled_ci_low"], pooled["pooled_improvement"], pooled["pooled_ci_high"], pooled["pooled_improvement"]]
        ax.fill(diamond_x, [at, at + 0.3, at, at - 0.3], color="#dd8452", label="pooled (random effects, CI)")
        y = np.r_[y, at]
        labels.append(f"pooled, I² = {100 * pooled['i2']:.0f}%")
        ax.set_ylim(at - 1.4, rows - 0.4)
    ax.set_xlim(low, high)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    unit = data["improvement_unit"].iloc[0] if len(data) else "%"
    first = effects.iloc[0]
    ax.set_xlabel(f"improvement ({unit}, {_direction(first['better'])} → positive)")
    ax.set_title(_plain(f"{_kpi_name(first)}: improvement by organization"))
    height = ax.figure.get_size_inches()[1]
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.55 / height), ncol=3, fontsize="small", frameon=False)
    if rest is not None:
        ax.set_title(_plain(f"{_kpi_name(first)}: the {FOREST_EXTREMES} least and most improved of "
                            f"{len(everyone):,} organizations"))
    return ax


def event_time_chart(table: pd.DataFrame, label: str, unit: str, better: str, period_name: str = "month",
                     alpha: float = 0.05, ax=None):
    """A KPI's change by time since adoption, against the organizations not yet adopting, with intervals.

    Before adoption (grey) the points check for a pre-trend: they should scatter around zero. After it
    (orange) they are the effect as it builds up. The period before adoption is the reference, zero by
    construction. With ``organizations`` in the table, the vertical axis spans the intervals of the
    months that at least a quarter of the adopting organizations are behind; the wider intervals of the
    last months, which rest on a few early adopters, run off its edge.

    Parameters
    ----------
    table : pandas.DataFrame
        :meth:`casekit.report.event_time.KpiEventStudy.table`.
    label, unit, better : str
        The KPI's name, the unit of ``change`` (``"%"`` or the KPI's) and its better direction.
    period_name : {"month", "quarter"}
        What the event time counts.
    alpha : float
        1 − the intervals' confidence, for the legend.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> table = pd.DataFrame({"event_time": [-2, 0, 1], "change": [1.0, -8.0, -12.0],
    ...                       "ci_low": [-4.0, -14.0, -19.0], "ci_high": [6.0, -2.0, -5.0]})
    >>> ax = event_time_chart(table, "Defect density", "%", "lower")
    >>> ax.get_title()
    'Defect density: change by months since adoption'
    >>> plt.close("all")
    """
    ax = _axes(ax)
    before = table["event_time"] < 0
    confidence = f"{100 * (1 - alpha):g}% CI"
    if "organizations" in table and len(table):
        # the last months since adoption rest on the few early adopters, and their intervals can be ten times
        # wider than the rest: the axis spans the months a quarter of the adopters or more are behind, and
        # wider intervals run off its edge (every estimate stays in view)
        behind = table[table["organizations"] >= 0.25 * table["organizations"].max()]
        shown = np.r_[behind["ci_low"], behind["ci_high"], table["change"], 0.0]
        low, high = np.nanmin(shown), np.nanmax(shown)
        margin = 0.15 * (high - low or 1.0)
        ax.set_ylim(low - margin, high + margin)
    for rows, color, name in ((table[before], "#999999", "before adoption (pre-trend check)"),
                              (table[~before], PHASE_COLORS["after"], "after adoption")):
        if len(rows):
            ax.errorbar(rows["event_time"], rows["change"], yerr=[rows["change"] - rows["ci_low"],
                                                                  rows["ci_high"] - rows["change"]],
                        fmt="o", color=color, markersize=4, capsize=2, linewidth=1, label=f"{name}, {confidence}")
    ax.plot([-1], [0], "o", color="black", markersize=4, label=f"reference: the {period_name} before adoption")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(-0.5, color="black", linestyle="--", linewidth=0.8)
    ax.set_xlabel(f"{period_name}s since adoption")
    ax.set_ylabel(f"change ({unit}; {_direction(better)})")
    ax.set_title(_plain(f"{label}: change by {period_name}s since adoption"))
    handles, names = ax.get_legend_handles_labels()
    rank = {"before": 0, "reference:": 1, "after": 2}  # the legend reads left to right, as the axis does
    order = sorted(range(len(names)), key=lambda i: rank[names[i].split()[0]])
    ax.legend([handles[i] for i in order], [names[i] for i in order], loc="upper center",
              bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize="small", frameon=False)
    return ax


def plan_chart(curves: pd.DataFrame, inputs: dict):
    """A plan's power curves: against the months measured after adoption, and against the organizations pooled.

    Parameters
    ----------
    curves : pandas.DataFrame
        :meth:`casekit.report.plan.Plan.table`.
    inputs : dict
        :attr:`casekit.report.plan.Plan.inputs` (the changes planned for, for the legend).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> curves = pd.DataFrame({"axis": ["months after adoption"] * 2 + ["organizations"] * 2,
    ...                        "months_after": [12, 24, 24, 24], "organizations": [1, 1, 4, 8],
    ...                        "contrast": ["effect", "effect", "effect", "effect"], "change": -20.0,
    ...                        "power": [0.4, 0.5, 0.6, 0.9]})
    >>> fig = plan_chart(curves, {"change": -20.0, "slope_change": -1.0, "tau": 0.05})
    >>> fig.axes[1].get_xlabel()
    'organizations pooled'
    >>> plt.close("all")
    """
    fig, (months, organizations) = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    by_months = curves[curves["axis"] == "months after adoption"]
    names = {"effect": f"a level change of {inputs['change']:+g}%",
             "slope": f"a slope change of {inputs.get('slope_change') or 0:+g}% a month"}  # none planned for counts
    for contrast, color in (("effect", PHASE_COLORS["after"]), ("slope", PHASE_COLORS["before"])):
        rows = by_months[by_months["contrast"] == contrast]
        if len(rows):
            months.plot(rows["months_after"], rows["power"], "o-", color=color, label=names[contrast])
    months.set_xlabel("months measured after the transition")
    months.set_ylabel("power")
    months.set_title("One organization", fontsize="medium")
    pooled = curves[curves["axis"] == "organizations"]
    if len(pooled):
        organizations.plot(pooled["organizations"], pooled["power"], "o-", color=PHASE_COLORS["after"],
                           label=f"{inputs['change']:+g}% on average, τ = {inputs['tau']:g}")
        organizations.set_xscale("log", base=2)
        organizations.set_xticks(pooled["organizations"], [str(k) for k in pooled["organizations"]])
        organizations.minorticks_off()
    staggered = curves[curves["axis"] == "event study"]
    if len(staggered):
        organizations.plot(staggered["organizations"], staggered["power"], "s--", color=PHASE_COLORS["before"],
                           label=f"event study, adopting over {inputs.get('staggered')} months")
        organizations.set_xscale("log", base=2)
        ticks = sorted(set(pooled["organizations"]) | set(staggered["organizations"]))
        organizations.set_xticks(ticks, [str(k) for k in ticks])
        organizations.minorticks_off()
    organizations.set_xlabel("organizations pooled")
    organizations.set_title(f"Across organizations (pooled: {int(pooled['months_after'].iloc[0]) if len(pooled) else 24} "
                            "months after each)", fontsize="medium")
    for ax in (months, organizations):
        ax.axhline(0.8, color="black", linestyle="--", linewidth=0.8)
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower right", fontsize="small", frameon=False)
    fig.tight_layout()
    return fig


def level_chart(values: pd.DataFrame, trend: pd.Series, ax=None):
    """A KPI's values by maturity level as a published source printed them, and the weighted trend through them.

    Each level is a point whose area grows with its number of projects (printed beside it); the dashed line
    is the trend :func:`casekit.stats.levels.level_trends` tests. A ratio-scale KPI is drawn on a log axis,
    where that trend is a straight line.

    Parameters
    ----------
    values : pandas.DataFrame
        One case's and KPI's rows of :func:`casekit.stats.levels.level_values`.
    trend : pandas.Series
        Their row of :func:`casekit.stats.levels.level_trends`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import casekit as ck, matplotlib.pyplot as plt
    >>> from casekit.stats.levels import level_trends, level_values
    >>> pf = ck.load_cases("cases")
    >>> values = level_values(pf.published).query("kpi == 'in_process_defects'")
    >>> trend = level_trends(pf.published, pf.kpi_definitions).set_index("kpi").loc["in_process_defects"]
    >>> level_chart(values, trend).get_xlabel()
    'maturity level (cross-sectional: different projects at each level)'
    >>> plt.close("all")
    """
    ax = _axes(ax, (9.5, 3.6))  # the page's width, as the other charts
    ratio = trend["improvement_unit"] == "%"
    x, y, n = values["level"].to_numpy(float), values["value"].to_numpy(float), values["n"].to_numpy(float)
    ax.scatter(x, y, s=25 + 12 * n, color="#2e8b57", alpha=0.8, zorder=3, label="level mean (area: projects)")
    for level, value, count in zip(x, y, n):
        ax.annotate(f"n = {count:.0f}", (level, value), xytext=(9, 0), textcoords="offset points", va="center",
                    fontsize="x-small", color="#555555")
    fitted = np.log(y) if ratio else y
    slope, intercept = np.polyfit(x, fitted, 1, w=np.sqrt(n))
    line = intercept + slope * np.array([x.min(), x.max()])
    ax.plot([x.min(), x.max()], np.exp(line) if ratio else line, "--", color="#555555", linewidth=1,
            label=f"trend: {abs(trend['per_level']):.0f}{'%' if ratio else ' points'} "
                  f"{'better' if trend['per_level'] >= 0 else 'worse'} a level"
                  + (f" (p {format_p(trend['p_value'])})" if np.isfinite(trend["p_value"]) else ""))
    if ratio:
        ax.set_yscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:,g}")  # 600, not 6 × 10²
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize="x-small")
    ax.margins(y=0.15)
    ax.set_xticks(range(1, 6))
    ax.set_xlim(0.6, 5.6)
    ax.set_xlabel("maturity level (cross-sectional: different projects at each level)")
    ax.set_ylabel(_plain(f"{trend['unit']} ({_direction(trend['better'])})"))
    ax.set_title(_plain(f"{trend['label']} by maturity level"))
    ax.legend(loc="best", fontsize="small", frameon=False, markerscale=0.5)
    return ax


def _kpi_name(row) -> str:
    """A KPI's label where the table has one, else its id."""
    label = row.get("label") if hasattr(row, "get") else None
    return str(label) if isinstance(label, str) and label else str(row["kpi"])


VERDICT_COLORS = {"improved": "#2a7f3f", "worsened": "#c03030"}  # anything else: grey


SLOPE_LABELLED = 20  # beyond this many organizations, a slope chart shows faint lines, the median and no labels


def slope_chart(effects: pd.DataFrame, ax=None):
    """Baseline and post-adoption level of one KPI, one line per organization, coloured by its verdict.

    The colour is the case's ``verdict`` where ``effects`` has one (from
    :func:`casekit.compare_case`), else whether the improvement's interval
    lies above 0 (green), below 0 (red) or includes it (grey): a point
    estimate alone never colours a line. Labels are spread so that they do
    not overprint. With more than :data:`SLOPE_LABELLED` organizations the
    lines are faint and unlabelled, and a black line joins the medians.

    Parameters
    ----------
    effects : pandas.DataFrame
        One KPI's rows of :meth:`casekit.PortfolioComparison.as_reported` (or ``.effects``): ``baseline, post``
        and the verdict or interval.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure of the chart's own size).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit import plots
    >>> pf = ck.load_cases("cases")
    >>> rows = ck.compare_portfolio(pf).as_reported().query("kpi == 'defect_density' and usable")
    >>> plots.slope_chart(rows).get_title()
    'Defect density (lower is better)'
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax = _axes(ax, (5, 4.5))
    if "verdict" in effects:
        verdicts = effects["verdict"]
    else:
        verdicts = np.select([effects["ci_low"] > 0, effects["ci_high"] < 0], ["improved", "worsened"], "unclear")
        verdicts = pd.Series(verdicts, index=effects.index)
    colors = [VERDICT_COLORS.get(v, "#999999") for v in verdicts]
    many = len(effects) > SLOPE_LABELLED
    segments = [[(0, b), (1, a)] for b, a in zip(effects["baseline"], effects["post"])]
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=0.6 if many else 1.5,
                                     alpha=0.25 if many else 1.0))
    ax.scatter(np.r_[np.zeros(len(effects)), np.ones(len(effects))], np.r_[effects["baseline"], effects["post"]],
               c=colors + colors, s=6 if many else 30, alpha=0.4 if many else 1.0, zorder=3)
    lows, highs = effects[["baseline", "post"]].min().min(), effects[["baseline", "post"]].max().max()
    gap = 0.045 * ((highs - lows) or 1.0)
    ax.set_ylim(lows - gap, highs + gap)
    handles = []
    if many:
        ax.plot([0, 1], [effects["baseline"].median(), effects["post"].median()], color="black", linewidth=2.5,
                marker="o", zorder=4)
        handles.append(Line2D([], [], color="black", linewidth=2.5, marker="o", label="median"))
    else:
        placed = []
        for _, row in effects.sort_values("post").iterrows():
            spot = row["post"] if not placed else max(row["post"], placed[-1] + gap)
            placed.append(spot)
            ax.annotate(_short(row.get("name", row["case_id"])), (1, row["post"]), (1.08, spot), textcoords="data",
                        fontsize="x-small",
                        va="center", arrowprops={"arrowstyle": "-", "color": "#bbbbbb", "linewidth": 0.5})
    first = effects.iloc[0]
    ax.set_xticks([0, 1])
    ax.set_xticklabels(["baseline", "after adoption"])
    ax.set_xlim(-0.2, 1.3 if many else 1.75)
    unit = first.get("unit") if isinstance(first.get("unit"), str) else ""
    ax.set_ylabel(_plain(unit))
    title = f"{_kpi_name(first)} ({_direction(first['better'])})"
    ax.set_title(_plain(title + (f", {len(effects):,} organizations" if many else "")))
    key = "verdict" if "verdict" in effects else "interval"
    names = {"verdict": ("improved", "worsened", "no clear change"),
             "interval": ("CI above 0", "CI below 0", "CI includes 0")}[key]
    handles += [Line2D([], [], color=c, marker="o", label=n) for c, n in zip(("#2a7f3f", "#c03030", "#999999"), names)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(handles), fontsize="x-small",
              frameon=False)
    return ax


def _short(name: str, most: int = 24) -> str:
    """An organization's name short enough to label a line: its first words, up to ``most`` characters."""
    name = _plain(str(name))
    if len(name) <= most:
        return name
    return name[:most].rsplit(" ", 1)[0].rstrip(",;&") + "…"


def category_chart(summary: pd.DataFrame, ax=None):
    """Median improvement per SEI category with its range, beside a reference median where given.

    Parameters
    ----------
    summary : pandas.DataFrame
        :meth:`casekit.PortfolioComparison.categories`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure of the chart's own size).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit import plots
    >>> pf = ck.load_cases("cases")
    >>> ax = plots.category_chart(ck.compare_portfolio(pf).categories())
    >>> len(ax.get_yticklabels()) > 0
    True
    """
    ax = _axes(ax, (7, 3.5))
    data = summary.reset_index(drop=True)
    x = np.arange(len(data))
    ax.bar(x - 0.2, data["median"], width=0.4, color="#4c72b0", label="this portfolio (median)")
    ax.vlines(x - 0.2, data["lowest"], data["highest"], color="black", linewidth=1, label="range")
    if "reference_median" in data:
        ax.bar(x + 0.2, data["reference_median"], width=0.4, color="#c4c4c4", label="SEI 2006 median")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels(data["category"], rotation=20, ha="right")
    ax.set_ylabel("improvement (%)")
    ax.set_title("Improvement by performance category")
    ax.legend(fontsize="small")
    return ax
