"""A fingerprint of everything a report is rendered from, so that a report whose inputs are unchanged is skipped."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from ..version import VERSION


@lru_cache(maxsize=1)
def _casekit_code() -> str:
    """casekit's version and the hash of its source: a code change re-renders everything."""
    digest = hashlib.sha256(VERSION.encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".csv", ".j2"} and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(notebook: Path, parameters: dict, no_input: bool, case_digests: dict[str, dict[str, str]]) -> str:
    """A hash of everything a report is rendered from: notebook, parameters, casekit, the case files it reads.

    ``case_digests`` holds, for each case the report reads, the SHA-256 of each of its files as validation
    read them (``ParsedCase.digests``): the files are read once per render, and only those casekit reads
    count (anything else in a case folder is never read, however large).

    Parameters
    ----------
    notebook : pathlib.Path
        The report's notebook.
    parameters : dict
        Its parameters.
    no_input : bool
        The readers' report, or the analyst's.
    case_digests : dict of str to dict of str to str
        Per case, its files' SHA-256 by name.

    Returns
    -------
    str
        A SHA-256, hexadecimal.

    Examples
    --------
    >>> import pathlib
    >>> notebook = pathlib.Path("notebooks/case_report.ipynb")
    >>> one = fingerprint(notebook, {"case_id": "acme"}, True, {"acme": {"kpis.csv": "ab12"}})
    >>> one == fingerprint(notebook, {"case_id": "acme"}, True, {"acme": {"kpis.csv": "ab13"}})
    False
    """
    digest = hashlib.sha256(_casekit_code().encode())
    digest.update(Path(notebook).read_bytes())
    digest.update(json.dumps({"parameters": parameters, "no_input": no_input}, sort_keys=True).encode())
    for case_id in sorted(case_digests):
        for name, file_digest in sorted(case_digests[case_id].items()):
            digest.update(f"{case_id}/{name}".encode() + b"\0" + file_digest.encode())
    return digest.hexdigest()
