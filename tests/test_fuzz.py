"""Property-based fuzzing of the loader: no input raises anything but casekit's CaseError."""

import shutil
import tempfile
from pathlib import Path

from conftest import write_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import casekit as ck

FILES = ["case.yaml", "kpis.csv", "appraisals.csv", "practice_areas.csv"]
TOKENS = st.sampled_from([
    "", ",", ":", "- ", "\n", '"', "'", "[", "{", "!!python/object:os.system", "&a", "*a", "2020-02-30", "2020-13",
    "2020-Q5", "nan", "inf", "-1", "1e400", "0", "SCAMPI A", "Benchmark", "defect_density", "review_coverage", "\t",
    "\x00", "\ufeff", "é", "null", "yes", "~", "99999999999999999999", "  start: 2020-01", "kpis: []", "id: acme",
])
MUTATION = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.lists(TOKENS | st.text(max_size=8), max_size=4)),
    st.tuples(st.just("replace_line"), st.integers(0, 200), st.lists(TOKENS | st.text(max_size=12), max_size=5)),
    st.tuples(st.just("bytes"), st.integers(0, 10_000), st.binary(max_size=12)),
    st.tuples(st.just("truncate"), st.integers(0, 10_000), st.just([])),
)


def _apply(path: Path, mutation) -> None:
    kind, position, payload = mutation
    data = path.read_bytes()
    if kind == "bytes":
        at = position % (len(data) + 1)
        path.write_bytes(data[:at] + payload + data[at:])
        return
    text = data.decode("utf-8", errors="surrogateescape")
    if kind == "insert":
        at = position % (len(text) + 1)
        text = text[:at] + "".join(payload) + text[at:]
    elif kind == "replace_line":
        lines = text.split("\n")
        lines[position % len(lines)] = "".join(payload)
        text = "\n".join(lines)
    else:
        text = text[: position % (len(text) + 1)]
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(FILES), MUTATION), min_size=1, max_size=4))
def test_loader_raises_only_case_errors(mutations):
    root = Path(tempfile.mkdtemp())
    try:
        write_case(root / "acme")
        for filename, mutation in mutations:
            _apply(root / "acme" / filename, mutation)
        problems = ck.validate_cases(root)
        assert all(isinstance(p, ck.errors.Problem) and p.path for p in problems)
        try:
            portfolio = ck.load_cases(root)
        except ck.CaseError as exc:
            assert exc.problems == problems and problems
            return
        assert problems == []
        assert not ck.compare_case(portfolio, "acme").table.empty  # what loads, analyses
    finally:
        shutil.rmtree(root, ignore_errors=True)
