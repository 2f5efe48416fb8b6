"""A fingerprint of everything a report is rendered from, so that a report whose inputs are unchanged is skipped."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from ..inputs.casefiles import CASE_FILES, plain_file_problem
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


def fingerprint(notebook: Path, parameters: dict, no_input: bool, case_folders: list[Path]) -> str:
    """A hash of everything a report is rendered from: notebook, parameters, casekit, the case files it reads.

    Only the files casekit reads in a case folder count (``casefiles.CASE_FILES``, as plain files): anything
    else there is never read, however large.
    """
    digest = hashlib.sha256(_casekit_code().encode())
    digest.update(Path(notebook).read_bytes())
    digest.update(json.dumps({"parameters": parameters, "no_input": no_input}, sort_keys=True).encode())
    for folder in case_folders:
        for name in CASE_FILES:
            path = Path(folder) / name
            if plain_file_problem(path) is None:
                digest.update(f"{Path(folder).name}/{name}".encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
