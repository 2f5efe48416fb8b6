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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
