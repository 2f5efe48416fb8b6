"""What each of the rendering stack's speed measures is worth: ``casekit render`` with each one turned off.

The render processes carry two measures that reach into other libraries:

- ``gc-freeze``: the render server freezes its objects for the garbage collector before each
  fork (``gc.freeze``), so that a report's collections neither walk nor copy them;
- ``iri-stand-in``: a stand-in for ``rfc3987_syntax``, whose import builds a Lark grammar
  (python-jsonschema/jsonschema#1392), until an IRI is validated.

A third, a patch of matplotlib's private ``Axis._update_ticks`` that worked each axis's ticks out
once per chart, was measured here at 2–4% and removed; the variant ``with ticks-once`` puts it
back, for comparison. benchmarks/README.md has the figures.

Each variant turns one off (or, for the removed one, on) in every process the command starts,
through a ``sitecustomize`` module on ``PYTHONPATH`` that patches casekit as it is imported
(casekit's own code is run as it is). The variants alternate, round after round, so that the machine's drift falls on
all of them alike; the figure is seconds per report, the command's wall time over the
reports it wrote.

    python benchmarks/hacks_bench.py [--copies K] [--rounds R] [--python PATH ...] [--only NAME ...]

``--python`` renders with these environments' interpreters (each with the casekit installed in
it), for example two with different matplotlibs, or two casekit versions: every variant runs
under each, alternating, so that the environments are compared in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_bench import ROOT, copy_cases, reports  # noqa: E402

# Each variant's sitecustomize: a post-import hook that patches one casekit module when it is first imported.
_HOOK = '''
import importlib.abc, importlib.machinery, sys

PATCHES = {patches!r}


class _Patching(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            return None
        exec_module = spec.loader.exec_module

        def patched(module):
            exec_module(module)
            exec(PATCHES[name], module.__dict__)

        spec.loader.exec_module = patched
        return spec


sys.meta_path.insert(0, _Patching())
'''

_TICKS_ONCE = """
import contextlib as _contextlib
from matplotlib.axis import Axis as _Axis
_png = figure_png


def figure_png(fig):
    original, cache = _Axis._update_ticks, {}

    def update_ticks(self):
        key = (self, *self.get_view_interval(), *self.axes.bbox.bounds)
        if key not in cache:
            cache[key] = original(self)
        return cache[key]

    _Axis._update_ticks = update_ticks
    try:
        return _png(fig)
    finally:
        _Axis._update_ticks = original
"""

VARIANTS = {
    "baseline": {},
    "no gc-freeze": {"casekit.rendering._fast.forking": "import gc as _gc\nclass _NoFreeze:\n"
                     "    def __getattr__(self, name): return (lambda: None) if name == 'freeze' else getattr(_gc, name)\n"
                     "gc = _NoFreeze()"},
    "no iri-stand-in": {"casekit.rendering._fast.forking": "defer_iri_grammar = lambda: None"},
    # the removed measure, put back for comparison: each axis's ticks worked out once per chart
    "with ticks-once": {"casekit.report.inline": _TICKS_ONCE},
}


def site_folder(patches: dict, folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "sitecustomize.py").write_text(textwrap.dedent(_HOOK.format(patches=patches)), encoding="utf-8")
    return folder


def render_once(python: Path, cases: Path, out: Path, site: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(site)}
    started = time.perf_counter()
    # `python -m casekit` from outside any checkout: each environment renders with the casekit installed in it
    subprocess.run([str(python), "-m", "casekit", "render", str(cases), "--out", str(out), "--jobs", "2",
                    "--no-progress-bar", "--force"], check=True, capture_output=True, env=env, cwd=out.parent)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="render K copies of every shipped case (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="renders of each variant (default 3)")
    parser.add_argument("--python", nargs="+", default=[sys.executable], help="the interpreters whose casekit renders")
    parser.add_argument("--only", nargs="*", choices=sorted(VARIANTS), help="these variants (baseline always)")
    args = parser.parse_args()
    names = ["baseline", *[name for name in VARIANTS if name != "baseline" and (not args.only or name in args.only)]]
    pythons = {}
    for python in map(Path, args.python):
        version = subprocess.run([str(python), "-c", "import matplotlib; print(matplotlib.__version__)"],
                                 check=True, capture_output=True, text=True, cwd=python.parent).stdout.strip()
        pythons[f"{python.parent.parent.name}, matplotlib {version}" if len(args.python) > 1 else ""] = python
    runs = [(env, name) for env in pythons for name in names]
    with tempfile.TemporaryDirectory() as tmp:
        cases = copy_cases(ROOT / "cases", args.copies, Path(tmp) / "cases")
        count = len(reports(cases))
        sites = {name: site_folder(VARIANTS[name], Path(tmp) / f"site{k}") for k, name in enumerate(names)}
        seconds = {run: [] for run in runs}
        for round_ in range(args.rounds):
            for k, (env, name) in enumerate(runs):
                out = Path(tmp) / f"out{round_}-{k}"
                seconds[env, name].append(render_once(pythons[env], cases, out, sites[name]) / count)
    print(f"{count} reports a render (ipynb + HTML, --jobs 2), {args.rounds} rounds\n")
    base = statistics.median(seconds[runs[0]])
    print(f"{'variant':36} {'s/report (median)':>18} {'vs first':>9}   each round")
    for env, name in runs:
        median = statistics.median(seconds[env, name])
        rounds = ", ".join(f"{s:.2f}" for s in seconds[env, name])
        print(f"{(env + ' ' + name).strip():36} {median:18.2f} {100 * (median / base - 1):+8.0f}%   {rounds}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
