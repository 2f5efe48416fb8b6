"""A fingerprint of everything a report is rendered from, so that a report whose inputs are unchanged is skipped."""

from __future__ import annotations

import hashlib
import json
import os
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


def fingerprint(notebook: Path, parameters: dict, no_input: bool, inputs: list[Path]) -> str:
    """A hash of everything a report is rendered from: notebook, parameters, casekit, input files."""
    digest = hashlib.sha256(_casekit_code().encode())
    digest.update(Path(notebook).read_bytes())
    digest.update(json.dumps({"parameters": parameters, "no_input": no_input}, sort_keys=True).encode())
    for folder in inputs:
        files = sorted(p for p in Path(folder).rglob("*") if p.is_file()) if Path(folder).is_dir() else [Path(folder)]
        for path in files:
            if path.exists():
                digest.update(str(path.relative_to(path.parents[1])).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
