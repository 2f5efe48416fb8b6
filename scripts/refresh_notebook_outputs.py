"""Re-run the notebooks and keep only the outputs nbval checks.

Notebooks are stored without outputs, except cells marked ``# NBVAL_CHECK_OUTPUT``,
whose outputs are the regression values `pytest --nbval-lax` compares against.
Run this after a change that rightly moves those numbers, and review the diff:

    .venv/bin/python scripts/refresh_notebook_outputs.py [NOTEBOOK ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MARK = "NBVAL_CHECK_OUTPUT"


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if MARK not in cell.source:
            cell.outputs = []
            cell.execution_count = None  # nbval needs the count only on cells whose outputs it checks
        cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    nbformat.write(nb, path)
    print(f"refreshed {path.relative_to(ROOT)}")


def main(paths: list[str]) -> None:
    targets = [Path(p).resolve() for p in paths] or sorted((ROOT / "casekit" / "notebooks").glob("*.ipynb"))
    for path in targets:
        refresh(path)


if __name__ == "__main__":
    main(sys.argv[1:])
