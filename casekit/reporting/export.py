"""From executed notebooks to pages: the report's HTML (nbconvert, with the headline read by a preprocessor)
and the index of a render's reports (a Jinja template with autoescape)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pandas as pd

from ..errors import display_path

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATE = "casekit_report.html.j2"
INDEX_TEMPLATE = "index.html.j2"
FINDINGS_TAG = "findings"
PORTFOLIO = "portfolio"


@cache
def headline_preprocessor_class():
    """nbconvert's Preprocessor that puts the report's headline in ``resources["headline"]``.

    The headline is the first line the cell tagged ``findings`` printed (a
    kernel may split one print across several outputs).
    """
    from nbconvert.preprocessors import Preprocessor

    class HeadlinePreprocessor(Preprocessor):
        def preprocess(self, nb, resources):
            resources["headline"] = headline(nb)
            return nb, resources

    return HeadlinePreprocessor


def headline(nb) -> str:
    """The first non-empty line the notebook's ``findings`` cell printed, without a list bullet."""
    for cell in nb.cells:
        if FINDINGS_TAG in cell.metadata.get("tags", []):
            text = "".join(o["text"] for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            lines = [line for line in text.splitlines() if line.strip()]
            return lines[0].lstrip("- ").strip() if lines else ""
    return ""


_EXPORTERS: dict = {}


def html_exporter(no_input: bool):
    """nbconvert's HTML exporter with casekit's template and the headline preprocessor, made once per process.

    ``no_input`` hides code cells and prompts (nbconvert's ``exclude_input``).
    """
    if no_input not in _EXPORTERS:
        from nbconvert import HTMLExporter

        exporter = HTMLExporter(extra_template_paths=[str(TEMPLATES)], template_file=REPORT_TEMPLATE,
                                embed_images=True, exclude_input=no_input, exclude_input_prompt=no_input,
                                exclude_output_prompt=no_input)
        exporter.register_preprocessor(headline_preprocessor_class()(), enabled=True)
        _EXPORTERS[no_input] = exporter
    return _EXPORTERS[no_input]


def index_page(table: pd.DataFrame, cases_dir: Path, cases: pd.DataFrame | None) -> str:
    """The HTML of ``index.html``: every finished report with its case's details and headline, then failures.

    ``table`` is the render's table; ``cases`` is ``Portfolio.cases`` for
    (at least) the finished case reports.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    cases = None if cases is None else cases.set_index("case_id")
    reports = []
    for _, row in table[table["status"] == "ok"].iterrows():
        if row["report"] == PORTFOLIO:
            who, sector, maturity = "Portfolio: all organizations", "", ""
        else:
            case = cases.loc[row["report"]]
            who, sector = case["name"], case["sector"]
            maturity = f"{_maturity(case['maturity_before'])} → {_maturity(case['maturity_latest'])}"
        reports.append({"who": who, "sector": sector, "maturity": maturity, "headline": row["headline"],
                        "html": row["html"], "ipynb": row["ipynb"]})
    failures = [{"report": row["report"], "error": row["error"], "ipynb": row["ipynb"],
                 "cell": "" if pd.isna(row["cell"]) else int(row["cell"])}
                for _, row in table[table["status"] == "failed"].iterrows()]
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    return environment.get_template(INDEX_TEMPLATE).render(reports=reports, failures=failures,
                                                           cases_dir=display_path(cases_dir))


def _maturity(level) -> str:
    return "not rated" if pd.isna(level) else f"ML{level}"


def write_atomically(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` under a temporary name first, so ``path`` never holds half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
