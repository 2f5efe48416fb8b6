"""The `casekit` command: each subcommand is a thin skin over the public function of the same name."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .errors import CaseError, CasekitError, RenderError, RenderInterrupted
from .inputs.loading import load_cases
from .inputs.validation import check_case
from .report.summary import overview_text
from .version import VERSION


def _validate(args: argparse.Namespace) -> int:
    from .inputs.cautions import problems_and_warnings

    problems, warnings = problems_and_warnings(args.cases_dir)
    for problem in sorted(problems + warnings, key=lambda p: (p.path, p.line or 0)):
        print(problem)
    counted = f" and {len(warnings)} warning(s) (valid, but check them)" if warnings else ""
    if problems:
        print(f"{len(problems)} problem(s){counted} found.", file=sys.stderr)
        return 1
    print(f"{args.cases_dir}: all cases valid" + (f"; {len(warnings)} warning(s) to check." if warnings else "."),
          file=sys.stderr)
    return 0


def _summary(args: argparse.Namespace) -> int:
    try:
        portfolio = load_cases(args.cases_dir)
    except CaseError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) found; run `casekit validate`.", file=sys.stderr)
        return 1
    print(overview_text(portfolio))
    return 0


def _refused(command: str, error: Exception) -> int:
    """Print a refusal, one line per problem, and return the usage error's status."""
    for line in str(error).splitlines():
        print(f"casekit {command}: {line}", file=sys.stderr)
    return 2


def _parameters(args: argparse.Namespace) -> dict:
    from .rendering.parameters import parse_value, parse_yaml_parameters

    parameters = {name: parse_value(value) for name, value in args.parameters or []}
    for text in args.yaml_parameters or []:
        parameters.update(parse_yaml_parameters(text))
    return parameters


def _render(args: argparse.Namespace) -> int:
    from .rendering import render
    from .rendering.export import PORTFOLIO

    try:
        from .rendering.cluster import security_from_files

        parameters = _parameters(args)
        security = security_from_files(args.tls_ca_file, args.tls_cert, args.tls_key)
        table = render(args.cases_dir, args.out, jobs=args.jobs, case_ids=args.case or None, no_input=not args.with_code,
                       timeout=args.timeout, progress=not args.no_progress_bar, force=args.force, engine=args.engine,
                       scheduler=args.scheduler, notebooks=args.notebooks, parameters=parameters,
                       memory_limit=args.memory_limit, security=security, pdf=args.pdf)
    except RenderError as exc:
        return _refused("render", exc)
    except RenderInterrupted as stop:
        done = stop.table[stop.table["status"] == "ok"]
        print(f"interrupted: {len(done)} report(s) finished and listed in {args.out}/index.html; "
              "nothing half-written was left", file=sys.stderr)
        return 128 + stop.signal_number
    for note in table.attrs.get("notes", []):
        print(f"note: {note}")
    failed = table[table["status"] == "failed"]
    skipped = int(table["skipped"].sum())
    unchanged = f", {skipped} unchanged since the last render (not run again)" if skipped else ""
    print(f"{len(table)} report{'' if len(table) == 1 else 's'}: {len(table) - len(failed) - skipped} rendered"
          f"{unchanged}, {len(failed)} failed; index: {args.out}/index.html")
    valid = int((table["report"] != PORTFOLIO).sum()) - int(failed["error"].str.startswith("invalid case").sum())
    if PORTFOLIO not in set(table["report"]) and valid < 2:
        print(f"no portfolio report: it compares two or more valid cases, and this render had {valid}")
    print("the reports show the code, for analysts" if args.with_code else
          "the reports are for readers, without code (--with-code renders the analyst's version)")
    for _, row in failed.iterrows():
        where = f" (cell {int(row['cell'])})" if _is_number(row["cell"]) else ""
        kept = f"; partial notebook {args.out}/{row['ipynb']}" if row["ipynb"] else ""
        print(f"FAILED {row['report']}{where}: {row['error']}{kept}")
    _print_warnings(table.attrs.get("warnings", []), args.cases_dir)
    return 1 if len(failed) else 0


SHOWN_WARNINGS = 5


def _print_warnings(warnings: list[str], cases_dir) -> None:
    """The rendered cases' warnings (valid, but probably wrong), the first few: a report is no place to find them."""
    for warning in warnings[:SHOWN_WARNINGS]:
        print(warning)
    if len(warnings) > SHOWN_WARNINGS:
        print(f"... and {len(warnings) - SHOWN_WARNINGS} more warning(s): run `casekit validate {cases_dir}`")


def _is_number(value) -> bool:
    """True for a cell index; False for None and NaN (a failure outside any cell)."""
    return value is not None and value == value


def _new(args: argparse.Namespace) -> int:
    from .inputs.scaffold import new_case

    try:
        folder = new_case(args.case_id, args.cases, published=args.published)
    except ValueError as exc:
        print(f"casekit new: {exc}", file=sys.stderr)
        return 2
    print(f"created {folder}: edit its files, then run `casekit validate {args.cases}`")
    return 0


def _import(args: argparse.Namespace) -> int:
    from .inputs.spreadsheets import SpreadsheetError, import_kpis

    try:
        result = import_kpis(args.source, args.case_dir, sheet=_sheet(args.sheet), layout=args.layout,
                             dayfirst=args.dayfirst, decimal=args.decimal,
                             appraisals_sheet=_sheet(args.appraisals_sheet), force=args.force, dry_run=args.dry_run,
                             columns=_mapping(args.map or []), comparison=args.comparison)
    except SpreadsheetError as exc:
        print(f"casekit import: {exc}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(f"- {note}")
    kpis = result.kpis
    counts = ", ".join(f"{k} ({n})" for k, n in kpis["kpi"].value_counts(sort=False).items())
    print(f"{len(kpis)} measurement(s) of {kpis['kpi'].nunique()} KPI(s), {kpis['period'].min()} to "
          f"{kpis['period'].max()}: {counts}")
    if args.dry_run:
        print(kpis.head(8).to_string(index=False))
        print("dry run: nothing written")
        return 0
    for path in result.written:
        print(f"wrote {path}")
    folder = Path(args.case_dir)
    _, problems = check_case(folder)
    for problem in problems:
        print(problem)
    print(f"{folder}: " + (f"valid; render it with `casekit render {folder.parent}`" if not problems
                           else f"{len(problems)} problem(s) left to fix in the case's files"))
    return 1 if problems else 0


def _mapping(pairs: list[str]) -> dict[str, str]:
    """``--map "COLUMN=kpi"`` options as ``{column: kpi}`` (the last ``=`` splits, so a column may hold one)."""
    from .inputs.spreadsheets import SpreadsheetError

    mapping = {}
    for pair in pairs:
        column, equals, kpi = pair.rpartition("=")
        if not equals or not column.strip() or not kpi.strip():
            raise SpreadsheetError(f"--map {pair!r}: write COLUMN=kpi, such as --map \"Defects found=defect_density\"")
        mapping[column.strip()] = kpi.strip()
    return mapping


def _export(args: argparse.Namespace) -> int:
    import pandas as pd

    from .inputs.project import reference_path
    from .report.excel import export_excel

    try:
        portfolio = load_cases(args.cases_dir)
        path = export_excel(portfolio, args.xlsx, alpha=args.alpha, correction=args.correction,
                            meta_method=args.meta_method, reference=pd.read_csv(reference_path()), force=args.force)
    except CaseError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) found; run `casekit validate`.", file=sys.stderr)
        return 1
    except CasekitError as exc:
        print(f"casekit export: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: {len(portfolio.cases)} case(s), alpha {args.alpha:g}, {args.correction} correction")
    return 0


def _sheet(value: str | None):
    return int(value) if value is not None and value.isascii() and value.isdigit() else value


def _simulate(args: argparse.Namespace) -> int:
    from .inputs.simulate import simulate_portfolio

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        print(f"casekit simulate: {out} is not empty; choose a new folder", file=sys.stderr)
        return 2
    try:
        portfolio = simulate_portfolio(args.orgs, args.effect, args.seed, kpis=tuple(args.kpi or
                                       ("defect_density", "on_time_delivery")), heterogeneity=args.heterogeneity,
                                       noise=args.noise, trend=args.trend, out=out, comparison=args.comparison,
                                       shared_shock=args.shared_shock, market_turn=args.market_turn)
    except ValueError as exc:
        print(f"casekit simulate: {exc}", file=sys.stderr)
        return 2
    truth = portfolio.truth.groupby("kpi")["true_improvement"].mean()
    print(f"wrote {len(portfolio.cases)} cases to {out}; true mean improvement: "
          + ", ".join(f"{kpi} {value:.1f}%" for kpi, value in truth.items()))
    return 0


def _plan(args: argparse.Namespace) -> int:
    from .report.plan import plan

    from_case = args.case is not None or args.kpi is not None
    if from_case and (args.case is None or args.kpi is None):
        print("casekit plan: give both --case and --kpi (or --months-before, --phi and --noise)", file=sys.stderr)
        return 2
    try:
        portfolio = load_cases(args.cases_dir) if from_case else None
        programme = plan(portfolio, args.case, args.kpi, months_before=args.months_before, phi=args.phi,
                         noise=args.noise, change=args.change, transition=args.transition,
                         comparison=args.comparison, kpis=args.kpis, tau=args.tau, alpha=args.alpha,
                         staggered=args.staggered, mean=args.mean, dispersion=args.dispersion)
    except (CasekitError, ValueError) as exc:
        print(f"casekit plan: {exc}", file=sys.stderr)
        return 2
    print(programme.summary())
    print()
    print(programme.table().to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    if args.csv:
        programme.table().to_csv(args.csv, index=False)
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        programme.plot().savefig(args.png, dpi=125, bbox_inches="tight")
    return 0


def _init(args: argparse.Namespace) -> int:
    from .inputs.project import init_project

    try:
        folder = init_project(args.folder)
    except CasekitError as exc:
        return _refused("init", exc)
    print(f"created {folder}: cd {folder} && casekit render  (then open reports/index.html)")
    return 0


def _workshop(args: argparse.Namespace) -> int:
    from .rendering import render_workshop

    try:
        table = render_workshop(args.out, jobs=args.jobs, timeout=args.timeout, progress=not args.no_progress_bar,
                                notebooks=args.notebooks, cases_dir=args.cases, force=args.force)
    except CaseError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"casekit workshop: {len(exc.problems)} problem(s) in {args.cases or 'the sample cases'}; fix them "
              "(`casekit validate` lists them too) or pass --cases with another folder", file=sys.stderr)
        return 2
    except RenderError as exc:
        return _refused("workshop", exc)
    failed = table[table["status"] == "failed"]
    print(f"{len(table) - len(failed)} rendering(s) in {args.out}/learner and {args.out}/instructor, "
          f"{len(failed)} failed")
    for _, row in failed.iterrows():
        print(f"FAILED {row['audience']}/{row['report']}: {row['error']}")
    return 1 if len(failed) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casekit", description="CMMI case studies: validate, analyse, report.")
    parser.add_argument("--version", action="version", version=f"casekit {VERSION}")
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
    audience = render.add_mutually_exclusive_group()
    audience.add_argument("--with-code", action="store_true",
                          help="the analyst's version: code, parameters and how-to-run notes in the reports")
    audience.add_argument("--no-input", action="store_true",
                          help="reports for readers, without code (the default; kept for scripts that pass it)")
    render.add_argument("--pdf", action="store_true",
                        help="also write each report as an A4 PDF for readers (needs playwright and Chromium: "
                             "pip install 'casekit[pdf]'; apt-get install chromium)")
    render.add_argument("--timeout", type=float, default=600, help="seconds a cell may run (default: 600)")
    render.add_argument("--memory-limit", default="auto", metavar="SIZE",
                        help="what one report may allocate, such as 2GB; 'none' for no limit (default: auto, half "
                             "of this machine's memory shared among --jobs)")
    render.add_argument("--notebooks", metavar="DIR", help="a folder with your own case_report.ipynb and "
                        "portfolio_report.ipynb (default: casekit's notebooks)")
    render.add_argument("--no-progress-bar", action="store_true", help="no progress bar")
    render.add_argument("--force", action="store_true", help="re-render reports whose inputs are unchanged too, and "
                        "write into an --out that holds files casekit did not write")
    render.add_argument("--engine", choices=["casekit", "nbclient"], default=None,
                        help="casekit: fork each report from a worker with the libraries loaded, in an in-process "
                             "kernel (default where os.fork exists); nbclient: papermill's kernel per report")
    render.add_argument("--scheduler", metavar="tls://HOST:PORT",
                        help="render on this Dask distributed cluster instead of local processes (tcp:// is "
                             "unauthenticated and sends the case files in clear: prefer tls://)")
    render.add_argument("--tls-ca-file", metavar="PEM", help="the CA that signed the scheduler's and workers' "
                        "certificates (tls://)")
    render.add_argument("--tls-cert", metavar="PEM", help="this client's certificate (tls://)")
    render.add_argument("--tls-key", metavar="PEM", help="this client's private key (tls://)")
    render.add_argument("-p", "--parameters", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        help="a report parameter, as papermill's -p: -p alpha 0.1 -p correction bh (repeatable)")
    render.add_argument("-y", "--parameters_yaml", dest="yaml_parameters", action="append", metavar="YAML",
                        help="report parameters as YAML, as papermill's -y: -y 'kpis: [cycle_time, lead_time]'")
    render.set_defaults(func=_render)
    new = commands.add_parser("new", help="create a case folder from a commented template",
                              description="Create CASES/CASE_ID from a commented template that validates as is.")
    new.add_argument("case_id", metavar="CASE_ID")
    new.add_argument("--cases", default="cases", help="cases folder (default: cases)")
    new.add_argument("--published", action="store_true",
                     help="a published case study: case.yaml with a reference, and results.csv of reported figures")
    new.set_defaults(func=_new)
    imported = commands.add_parser(
        "import", help="turn a spreadsheet or CSV of KPIs into a case's kpis.csv (and appraisals.csv)",
        description="Read .xlsx/.xls/.ods or CSV in any common dialect, tidy (period, kpi, value) or wide (a period "
                    "column and one column per KPI), and write CASE_DIR/kpis.csv. Says what it mapped and converted, "
                    "refuses what reads two ways with the option that settles it, never overwrites without --force.")
    imported.add_argument("source", metavar="SOURCE", help="the spreadsheet or CSV file")
    imported.add_argument("case_dir", metavar="CASE_DIR", help="the case folder to write into (casekit new makes one)")
    imported.add_argument("--sheet", help="the sheet with the KPIs, by name or 0-based number (default: the first)")
    imported.add_argument("--appraisals-sheet", metavar="SHEET",
                          help="a sheet with date, method, maturity_level: written to appraisals.csv")
    imported.add_argument("--layout", choices=["auto", "tidy", "wide"], default="auto")
    order = imported.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_true", default=None,
                       help="dates such as 01/02/2020 are day first (1 February)")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_false", help="... month first (January 2)")
    imported.add_argument("--decimal", choices=[".", ","], help="the decimal mark, when values such as 1,012 "
                          "could be either")
    imported.add_argument("--map", action="append", metavar="COLUMN=KPI",
                          help="the KPI a column (or a tidy sheet's KPI name) is, when its name does not say; "
                               "repeatable: --map \"Defects found=defect_density\"")
    imported.add_argument("--comparison", action="store_true",
                          help="the sheet is a comparison unit's (a unit that did not adopt, a benchmark): write "
                               "comparison.csv instead of kpis.csv")
    imported.add_argument("--dry-run", action="store_true", help="show the result and write nothing")
    imported.add_argument("--force", action="store_true", help="replace the case's existing kpis.csv")
    imported.set_defaults(func=_import)
    export = commands.add_parser("export", help="write every results table to an Excel workbook",
                                 description="Write the cases' and the portfolio's results to an .xlsx workbook: one "
                                             "sheet per table, numbers as numbers, the settings on a sheet of their "
                                             "own.")
    export.add_argument("cases_dir", nargs="?", default="cases", metavar="CASES_DIR")
    export.add_argument("--xlsx", required=True, metavar="FILE", help="the workbook to write (.xlsx)")
    export.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    export.add_argument("--correction", choices=["holm", "bh", "none"], default="holm")
    export.add_argument("--meta-method", choices=["DL", "PM"], default="DL")
    export.add_argument("--force", action="store_true", help="replace an existing workbook")
    export.set_defaults(func=_export)
    simulate = commands.add_parser("simulate", help="write simulated cases with a known true effect",
                                   description="Write a portfolio of simulated, valid cases whose true effect is known.")
    simulate.add_argument("--orgs", type=int, required=True, help="number of organizations")
    simulate.add_argument("--effect", type=float, required=True,
                          help="true mean improvement as a fraction (0.2 = 20%% better); 0 for none")
    simulate.add_argument("--seed", type=int, required=True, help="random seed (same seed, same cases)")
    simulate.add_argument("--out", required=True, help="new folder for the cases")
    simulate.add_argument("--heterogeneity", type=float, default=0.05,
                          help="between-organization sd of the true effect, log scale (default 0.05)")
    simulate.add_argument("--noise", type=float, default=0.10, help="month-to-month noise, log scale (default 0.10)")
    simulate.add_argument("--trend", type=float, default=0.0,
                          help="a steady change a month, log scale, before and after adoption alike: no effect "
                               "(-0.01: about 1%% lower each month; default 0)")
    simulate.add_argument("--comparison", type=float, metavar="CORRELATION",
                          help="give each organization a comparison unit whose noise correlates this much with "
                               "its own (such as 0.7), in comparison.csv")
    simulate.add_argument("--shared-shock", type=float, default=0.0, metavar="FRACTION",
                          help="a change at adoption both the organization and its comparison take, no effect of "
                               "adoption (0.2: 20%% better); a single series reads it as an effect")
    simulate.add_argument("--market-turn", type=float, default=0.0, metavar="FRACTION",
                          help="a change in 2021-01 every organization takes, whenever it adopted: no effect of "
                               "adoption (0.2: 20%% better); the event study across organizations does not read it "
                               "as one")
    simulate.add_argument("--kpi", action="append", help="a catalog KPI to simulate (repeatable; default "
                          "defect_density and on_time_delivery; escaped_defects, incidents and releases are "
                          "counts)")
    simulate.set_defaults(func=_simulate)
    workshop = commands.add_parser("workshop", help="render the workshop notebooks for learners and instructors",
                                   description="Render every workshop notebook twice: learner (solutions removed) "
                                               "and instructor (solutions run), ipynb and HTML.")
    workshop.add_argument("--out", default="workshop", help="output folder (default: workshop)")
    workshop.add_argument("--cases", metavar="DIR", help="the cases the notebooks read, copied into each handout "
                          "folder (default: the sample cases casekit ships)")
    workshop.add_argument("--notebooks", metavar="DIR", help="a folder of your own workshop notebooks")
    workshop.add_argument("--jobs", type=int, default=2)
    workshop.add_argument("--timeout", type=float, default=600)
    workshop.add_argument("--no-progress-bar", action="store_true")
    workshop.add_argument("--force", action="store_true", help="write into an --out that holds files casekit did "
                          "not write, beside them (never over them)")
    workshop.set_defaults(func=_workshop)
    planned = commands.add_parser("plan", help="plan a measurement programme: power and the smallest detectable change",
                                  description="How likely casekit's tests are to find a change, by months measured "
                                              "after adoption and by organizations pooled, from a case's baseline "
                                              "(--case, --kpi) or by hand (--months-before, --phi, --noise).")
    planned.add_argument("cases_dir", nargs="?", default="cases", metavar="CASES_DIR")
    planned.add_argument("--case", help="the case whose baseline months give the noise and autocorrelation")
    planned.add_argument("--kpi", help="the KPI of that case")
    planned.add_argument("--months-before", type=int, help="months before adoption (default: the case's)")
    planned.add_argument("--phi", type=float, help="the month-to-month autocorrelation (default: the case's)")
    planned.add_argument("--noise", type=float, help="month-to-month noise, log scale (0.1: about 10%%)")
    planned.add_argument("--mean", type=float, help="a count KPI by hand: its mean count a month before adoption")
    planned.add_argument("--dispersion", type=float,
                         help="a count KPI by hand: the counts' variance over their mean (default 1: Poisson)")
    planned.add_argument("--change", type=float, default=-20.0, help="the change to plan for, in percent (default -20)")
    planned.add_argument("--transition", type=int, help="months left out after adoption (default: the case's, or 3)")
    planned.add_argument("--comparison", type=float, metavar="CORRELATION",
                         help="a comparison unit whose noise correlates this much with the KPI's")
    planned.add_argument("--kpis", type=int, default=1, help="KPIs tested in the case (default 1; a case: its own)")
    planned.add_argument("--tau", type=float, default=0.05, help="between-organization sd of the effect (default 0.05)")
    planned.add_argument("--alpha", type=float, default=0.05)
    planned.add_argument("--staggered", type=int, metavar="MONTHS",
                         help="also plan the event study: organizations adopting over this many months")
    planned.add_argument("--csv", help="also write the power table to this CSV file")
    planned.add_argument("--png", help="also draw the power curves into this PNG file")
    planned.set_defaults(func=_plan)
    init = commands.add_parser("init", help="start a project: cases/ with an example case, the report notebooks",
                               description="Create DIR with cases/ (one example case), editable copies of the "
                                           "report notebooks and a README; then `cd DIR && casekit render`.")
    init.add_argument("folder", metavar="DIR")
    init.set_defaults(func=_init)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """casekit's own warnings as one line on stderr; anyone else's as Python shows them."""
    if getattr(category, "__module__", "").startswith("casekit"):
        print(f"casekit: warning: {message}", file=sys.stderr)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


def _terminated(signum, frame):
    raise KeyboardInterrupt  # so that what is half-written is removed on the way out (casekit.atomic)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``casekit``; by default the command line's.

    Returns
    -------
    int
        0 on success, 1 when a report failed or a case is invalid, 2 for a usage error.

    Examples
    --------
    >>> main(["validate", "cases"])
    0
    """
    import signal

    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show "→" gets "\u2192", not a traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    warnings.showwarning = _show_warning
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"casekit {args.command}: interrupted; nothing half-written was left", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader stopped (`casekit plan | head`): what is left to print is not wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that Python's exit flush is quiet
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
