"""Charts for the reports: each takes casekit's tidy tables and an optional ``ax``, returns the Axes.

Titles, units and each KPI's direction come from the data. Nothing here calls
``plt.show()``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

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


def kpi_chart(chart: pd.DataFrame, ax=None):
    """One KPI over time: values by phase, the transition shaded, each phase's XmR limits.

    ``chart`` is :func:`casekit.xmr_phases` applied to one KPI's rows of
    ``Portfolio.kpis`` (``date, value, phase, label, unit, better, center,
    lcl, ucl``).
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
    flagged = chart[chart["signal"] != ""] if "signal" in chart else chart.iloc[0:0]
    ax.scatter(flagged["date"], flagged["value"], s=40, facecolors="none", edgecolors="crimson", zorder=3,
               label="XmR signal")
    first = chart.iloc[0]
    ax.set_title(_plain(f"{first['label']} ({_direction(first['better'])})"))
    ax.set_xlabel("")
    ax.set_ylabel(_plain(first["unit"]))
    ax.legend(loc="best", fontsize="small")
    return ax


def maturity_chart(appraisals: pd.DataFrame, ax=None):
    """Maturity levels appraised over time (rated appraisals filled, informal ones hollow at their level or 1)."""
    ax = _axes(ax, (8, 2.8))
    data = appraisals.assign(level=appraisals["maturity_level"].astype("Float64").fillna(1).astype(float))
    rated = data[data["rated"]]
    ax.step(rated["date"], rated["level"], where="post", color="#4c72b0", linewidth=1.5)
    _label_before_seaborn(ax)
    sns.scatterplot(data=data, x="date", y="level", hue="method", style="rated", s=90, ax=ax)
    ax.set_ylim(0.5, 5.5)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_ylabel("maturity level")
    ax.set_xlabel("")
    ax.set_title("Appraisals and maturity level")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def capability_heatmap(practice_areas: pd.DataFrame, columns: str = "date", ax=None):
    """Capability level (0-3) per practice area, by appraisal date or (``columns="case_id"``) by organization."""
    table = practice_areas.copy()
    if columns == "date":
        table["date"] = table["date"].dt.strftime("%Y-%m")
        grid = table.pivot_table(index="practice_area", columns="date", values="capability_level", aggfunc="max")
    else:
        latest = table.sort_values("date").groupby(["case_id", "practice_area"]).last().reset_index()
        grid = latest.pivot(index="practice_area", columns=columns, values="capability_level")
    grid.index = [_plain(area) for area in grid.index]
    ax = _axes(ax, (1.2 + 0.9 * grid.shape[1], 0.6 + 0.35 * grid.shape[0]))
    sns.heatmap(grid, annot=True, fmt=".0f", cmap="Blues", vmin=0, vmax=3, cbar_kws={"label": "capability level"},
                linewidths=0.5, ax=ax)
    ax.set_title("Practice-area capability levels (0-3)")
    ax.set_xlabel("")
    ax.set_ylabel("")
    return ax


def forest_plot(effects: pd.DataFrame, pooled: pd.Series | None = None, ax=None):
    """Each case's improvement with its CI, and the pooled estimate with CI and prediction interval.

    ``effects``: rows of :func:`casekit.kpi_effects` for one KPI; ``pooled``:
    that KPI's row of :func:`casekit.compare_portfolio`.
    """
    data = effects.sort_values("improvement").reset_index(drop=True)
    ax = _axes(ax, (7, 1 + 0.4 * (len(data) + 2)))
    y = np.arange(len(data))
    ax.errorbar(data["improvement"], y, xerr=[data["improvement"] - data["ci_low"], data["ci_high"] - data["improvement"]],
                fmt="s", color="#4c72b0", capsize=3)
    labels = list(data["case_id"])
    if pooled is not None and np.isfinite(pooled["pooled_improvement"]):
        at = -1.5
        if np.isfinite(pooled["pi_low"]):
            ax.hlines(at, pooled["pi_low"], pooled["pi_high"], colors="#dd8452", linewidth=1, label="prediction interval")
        diamond_x = [pooled["pooled_ci_low"], pooled["pooled_improvement"], pooled["pooled_ci_high"], pooled["pooled_improvement"]]
        ax.fill(diamond_x, [at, at + 0.3, at, at - 0.3], color="#dd8452", label="pooled (random effects)")
        y = np.r_[y, at]
        labels.append(f"pooled, I² = {100 * pooled['i2']:.0f}%")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    unit = data["improvement_unit"].iloc[0] if len(data) else "%"
    first = effects.iloc[0]
    ax.set_xlabel(f"improvement ({unit}, {_direction(first['better'])} → positive)")
    ax.set_title(f"{first['kpi']}: improvement by organization")
    if pooled is not None:
        ax.legend(loc="lower right", fontsize="small")
    return ax


def slope_chart(effects: pd.DataFrame, ax=None):
    """Baseline and post-adoption level of one KPI, one line per organization."""
    ax = _axes(ax, (4.5, 4))
    for _, row in effects.iterrows():
        color = "#55a868" if row["improvement"] > 0 else "#c44e52"
        ax.plot([0, 1], [row["baseline"], row["post"]], marker="o", color=color)
        ax.annotate(row["case_id"], (1.02, row["post"]), fontsize="x-small", va="center")
    first = effects.iloc[0]
    ax.set_xticks([0, 1])
    ax.set_xticklabels(["baseline", "after adoption"])
    ax.set_xlim(-0.2, 1.6)
    ax.set_title(f"{first['kpi']} ({_direction(first['better'])})")
    return ax


def category_chart(summary: pd.DataFrame, ax=None):
    """Median improvement per SEI category with its range, beside a reference median where given."""
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
