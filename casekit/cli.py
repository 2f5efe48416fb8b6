"""The `casekit` command: each subcommand is a thin skin over the public function of the same name."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import CaseError
from .loading import load_cases
from .summary import case_overview
from .validation import validate_cases


def _validate(args: argparse.Namespace) -> int:
    problems = validate_cases(args.cases_dir)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print(f"{args.cases_dir}: all cases valid.", file=sys.stderr)
    return 0


def _summary(args: argparse.Namespace) -> int:
    try:
        portfolio = load_cases(args.cases_dir)
    except CaseError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) found; run `casekit validate`.", file=sys.stderr)
        return 1
    print(case_overview(portfolio).to_string(index=False))
    return 0


def _render(args: argparse.Namespace) -> int:
    from .render import RenderError, render

    try:
        table = render(args.cases_dir, args.out, jobs=args.jobs, case_ids=args.case or None, no_input=args.no_input,
                       timeout=args.timeout, progress=not args.no_progress_bar)
    except RenderError as exc:
        print(f"casekit render: {exc}", file=sys.stderr)
        return 2
    failed = table[table["status"] == "failed"]
    print(f"{len(table) - len(failed)} report(s) rendered, {len(failed)} failed; index: {args.out}/index.html")
    for _, row in failed.iterrows():
        where = f" (cell {int(row['cell'])})" if row["cell"] == row["cell"] and row["cell"] is not None else ""
        kept = f"; partial notebook {args.out}/{row['ipynb']}" if row["ipynb"] else ""
        print(f"FAILED {row['report']}{where}: {row['error']}{kept}")
    return 1 if len(failed) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casekit", description="CMMI case studies: validate, analyse, report.")
    parser.add_argument("--version", action="version", version=f"casekit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, func, text in (
        ("validate", _validate, "check every case and print each problem as path:line: field: message"),
        ("summary", _summary, "print one line per case: sector, adoption, data, maturity"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("cases_dir", nargs="?", default="cases", metavar="CASES_DIR",
                         help="folder with one folder per case (default: cases)")
        sub.set_defaults(func=func)
    render = commands.add_parser("render", help="render every case report and the portfolio report (ipynb + HTML)",
                                 description="Render case and portfolio reports with papermill, in parallel.")
    render.add_argument("cases_dir", nargs="?", default="cases", metavar="CASES_DIR")
    render.add_argument("--out", default="reports", help="output folder (default: reports)")
    render.add_argument("--jobs", type=int, default=2, help="reports rendered at once (default: 2)")
    render.add_argument("--case", action="append", metavar="ID", help="render only this case (repeatable)")
    render.add_argument("--no-input", action="store_true", help="hide code in the HTML reports")
    render.add_argument("--timeout", type=float, default=600, help="seconds a cell may run (default: 600)")
    render.add_argument("--no-progress-bar", action="store_true", help="no progress bar")
    render.set_defaults(func=_render)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
