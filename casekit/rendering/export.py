"""From executed notebooks to pages: the report's HTML (nbconvert, with the headline read by a preprocessor)
and the index of a render's reports (a Jinja template with autoescape)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from ..report.formats import FINDINGS_MIME
from ..report.summary import maturity_label

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATE = "casekit_report.html.j2"
INDEX_TEMPLATE = "index.html.j2"
FINDINGS_TAG = "findings"
ANALYST_TAG = "analyst"  # cells for the analyst running the notebook, left out of reports rendered without code
PORTFOLIO = "portfolio"


@cache
def _headline_preprocessor_class():
    """nbconvert's Preprocessor that puts the report's headline in ``resources["headline"]``.

    The headline is the first line the cell tagged ``findings`` printed (a
    kernel may split one print across several outputs).
    """
    from nbconvert.preprocessors import Preprocessor

    class HeadlinePreprocessor(Preprocessor):
        def preprocess(self, nb, resources):
            resources["headline"] = headline(nb)
            resources["improved"], resources["worsened"] = verdict_kpis(nb)
            return nb, resources

    return HeadlinePreprocessor


def _findings_lines(nb) -> list[str]:
    """The lines of the notebook's ``findings`` cell, without list bullets: what it printed to stdout (not its
    warnings), or else the plain text of what it displayed (``CaseComparison.summary()`` and the like)."""
    for cell in nb.cells:
        if FINDINGS_TAG in cell.metadata.get("tags", []):
            outputs = cell.get("outputs", [])
            text = "".join(o["text"] for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stdout")
            if not text.strip():
                text = "\n".join(_joined(o.get("data", {}).get("text/plain", "")) for o in outputs
                                 if o.get("output_type") in ("execute_result", "display_data"))
            return [line.lstrip("- ").strip() for line in text.splitlines() if line.strip()]
    return []


def _joined(text) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def _findings_data(nb) -> dict:
    """The verdicts the notebook's ``findings`` cell displayed as data (:meth:`casekit.Findings.verdicts`, under
    :data:`~casekit.report.formats.FINDINGS_MIME`), or an empty dict when it displayed none (a notebook of the
    user's own that prints its findings)."""
    for cell in nb.cells:
        if FINDINGS_TAG in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                data = output.get("data", {}).get(FINDINGS_MIME) if output.get("output_type") in (
                    "execute_result", "display_data") else None
                if isinstance(data, dict):
                    return data
    return {}


def headline(nb) -> str:
    """The report's headline: from the findings' data, else the first line the ``findings`` cell printed (a
    kernel may split a print across outputs).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed report.

    Returns
    -------
    str
        ``""`` for a notebook without findings.

    Examples
    --------
    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell("", metadata={"tags": ["findings"]})
    >>> cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="3 of 5 KPIs improved.\\nDetails")]
    >>> headline(nbformat.v4.new_notebook(cells=[cell]))
    '3 of 5 KPIs improved.'
    """
    data = _findings_data(nb)
    if isinstance(data.get("headline"), str):
        return data["headline"]
    lines = _findings_lines(nb)
    return lines[0] if lines else ""


def verdict_kpis(nb) -> tuple[list[str], list[str]]:
    """The labels of the KPIs the findings call improved, and of those they call worsened, from the findings'
    data; none for a notebook that displayed no such data.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed report.

    Returns
    -------
    improved, worsened : list of str

    Examples
    --------
    >>> import nbformat
    >>> verdict_kpis(nbformat.v4.new_notebook())
    ([], [])
    """
    data = _findings_data(nb)
    return tuple([str(label) for label in data.get(verdict, []) if isinstance(label, str)]
                 for verdict in ("improved", "worsened"))


_EXPORTERS: dict = {}


def html_exporter(no_input: bool):
    """nbconvert's HTML exporter with casekit's template and the headline preprocessor, made once per process.

    ``no_input`` hides code cells and prompts (nbconvert's ``exclude_input``) and the cells tagged
    ``analyst`` (how to run the notebook).

    Parameters
    ----------
    no_input : bool
        The readers' report (no code), or the analyst's.

    Returns
    -------
    nbconvert.HTMLExporter

    Examples
    --------
    >>> html_exporter(True) is html_exporter(True), html_exporter(True).exclude_input
    (True, True)
    """
    if no_input not in _EXPORTERS:
        from nbconvert import HTMLExporter

        exporter = HTMLExporter(extra_template_paths=[str(TEMPLATES)], template_file=REPORT_TEMPLATE,
                                embed_images=True, exclude_input=no_input, exclude_input_prompt=no_input,
                                exclude_output_prompt=no_input)
        exporter.register_preprocessor(_headline_preprocessor_class()(), enabled=True)
        if no_input:  # a reader without the code needs no note on how to run it either
            from nbconvert.preprocessors import TagRemovePreprocessor

            exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={ANALYST_TAG}, enabled=True),
                                           enabled=True)
        _EXPORTERS[no_input] = exporter
    return _EXPORTERS[no_input]


def index_page(entries: dict, cases_dir: Path, cases: pd.DataFrame | None) -> str:
    """The HTML of ``index.html``: every report in the folder with its case's details and headline, then failures.

    ``entries`` are the manifest's (every report casekit has written into the
    folder, whichever run wrote it); ``cases`` is ``Portfolio.cases`` for the
    valid cases among them (a report whose case is gone or invalid shows by id).
    A report whose latest render failed is listed with its last good copy,
    marked as such.

    Parameters
    ----------
    entries : dict of str to dict
        The manifest's entries.
    cases_dir : pathlib.Path
        The cases folder.
    cases : pandas.DataFrame or None
        The valid cases' details.

    Returns
    -------
    str
        The page's HTML.

    Examples
    --------
    >>> import pathlib
    >>> page = index_page({}, pathlib.Path("cases"), None)
    >>> "<html" in page
    True
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    cases = None if cases is None else cases.set_index("case_id")
    reports, failures = [], []
    for name in sorted(entries, key=lambda n: (n == PORTFOLIO, n)):  # cases by id, then the portfolio
        entry = entries[name]
        if entry.get("html"):
            who, sector, maturity = name, "", ""
            if name == PORTFOLIO:
                covered = entry.get("cases")
                who = f"Portfolio: {len(covered)} organizations" if isinstance(covered, list) else "Portfolio"
            elif cases is not None and name in cases.index:
                case = cases.loc[name]
                who, sector = case["name"], case["sector"]
                maturity = f"{maturity_label(case['maturity_before'])} → {maturity_label(case['maturity_latest'])}"
            reports.append({"who": who, "sector": sector, "maturity": maturity, "headline": entry.get("headline", ""),
                            "html": entry["html"], "ipynb": entry.get("ipynb", ""), "pdf": entry.get("pdf", ""),
                            "portfolio": name == PORTFOLIO,
                            "improved": _names(entry.get("improved")), "worsened": _names(entry.get("worsened")),
                            "stale": entry.get("status") != "ok"})
        if entry.get("status") != "ok":
            cell = entry.get("cell")
            failures.append({"report": name, "error": entry.get("error", ""), "ipynb": entry.get("failed_ipynb", ""),
                             "cell": cell if isinstance(cell, int) else "", "kept": bool(entry.get("html"))})
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    portfolio = next((r for r in reports if r["portfolio"]), None)
    return environment.get_template(INDEX_TEMPLATE).render(
        reports=[r for r in reports if not r["portfolio"]], portfolio=portfolio, failures=failures,
        cases_dir=Path(cases_dir).name)  # the folder's name: no path of the machine that rendered it


def _names(value) -> str:
    return ", ".join(v for v in value if isinstance(v, str)) if isinstance(value, list) else ""

