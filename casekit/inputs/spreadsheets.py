"""From an analyst's spreadsheet to a case's ``kpis.csv`` (and ``appraisals.csv``): ``casekit import``.

Reads ``.xlsx``, ``.xls`` and ``.ods`` (pandas' calamine engine) and CSV in the common dialects (comma,
semicolon, tab or bar separated; UTF-8 with or without a byte-order mark, or Windows-1252), tidy (one row
per period and KPI) or wide (one column per KPI). Columns are mapped to KPI ids by id or label, whatever
their letter case; periods in the common month and date forms become ``YYYY-MM`` or ``YYYY-Qn``; values
written with a percent sign, thousands separators or a decimal comma become numbers. It never guesses:
what it cannot settle alone (is ``01/02/2020`` January or February? is ``1,012`` a thousand or one?)
stops it with the option that settles it, and it says what it mapped and converted.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ..atomic import remove_leftovers, replaced_together, target_problem
from ..errors import SpreadsheetError
from .casefiles import MISSING_MARKERS, read_yaml
from .catalog import SIGNED_TWINS, in_range, kpi_catalog, kpi_names, normalise, range_text, signed_hint
from .numbers import decimal_mark, read_number_text, squeeze
from .periods import ISO_DATE, NUMERIC_DATE, read_period_text
from .scaffold import template_copies

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
ZIPPED_SUFFIXES = (".xlsx", ".xlsm", ".ods")  # a zip of XML parts: checked before calamine reads it
MAX_SOURCE_BYTES = 50 * 10**6  # as large as a case's kpis.csv may be
MAX_UNPACKED_BYTES = 500 * 10**6  # what a spreadsheet's parts may unpack to
MAX_CELLS = 5_000_000  # what a sheet's declared dimension may span
MAX_SHOWN = 80  # characters of a cell or a header quoted in a message
DELIMITERS = (",", ";", "\t", "|")
PERIOD_COLUMNS = {"period", "month", "date", "quarter", "year_month", "yearmonth", "time"}
KPI_COLUMNS = {"kpi", "kpi_id", "metric", "measure", "indicator"}
VALUE_COLUMNS = {"value", "amount", "measurement", "result"}
IGNORED_COLUMNS = {"note", "notes", "comment", "comments", "unit", "units", "source"}


@dataclass
class ImportResult:
    """What :func:`import_kpis` made: the tidy rows, what it did to get them, and the files it wrote."""

    kpis: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    appraisals: pd.DataFrame | None = None


def import_kpis(source: str | Path, case_dir: str | Path | None = None, *, sheet: str | int | None = None,
                layout: str = "auto", dayfirst: bool | None = None, decimal: str | None = None,
                appraisals_sheet: str | int | None = None, force: bool = False,
                dry_run: bool = False, columns: dict[str, str] | None = None,
                comparison: bool = False) -> ImportResult:
    """Turn a spreadsheet or CSV of KPI measurements into ``case_dir/kpis.csv`` (or ``comparison.csv``).

    Parameters
    ----------
    source : str or Path
        ``.xlsx``, ``.xls``, ``.ods`` or a CSV file.
    case_dir : str or Path, optional
        The case folder to write into (``casekit new`` makes one); its
        ``case.yaml``'s own KPIs are known by id and label too. None: write
        nothing (as ``dry_run``).
    sheet : str or int, optional
        The sheet holding the KPIs (default: the first).
    layout : {"auto", "tidy", "wide"}
        ``tidy``: columns period, KPI, value; ``wide``: a period column and
        one column per KPI. ``auto`` tells them apart by the header.
    dayfirst : bool, optional
        For dates such as ``01/02/2020`` that read both ways: True for day
        first (1 February), False for month first (January 2). Needed only
        when the data cannot tell.
    decimal : {".", ","}, optional
        The decimal mark, when the values cannot tell (``1,012``).
    appraisals_sheet : str or int, optional
        A sheet with columns date, method, maturity_level (and optionally
        model, scope), written to ``appraisals.csv``.
    force : bool
        Replace the case's existing files; without it they are never
        overwritten.
    dry_run : bool
        Work everything out and write nothing.
    columns : dict, optional
        Which KPI a column (wide layout) or a KPI name (tidy layout) is,
        ``{"Defects found": "defect_density"}``, when its name does not say:
        ``casekit import --map "Defects found=defect_density"``. A mapping
        is taken as given, unit and all.
    comparison : bool, default False
        The measurements are a comparison unit's (a business unit that did
        not adopt, a sister organization, a benchmark): write them to
        ``comparison.csv``, read and checked as the organization's own;
        ``case.yaml`` names the unit under ``comparison:``.

    Returns
    -------
    ImportResult
        ``kpis`` (``period, kpi, value``), ``notes`` (what was mapped and
        converted), ``written`` (the files written), ``appraisals``.

    Raises
    ------
    SpreadsheetError
        What cannot be imported, and the option or edit that fixes it:
        among others a value outside its KPI's range (a signed cost
        variance, negative under budget, for the catalog's absolute
        ``cost_variance``: map it to ``cost_overrun``), and a column whose
        unit in brackets or after a comma is not its KPI's
        (``Cycle time (weeks)``).

    Notes
    -----
    A column is recognised by a KPI's id or label in any letter case, with a
    unit after it in brackets or after a comma (``Defect density
    (defects/KLOC)``, ``Cycle time, days``); a unit that is plainly another
    (weeks for days, a percentage for a count) is refused rather than read
    on the wrong scale.

    Examples
    --------
    >>> import casekit as ck, tempfile, pathlib
    >>> sheet = pathlib.Path(tempfile.mkdtemp()) / "kpis.csv"
    >>> _ = sheet.write_text("Month;Defect density;On-time delivery\\n01/2020;4,5;68,9%\\n02/2020;4,1;71,0%\\n")
    >>> result = ck.import_kpis(sheet)
    >>> result.kpis.values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['2020-01', 'defect_density', 4.5], ['2020-02', 'defect_density', 4.1],
     ['2020-01', 'on_time_delivery', 68.9], ['2020-02', 'on_time_delivery', 71.0]]
    """
    source = Path(source)
    header, rows, origin = _read_table(source, sheet)
    known = _known_kpis(case_dir)
    notes = [f"read {origin}"]
    mapping = _checked_mapping(columns or {}, known)
    tidy, names = _tidy(header, rows, layout, known, notes, source, mapping)
    tidy["period"] = parse_periods(tidy["period"].tolist(), dayfirst, notes)
    tidy["value"] = _parse_values(tidy["value"].tolist(), tidy["kpi"].tolist(), known, decimal, notes)
    _check_ranges(tidy, known, source, names)
    missing = tidy["value"].isna()
    if missing.any():
        notes.append(f"left out {int(missing.sum())} blank value(s) (empty cells, #N/A, n/a and the like): casekit "
                     "reads a missing period as a gap")
    kpis = tidy[~missing].astype({"value": float})
    duplicated = kpis[kpis.duplicated(["period", "kpi"], keep=False)]
    if len(duplicated):
        first = duplicated.iloc[0]
        raise SpreadsheetError(f"{source.name}: {len(duplicated)} rows share a period and KPI, first "
                               f"{first['kpi']} in {first['period']}: keep one value per KPI and period")
    kpis = kpis.sort_values(["kpi", "period"], kind="stable", ignore_index=True)[["period", "kpi", "value"]]
    result = ImportResult(kpis, notes)
    if comparison and appraisals_sheet is not None:
        raise SpreadsheetError("--appraisals-sheet is for the organization's own appraisals; import them without "
                               "--comparison")
    if appraisals_sheet is not None:
        result.appraisals = _appraisals(source, appraisals_sheet, dayfirst, notes)
    if case_dir is not None and not dry_run:
        folder = Path(case_dir)
        _check_case_folder(folder)
        outputs = [("comparison.csv" if comparison else "kpis.csv", kpis)] + (
            [("appraisals.csv", result.appraisals)] if result.appraisals is not None else [])
        remove_leftovers(folder)
        for name, _ in outputs:  # all refused before anything is written
            problem = target_problem(folder / name, force)
            if problem is not None:
                raise SpreadsheetError(problem + ("" if force else " (or --dry-run shows the result)"))
        try:
            with replaced_together([folder / name for name, _ in outputs]) as temporaries:
                for temporary, (_, table) in zip(temporaries, outputs):
                    table.to_csv(temporary, index=False, float_format="%.10g", lineterminator="\n",
                                 encoding="utf-8")
        except OSError as exc:
            raise SpreadsheetError(f"cannot write into {folder}: {exc.strerror or exc}; nothing was changed") from None
        result.written += [folder / name for name, _ in outputs]
        if comparison and not _names_a_comparison(folder):
            result.notes.append("comparison.csv holds the comparison unit's measurements: name the unit in "
                                "case.yaml under `comparison:` (`unit: <its name>`, `kind: business unit`, "
                                "`sister organization`, `benchmark` or `other`)")
        elif not comparison:
            _template_data_left(folder, force, result.notes)
    return result


def _names_a_comparison(folder: Path) -> bool:
    """Whether the case's case.yaml names a comparison unit already."""
    doc = read_yaml(folder / "case.yaml", []) if (folder / "case.yaml").is_file() else None
    return doc is not None and isinstance(doc.data, dict) and bool(doc.data.get("comparison"))


def _template_data_left(folder: Path, force: bool, notes: list[str]) -> None:
    """What is still ``casekit new``'s example data beside what was imported: practice_areas.csv is removed with
    ``force`` (it is optional, and casekit wrote it), the rest named with its fix, so no example passes as data."""
    for path in template_copies(folder):
        if path.name == "practice_areas.csv" and force:
            try:
                path.unlink()
                notes.append("removed practice_areas.csv: it was casekit new's example; add the organization's "
                             "capability levels there if you have them")
                continue
            except OSError as exc:
                notes.append(f"could not remove practice_areas.csv, casekit new's example ({exc.strerror or exc})")
        how = {"appraisals.csv": "--appraisals-sheet imports the organization's appraisals",
               "practice_areas.csv": "--force removes it (it is optional)"}.get(path.name, "")
        notes.append(f"{path.name} is still casekit new's example data, not the organization's: {how}")


# --- reading -------------------------------------------------------------------------------------------

def _read_table(source: Path, sheet=None) -> tuple[list[str], list[list], str]:
    """The header and rows of a sheet or CSV file (cells as text, numbers or dates), and where they came from."""
    import os
    import stat

    try:
        info = os.stat(source)
    except OSError as exc:
        raise SpreadsheetError(f"{source}: {'file not found' if not os.path.lexists(source) else exc.strerror}") \
            from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or a device?)"
        raise SpreadsheetError(f"{source}: is {kind}; name the spreadsheet or CSV file to import")
    if info.st_size > MAX_SOURCE_BYTES:
        raise SpreadsheetError(f"{source.name}: the file is {info.st_size / 1e6:,.0f} MB; casekit imports at most "
                               f"{MAX_SOURCE_BYTES // 10**6} MB: keep only the KPIs' columns and rows, or split it")
    if source.suffix.lower() in EXCEL_SUFFIXES:
        if source.suffix.lower() in ZIPPED_SUFFIXES:
            _check_zipped(source)
        return _read_excel(source, sheet)
    if sheet is not None:
        raise SpreadsheetError(f"{source.name}: --sheet is for spreadsheets (.xlsx, .xls, .ods), not CSV files")
    return _read_csv(source)


def _shown(value) -> str:
    """A short, escaped excerpt of a cell or header for a message (control characters and NULs escaped)."""
    text = str(value)
    text = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"
    return repr(text)


_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]{1,3})([0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_zipped(source: Path) -> None:
    """Refuse a zipped spreadsheet (.xlsx, .ods) whose parts unpack to more than MAX_UNPACKED_BYTES (a
    compression bomb: the sizes are counted while unpacking, not read from the headers, which can lie), or
    whose sheet declares a dimension of more than MAX_CELLS cells, before calamine allocates for either."""
    import zipfile

    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpreadsheetError(f"{source.name}: not a readable spreadsheet ({exc}); open and save it again in "
                               "Excel or LibreOffice, or export the sheet as CSV") from None
    total = 0
    with archive:
        for member in archive.infolist():
            try:
                with archive.open(member) as part:
                    head = part.read(4096)
                    total += len(head)
                    while chunk := part.read(1 << 20):
                        total += len(chunk)
                        if total > MAX_UNPACKED_BYTES:
                            break
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
                raise SpreadsheetError(f"{source.name}: a part of the file cannot be unpacked ({member.filename}: "
                                       f"{exc}); open and save it again, or export the sheet as CSV") from None
            if total > MAX_UNPACKED_BYTES:
                raise SpreadsheetError(f"{source.name}: unpacks to more than {MAX_UNPACKED_BYTES // 10**6} MB "
                                       f"(at {member.filename}), far more than a sheet of KPIs; casekit does not "
                                       "read it. Export the sheet as CSV, or keep only the KPIs")
            if (match := _DIMENSION.search(head)) is not None:
                first_column, first_row = _column_number(match[1]), int(match[2])
                last_column = _column_number(match[3]) if match[3] else first_column
                last_row = int(match[4]) if match[4] else first_row
                cells = (abs(last_column - first_column) + 1) * (abs(last_row - first_row) + 1)
                if cells > MAX_CELLS:
                    raise SpreadsheetError(
                        f"{source.name}: {member.filename} declares a sheet of {cells:,} cells "
                        f"({match[0].decode('ascii', 'replace')[16:-1]}); casekit reads at most {MAX_CELLS:,}. "
                        "Select the used cells, copy them into a new workbook, or export the sheet as CSV")


def _read_excel(source: Path, sheet) -> tuple[list[str], list[list], str]:
    try:
        frame = pd.read_excel(source, sheet_name=0 if sheet is None else sheet, header=None, engine="calamine")
    except (ValueError, KeyError) as exc:
        names = _sheet_names(source)
        raise SpreadsheetError(f"{source.name}: cannot read sheet {sheet!r} ({exc}); its sheets are "
                               f"{', '.join(map(repr, names))}: say which with --sheet") from None
    except Exception as exc:  # calamine's own errors: a damaged or mislabelled file
        raise SpreadsheetError(f"{source.name}: not a readable spreadsheet ({type(exc).__name__}: {exc})") from None
    frame = frame.dropna(how="all").dropna(axis=1, how="all")
    if frame.empty:
        raise SpreadsheetError(f"{source.name}: the sheet is empty")
    cells = [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]
    header = [str(v).strip() if v is not None else "" for v in cells[0]]
    name = sheet if sheet is not None else _sheet_names(source)[0]
    return header, cells[1:], f"sheet {name!r} of {source.name}"


def _sheet_names(source: Path) -> list[str]:
    try:
        return list(pd.ExcelFile(source, engine="calamine").sheet_names)
    except Exception:
        return []


BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"), (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
        (b"\xff\xfe", "utf-16-le", "UTF-16"), (b"\xfe\xff", "utf-16-be", "UTF-16"))


def _decode(raw: bytes, source: Path) -> tuple[str, str]:
    """The file's text and its encoding's name: UTF-8 (with or without a byte-order mark), UTF-16 or UTF-32 with
    one (what Excel's "Unicode text" writes), else Windows-1252."""
    for mark, codec, name in BOMS:
        if raw.startswith(mark):
            try:
                return raw[len(mark):].decode(codec), f"{name} with a byte-order mark"
            except UnicodeDecodeError:
                raise SpreadsheetError(f"{source.name}: starts as {name} but does not decode as it; save it as CSV "
                                       "UTF-8") from None
    if b"\x00" in raw[:4096]:
        raise SpreadsheetError(f"{source.name}: holds NUL bytes, as UTF-16 text without a byte-order mark does (or a "
                               "file that is not text); save it as CSV UTF-8")
    try:
        return raw.decode("utf-8-sig"), "UTF-8" + (" with a byte-order mark" if raw[:3] == b"\xef\xbb\xbf" else "")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "Windows-1252"


_EXCEL_SEPARATOR = re.compile(r'^"?sep=(.)"?\s*$', re.IGNORECASE)


def _read_csv(source: Path) -> tuple[list[str], list[list], str]:
    text, encoding = _decode(source.read_bytes(), source)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise SpreadsheetError(f"{source.name}: the file is empty")
    declared = _EXCEL_SEPARATOR.match(lines[0])
    if declared is not None:  # Excel's "sep=;" line names the separator
        if declared[1] not in DELIMITERS:
            raise SpreadsheetError(f"{source.name}: the first line declares the separator {declared[1]!r}; casekit "
                                   "reads commas, semicolons, tabs and bars")
        delimiter, lines = declared[1], lines[1:]
        text = text.split("\n", 1)[1] if "\n" in text else ""
        if not lines:
            raise SpreadsheetError(f"{source.name}: the file is empty")
    else:
        delimiter = _delimiter(lines, source)
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
                if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise SpreadsheetError(f"{source.name}: cannot read it as CSV ({exc}): a quote left open makes the rest of "
                               "the file one field; close it, or remove the quote") from None
    header, body = [h.strip() for h in rows[0]], rows[1:]
    uneven = next((i for i, row in enumerate(body) if len(row) != len(header)), None)
    if uneven is not None:
        raise SpreadsheetError(f"{source.name}: row {uneven + 2} has {len(body[uneven])} fields, the header "
                               f"{len(header)}: every row needs one field per column")
    named = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}[delimiter]
    return header, [[c.strip() or None for c in row] for row in body], f"{source.name} (CSV separated by {named}, " \
                                                                        f"{encoding})"


def _delimiter(lines: list[str], source: Path) -> str:
    """The separator whose split gives every sampled line the header's number of fields (more than one)."""
    sample = lines[:200]
    fits = []
    for delimiter in DELIMITERS:
        try:  # a wide sheet's line read with another separator is one field, maybe over csv's field limit
            counts = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        except csv.Error:
            continue
        if len(counts) == 1 and counts.pop() > 1:
            fits.append(delimiter)
    if fits:
        return max(fits, key=lambda d: len(next(csv.reader(sample[:1], delimiter=d))))
    try:
        header = next(csv.reader(sample[:1]))
        body = {len(row) for row in csv.reader(sample[1:])}
    except csv.Error:
        header, body = [], set()
    if body and min(body) > len(header):
        raise SpreadsheetError(f"{source.name}: the header has {len(header)} comma-separated fields but rows have "
                               f"{min(body)} or more: values such as 12,0 hold unquoted decimal commas. Save the file "
                               "with semicolons as separators (Excel's CSV for a decimal-comma locale), or quote "
                               "those values")
    raise SpreadsheetError(f"{source.name}: cannot tell how the fields are separated (tried commas, semicolons, tabs "
                           "and bars): each line needs the header's number of fields")


_EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's serial dates (its 1900 system, leap-year bug included)


def _excel_serial(cell) -> float | None:
    """The number a spreadsheet cell formatted as a date, a time or a duration holds (Excel's serial days), or
    None for any other cell."""
    from datetime import time, timedelta

    if isinstance(cell, pd.Timestamp) and not pd.isna(cell):
        cell = cell.to_pydatetime()
    if isinstance(cell, datetime):
        serial = (cell.replace(tzinfo=None) - _EXCEL_EPOCH).total_seconds() / 86400
        return serial - 1 if serial < 61 else serial  # Excel's 29 February 1900, which never was
    if isinstance(cell, date):
        serial = float((cell - _EXCEL_EPOCH.date()).days)
        return serial - 1 if serial < 61 else serial
    if isinstance(cell, time):
        return (cell.hour * 3600 + cell.minute * 60 + cell.second + cell.microsecond / 1e6) / 86400
    if isinstance(cell, (timedelta, pd.Timedelta)) and not pd.isna(cell):
        return cell.total_seconds() / 86400
    return None


# --- layout --------------------------------------------------------------------------------------------

def _tidy(header: list[str], rows: list[list], layout: str, known: pd.DataFrame, notes: list[str],
          source: Path, mapping: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The sheet as rows of period, KPI id and value, and the name each KPI had in the sheet."""
    names = [normalise(_split_unit(h)[0]) if normalise(h) not in PERIOD_COLUMNS else normalise(h) for h in header]
    period = next((i for i, n in enumerate(names) if n in PERIOD_COLUMNS), None)
    kpi = next((i for i, n in enumerate(names) if n in KPI_COLUMNS), None)
    value = next((i for i, n in enumerate(names) if n in VALUE_COLUMNS), None)
    if layout not in ("auto", "tidy", "wide"):
        raise SpreadsheetError(f"layout must be auto, tidy or wide, got {layout!r}")
    if period is None:
        raise SpreadsheetError(f"{source.name}: no period column; the header ({_shown(', '.join(header))}) needs one "
                               "named period, month, date or quarter")
    lookup = kpi_names(known["kpi"], known["label"])
    if layout == "tidy" or (layout == "auto" and kpi is not None and value is not None):
        if kpi is None or value is None:
            raise SpreadsheetError(f"{source.name}: a tidy sheet needs columns named period, kpi and value; the "
                                   f"header is {_shown(', '.join(header))}")
        written = {cell for cell in (row[kpi] for row in rows) if cell is not None}
        ids = {name: _kpi_id(name, lookup, known, source, mapping, notes) for name in written}
        renamed = sorted(f"{name!r} → {ids[name]}" for name in written if str(name) != ids[name])
        notes.append("tidy layout: one row per period and KPI" + (f"; KPIs named by label or letter case mapped: "
                                                                  f"{', '.join(renamed)}" if renamed else ""))
        kept = [row for row in rows if row[kpi] is not None]
        table = pd.DataFrame({"period": [row[period] for row in kept], "kpi": [ids[row[kpi]] for row in kept],
                              "value": [row[value] for row in kept]})
        return table, {kpi_id: str(name) for name, kpi_id in ids.items()}
    columns = [(i, h) for i, h in enumerate(header) if i != period and normalise(h) not in IGNORED_COLUMNS and h]
    if not columns:
        raise SpreadsheetError(f"{source.name}: no KPI columns beside the period column")
    mapped = [(i, _kpi_id(h, lookup, known, source, mapping, notes)) for i, h in columns]
    notes.append("wide layout (one column per KPI) made tidy; columns mapped: "
                 + ", ".join(f"{header[i]!r} → {kpi_id}" for i, kpi_id in mapped))
    ignored = [h for i, h in enumerate(header) if i != period and normalise(h) in IGNORED_COLUMNS]
    if ignored:
        notes.append(f"columns left out: {', '.join(ignored)}")
    table = pd.DataFrame({"period": [row[period] for _, _ in mapped for row in rows],
                          "kpi": [kpi_id for _, kpi_id in mapped for _ in rows],
                          "value": [row[i] for i, _ in mapped for row in rows]})
    return table, {kpi_id: str(header[i]) for i, kpi_id in mapped}


def _known_kpis(case_dir) -> pd.DataFrame:
    """The catalog's KPIs and the case's own (from its case.yaml, where it can be read)."""
    catalog = kpi_catalog()
    if case_dir is None or not (Path(case_dir) / "case.yaml").is_file():
        return catalog
    from .validation import check_case

    parsed, _ = check_case(Path(case_dir), catalog)
    own = parsed.kpi_definitions
    return catalog if own is None or own.empty else pd.concat([catalog, own], ignore_index=True)


def _kpi_id(name, lookup: dict[str, str], known: pd.DataFrame, source: Path, mapping: dict[str, str],
            notes: list[str]) -> str:
    """The KPI a column (or a tidy sheet's KPI cell) ``name`` is: as mapped, by id or label, or by id or label
    with a unit after it, which must then be the KPI's."""
    text = str(name).strip()
    if text in mapping or normalise(text) in mapping:
        return mapping.get(text) or mapping[normalise(text)]
    base, unit = _split_unit(text)
    found = lookup.get(normalise(text))
    if found is not None and not (unit and normalise(text) == normalise(base)):  # a unit of symbols ("%") is a unit
        return found
    found = lookup.get(normalise(base)) if unit else None
    if found is not None:
        expected = str(known.set_index("kpi").loc[found, "unit"])
        if not _same_unit(unit, expected):
            raise SpreadsheetError(f"{source.name}: column {_shown(text)} reads as {found}, which casekit measures "
                                   f"in {expected}, not {unit}: convert the values to {expected}, or map the column "
                                   f"to a KPI of your own defined in case.yaml: --map {_shown(f'{text}=your_kpi')}")
        return found
    candidates = list(known["kpi"]) + list(known["label"])
    close = difflib.get_close_matches(base, candidates, n=1, cutoff=0.6) or difflib.get_close_matches(
        normalise(base), list(lookup), n=1, cutoff=0.6)
    hint = f" (did you mean {lookup.get(normalise(close[0]), close[0])}?)" if close else ""
    example = f"{text}={lookup.get(normalise(close[0]), close[0]) if close else 'kpi_id'}"
    raise SpreadsheetError(f"{source.name}: unknown KPI {_shown(name)}{hint}; use a catalog KPI's id or label "
                           "(casekit.kpi_catalog() lists them), map the column with --map "
                           f"{_shown(example)}, or define the KPI in case.yaml under kpis:")


_UNIT = re.compile(r"^(?P<base>.*?\S)\s*(?:\((?P<round>[^()]*)\)|\[(?P<square>[^\[\]]*)\]|,\s*(?P<comma>[^,]+))\s*$")
_TIME_UNITS = {"h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour", "d": "day", "day": "day",
               "days": "day", "wk": "week", "wks": "week", "week": "week", "weeks": "week", "mo": "month",
               "month": "month", "months": "month", "yr": "year", "year": "year", "years": "year"}


def _split_unit(name: str) -> tuple[str, str]:
    """A column's name and the unit written after it, in brackets or after a comma (``""`` when none).

    Examples
    --------
    >>> _split_unit("Defect density (defects/KLOC)"), _split_unit("Cycle time, days"), _split_unit("NPS")
    (('Defect density', 'defects/KLOC'), ('Cycle time', 'days'), ('NPS', ''))
    """
    match = _UNIT.match(str(name).strip())
    if match is None:
        return str(name).strip(), ""
    unit = match["round"] if match["round"] is not None else match["square"] if match["square"] is not None \
        else match["comma"]
    return match["base"].strip(), unit.strip()


def _same_unit(stated: str, expected: str) -> bool:
    """Whether a unit written in a column's name can be a KPI's unit: False only when it is plainly another (a
    different unit of time; a percentage for what is not one, or the reverse).

    Examples
    --------
    >>> _same_unit("defects/KLOC", "defects per KLOC"), _same_unit("%", "% of releases"), _same_unit("weeks", "days")
    (True, True, False)
    """
    said, meant = (re.findall(r"%|[a-z]+", unit.lower()) for unit in (stated, expected))
    if ("%" in said or "percent" in said) != ("%" in meant):
        return False
    times = [{_TIME_UNITS[w] for w in words if w in _TIME_UNITS} for words in (said, meant)]
    return not (times[0] and times[1] and times[0] != times[1])


def _checked_mapping(columns: dict, known: pd.DataFrame) -> dict[str, str]:
    """``--map`` as given and by normalised name, each target a known KPI id."""
    ids = set(known["kpi"])
    mapping: dict[str, str] = {}
    for name, kpi in columns.items():
        if kpi not in ids:
            close = difflib.get_close_matches(str(kpi), sorted(ids), n=1, cutoff=0.6)
            raise SpreadsheetError(f"--map {_shown(f'{name}={kpi}')}: no KPI {_shown(kpi)}"
                                   + (f"; did you mean {close[0]}?" if close else "")
                                   + " (casekit.kpi_catalog() lists the catalog's; a case's own are in its case.yaml)")
        mapping[str(name).strip()] = kpi
        mapping[normalise(name)] = kpi
    return mapping


def _check_ranges(tidy: pd.DataFrame, known: pd.DataFrame, source: Path, names: dict[str, str]) -> None:
    """Refuse values outside their KPI's range before anything is written, saying which KPI fits them."""
    info = known.drop_duplicates("kpi", keep="last").set_index("kpi")
    for kpi, values in tidy.groupby("kpi", sort=False)["value"]:
        numbers = pd.to_numeric(values, errors="coerce").dropna()
        outside = numbers[[not in_range(v, info.loc[kpi]) for v in numbers]]
        if outside.empty:
            continue
        column = names.get(kpi, kpi)
        shown = ", ".join(f"{v:g}" for v in outside.iloc[:3]) + (", …" if len(outside) > 3 else "")
        message = (f"{source.name}: {len(outside)} value(s) of {_shown(column)} ({shown}) lie outside {kpi}'s range, "
                   f"{range_text(info.loc[kpi])}")
        if (outside < 0).any() and (hint := signed_hint(kpi)):
            message += f". {hint}: --map {_shown(f'{column}={SIGNED_TWINS[kpi]}')}"
        else:
            message += ": check the column, or define a KPI of your own with its range in case.yaml under kpis: "
            message += f"and --map {_shown(f'{column}=your_kpi')}"
        raise SpreadsheetError(message)


# --- periods -------------------------------------------------------------------------------------------



def parse_periods(cells: list, dayfirst: bool | None, notes: list[str]) -> list[str]:
    """Each period cell as ``YYYY-MM`` or ``YYYY-Qn``; refuses a form it cannot read, and dates that read two
    ways (``01/02/2020``) unless ``dayfirst`` says which.

    Parameters
    ----------
    cells : list
        The period column's cells (text, numbers or dates).
    dayfirst : bool or None
        How to read a date whose day and month could be swapped.
    notes : list of str
        Receives what was converted, for the import's report.

    Returns
    -------
    list of str

    Raises
    ------
    SpreadsheetError
        A cell in no known form, or a date that reads two ways.

    Examples
    --------
    >>> parse_periods(["01/2020", "2020-02-15", "Mar 2020", "2020 Q2"], None, [])
    ['2020-01', '2020-02', '2020-03', '2020-Q2']
    """
    forms: set[str] = set()
    numeric = [NUMERIC_DATE.match(str(c).strip()) for c in cells if isinstance(c, str)]
    numeric = [m for m in numeric if m]
    if numeric and dayfirst is None:
        first_big = any(int(m.group(1)) > 12 for m in numeric)
        second_big = any(int(m.group(2)) > 12 for m in numeric)
        if first_big and second_big:
            raise SpreadsheetError("the period column mixes day-first and month-first dates; write one form")
        firsts, seconds = {int(m.group(1)) for m in numeric}, {int(m.group(2)) for m in numeric}
        if first_big or second_big:
            dayfirst = first_big
        elif len(firsts) == 1 < len(seconds) or len(seconds) == 1 < len(firsts):
            # one number is the same in every date and the other runs over the months: the constant one is
            # the day of a monthly series (1/1/2020, 1/2/2020, ... are 1 January, 1 February, ...)
            dayfirst = len(firsts) == 1
            notes.append(f"dates read {'day' if dayfirst else 'month'} first: the "
                         f"{'first' if dayfirst else 'second'} number is the same in every date, as a day of the "
                         "month is in a monthly series")
        elif any(m.group(1) != m.group(2) for m in numeric):
            example = next(m.group(0) for m in numeric if m.group(1) != m.group(2))
            raise SpreadsheetError(f"periods such as {example} read two ways (day first or month first): say "
                                   "--dayfirst or --monthfirst (dayfirst=True or False in Python)")
        else:
            dayfirst = True  # day and month are equal in every date: both readings agree
    periods = [_period(cell, dayfirst, forms) for cell in cells]
    if forms - {"YYYY-MM", "YYYY-Qn"}:
        notes.append(f"periods read from {', '.join(sorted(forms))} as months (YYYY-MM) or quarters (YYYY-Qn)")
    return periods


def _period(cell, dayfirst: bool | None, forms: set[str]) -> str:
    if isinstance(cell, (datetime, date, pd.Timestamp)):
        forms.add("dates")
        return f"{cell.year}-{cell.month:02d}"
    text = str(cell).strip() if cell is not None else ""
    found = read_period_text(text, False if dayfirst is None else dayfirst)
    if found is None:
        raise SpreadsheetError(f"cannot read the period {text!r}: write months as YYYY-MM (2020-01) or quarters as "
                               "YYYY-Qn (2020-Q1); dates, MM/YYYY and month names are converted too")
    forms.add(found[1])
    return found[0]


# --- values --------------------------------------------------------------------------------------------

def _parse_values(cells: list, kpis: list[str], known: pd.DataFrame, decimal: str | None,
                 notes: list[str]) -> list[float | None]:
    """Each value cell as a number (None for a blank), after percent signs, thousands separators and decimal
    commas; refuses what reads two ways (``1,012``) unless ``decimal`` says which.

    Examples
    --------
    >>> import casekit as ck
    >>> _parse_values(["68,9%", "1.012,5", " 12 "], ["on_time_delivery", "cycle_time", "cycle_time"],
    ...              ck.kpi_catalog(), None, [])
    [68.9, 1012.5, 12.0]
    """
    if decimal not in (None, ".", ","):
        raise SpreadsheetError(f"the decimal mark must be '.' or ',', got {decimal!r}")
    units = dict(zip(known["kpi"], known["unit"]))
    texts = [(i, c.strip()) for i, c in enumerate(cells) if isinstance(c, str)]
    mark = decimal or _decimal_mark([squeeze(t).rstrip("%").strip() for _, t in texts
                                     if t.lower() not in MISSING_MARKERS and t])
    out: list[float | None] = [None] * len(cells)
    percent = thousands = commas = dated = 0
    for i, cell in enumerate(cells):
        if isinstance(cell, bool):
            raise SpreadsheetError(f"value {cell!r} for {kpis[i]} is not a number")
        if isinstance(cell, (int, float)) and not pd.isna(cell):
            out[i] = float(cell)
        elif (serial := _excel_serial(cell)) is not None:
            out[i], dated = serial, dated + 1
    for i, text in texts:
        if not text or text.lower() in MISSING_MARKERS:
            continue
        found = read_number_text(text, mark)
        if found is None:
            raise SpreadsheetError(f"cannot read the value {_shown(cells[i])} for {kpis[i]} as a number")
        if found.percent and not str(units.get(kpis[i], "")).startswith("%"):
            raise SpreadsheetError(f"value {text!r} for {kpis[i]} has a percent sign, but {kpis[i]} is measured "
                                   f"in {units.get(kpis[i])}: remove the sign or check the column")
        out[i] = found.value
        percent, thousands, commas = percent + found.percent, thousands + found.grouped, commas + found.decimal_comma
    if dated:
        notes.append(f"read {dated} value cell(s) formatted as dates or times as the numbers they hold (a cell "
                     "holding 45.3 shown as 1900-02-14 reads 45.3): check those cells' format in the spreadsheet")
    if percent:
        notes.append(f"removed the percent sign from {percent} value(s) of percentage KPIs (68.9% reads 68.9)")
    if commas:
        notes.append(f"read {commas} value(s) with a decimal comma (12,5 reads 12.5)")
    if thousands:
        notes.append(f"removed thousands separators from {thousands} value(s)")
    return out


def _decimal_mark(texts: list[str]) -> str:
    """'.' or ',' as the values show it; refuses values that read both ways."""
    mark = decimal_mark(texts)
    if mark is None:
        with_comma = next(t for t in texts if "," in t)
        raise SpreadsheetError(f"values such as {with_comma!r} read two ways (a thousands separator or a decimal "
                               "comma): say --decimal . or --decimal , (decimal= in Python)")
    return mark


# --- appraisals ----------------------------------------------------------------------------------------

APPRAISAL_COLUMNS = {"date": "date", "appraisal_date": "date", "method": "method", "appraisal_method": "method",
                     "maturity_level": "maturity_level", "maturity": "maturity_level", "level": "maturity_level",
                     "ml": "maturity_level", "model": "model", "scope": "scope"}


def _appraisals(source: Path, sheet, dayfirst: bool | None, notes: list[str]) -> pd.DataFrame:
    header, rows, origin = _read_table(source, sheet)
    columns = {APPRAISAL_COLUMNS[normalise(h)]: i for i, h in enumerate(header) if normalise(h) in APPRAISAL_COLUMNS}
    missing = [c for c in ("date", "method", "maturity_level") if c not in columns]
    if missing:
        raise SpreadsheetError(f"{origin}: the appraisals need columns named date, method and maturity_level; "
                               f"missing {', '.join(missing)}")
    table = pd.DataFrame({name: [row[i] for row in rows] for name, i in columns.items()})
    table["date"] = [_date(cell, dayfirst) for cell in table["date"]]
    table["maturity_level"] = [("" if pd.isna(v) else f"{float(v):g}" if isinstance(v, (int, float))
                                else str(v).strip().upper().removeprefix("ML")) for v in table["maturity_level"]]
    notes.append(f"appraisals read from {origin}: {len(table)} row(s)")
    return table[[c for c in ("date", "method", "maturity_level", "model", "scope") if c in table]].fillna("")


def _date(cell, dayfirst: bool | None) -> str:
    if isinstance(cell, (datetime, date, pd.Timestamp)):
        return f"{cell.year}-{cell.month:02d}-{cell.day:02d}"
    text = str(cell).strip()
    if m := ISO_DATE.match(text):
        return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    if m := NUMERIC_DATE.match(text):
        first, second = int(m.group(1)), int(m.group(2))
        if dayfirst is None and first <= 12 and second <= 12 and first != second:
            raise SpreadsheetError(f"the appraisal date {text!r} reads two ways: say --dayfirst or --monthfirst")
        day, month = (first, second) if (dayfirst or first > 12) else (second, first)
        return f"{m.group(3)}-{month:02d}-{day:02d}"
    raise SpreadsheetError(f"cannot read the appraisal date {text!r}: write YYYY-MM-DD")


def _check_case_folder(folder: Path) -> None:
    """Refuse a CASE_DIR that is not one case's folder: missing, a link, or the cases folder itself."""
    if folder.is_symlink() or not folder.is_dir():
        raise SpreadsheetError(f"{folder}: no such case folder; make it first with `casekit new {folder.name} "
                               f"--cases {folder.parent}`")
    if not (folder / "case.yaml").is_file():
        inside = sorted(p.name for p in folder.iterdir() if (p / "case.yaml").is_file())
        if inside:
            raise SpreadsheetError(f"{folder} is a folder of cases ({', '.join(inside[:3])}…), not one case: name "
                                   f"the case to import into, such as {folder / inside[0]}")
        raise SpreadsheetError(f"{folder} holds no case.yaml, so it is not a case's folder; make one with "
                               f"`casekit new {folder.name} --cases {folder.parent}`")
