"""Reading a case's files with the line numbers that problems point at.

Only reading happens here: text must be UTF-8, YAML is loaded with the safe
loader (no tags that construct objects), CSV rows keep their line numbers.
What the values mean is checked in ``casekit.inputs.validation``.

Every file is bounded before it is read: a plain file in the case folder (a
link is never followed, its target never read), at most ``MAX_FILE_BYTES``.
YAML is bounded before it is walked: no anchors or aliases, at most
``MAX_YAML_DEPTH`` levels and ``MAX_YAML_EVENTS`` values, no key given twice,
no ``4_82``-style number, no control character or lone surrogate in a string.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, display_path


class YamlDoc:
    """A parsed YAML mapping plus the line where each field was written."""

    def __init__(self, data: Any, root: yaml.Node | None):
        self.data = data
        self._root = root

    def line(self, *keys: str | int) -> int | None:
        """1-based line of the deepest node reachable along ``keys``.

        Parameters
        ----------
        *keys : str or int
            Mapping keys and sequence indices, outermost first.

        Returns
        -------
        int or None
            The line of the deepest node found along ``keys`` (the nearest
            enclosing one when a key is missing); None without a document.

        Examples
        --------
        >>> doc = parse_yaml("name: Acme\\nkpis:\\n  - cycle_time\\n  - nps", "case.yaml", [])
        >>> doc.line("name"), doc.line("kpis", 1), doc.line("missing")
        (1, 4, 1)
        """
        node, line = self._root, None
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                match = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(key)]
                if not match:
                    break
                node = match[0][1]
                line = match[0][0].start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        if line is None and self._root is not None:
            line = self._root.start_mark.line + 1
        return line


# The files casekit reads in a case folder; nothing else there is read (or fingerprinted, or sent to a cluster).
CASE_FILES = ("case.yaml", "kpis.csv", "appraisals.csv", "practice_areas.csv", "comparison.csv", "results.csv")
MAX_FILE_BYTES = 50 * 10**6
MAX_YAML_DEPTH = 20
MAX_YAML_EVENTS = 200_000


def plain_file_problem(path: Path) -> str | None:
    """Why casekit will not read ``path`` (a link, not a regular file, too large), or None when it will.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    str or None

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "case.yaml").write_text("id: x")
    >>> (folder / "link.yaml").symlink_to(folder / "case.yaml")
    >>> plain_file_problem(folder / "case.yaml"), plain_file_problem(folder / "link.yaml")
    (None, 'is a symbolic link; casekit reads only plain files in the case folder (copy the file in instead)')
    """
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"cannot read the file: {exc.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link; casekit reads only plain files in the case folder (copy the file in instead)"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_size > MAX_FILE_BYTES:
        return f"file is {info.st_size / 1e6:,.0f} MB; a case file may be at most {MAX_FILE_BYTES // 10**6} MB"
    return None


def read_text(path: Path, problems: list[Problem], digests: dict[str, str] | None = None) -> str | None:
    """The file's text, or None with a problem when it is not a plain, bounded, readable UTF-8 file.

    ``digests``, where given, receives the SHA-256 of the bytes read under the file's name: what a render's
    fingerprint needs, without reading the file again.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    problems : list of Problem
        Receives the problem, if any.
    digests : dict of str to str, optional
        Receives the file's SHA-256.

    Returns
    -------
    str or None

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = path.write_bytes(b"caf\\xe9")
    >>> problems = []
    >>> read_text(path, problems), problems[0].message[:30]
    (None, 'file is not UTF-8 (byte 0xe9 a')
    """
    refused = plain_file_problem(path)
    if refused is not None:
        problems.append(Problem(display_path(path), None, "", refused))
        return None
    try:
        with open(path, "rb") as file:
            raw = _read_bounded(file)
    except OSError as exc:
        problems.append(Problem(display_path(path), None, "", f"cannot read the file: {exc.strerror}"))
        return None
    if digests is not None:
        digests[Path(path).name] = hashlib.sha256(raw).hexdigest()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                display_path(path),
                line,
                "",
                f"file is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                "save it as UTF-8",
            )
        )
        return None


def _read_bounded(file) -> bytes:
    """At most MAX_FILE_BYTES + 1 bytes, in chunks: one read of that size would allocate it for every file."""
    chunks, size = [], 0
    while size <= MAX_FILE_BYTES and (chunk := file.read(min(READ_CHUNK, MAX_FILE_BYTES + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


READ_CHUNK = 1 << 16
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _shape_problems(text: str, where: str) -> list[Problem] | None:
    """Problems with the document's shape, read as a stream of events (nothing is built, nothing recurses):
    aliases, depth, size. None when the text does not even parse (the loaders below word that)."""
    if _plainly_shallow(text):
        return []
    try:
        parser = (_FAST_LOADER or yaml.SafeLoader)(text)
    except yaml.YAMLError:  # e.g. a character YAML does not allow, which the loader below words
        return None
    return _scan_events(parser, where)


def _plainly_shallow(text: str) -> bool:
    """True when the text cannot break the limits the event scan enforces, so that the scan is skipped
    (it costs as much as loading the document).

    No ``&`` or ``*``: no anchor and no alias. Every level of nesting opens with a bracket, a ``-`` or ``?``
    item, or a deeper indentation, so their counts bound the depth; a character opens at most a few
    events (``- ``: an item and its empty value), so the length bounds their number.
    """
    if "&" in text or "*" in text or 4 * len(text) > MAX_YAML_EVENTS:
        return False
    indent = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    openers = text.count("[") + text.count("{") + text.count("-") + text.count("?")
    return openers + indent + 1 <= MAX_YAML_DEPTH


def _scan_events(parser, where: str) -> list[Problem] | None:
    depth, count = 0, 0
    try:
        while (event := parser.get_event()) is not None and not isinstance(event, yaml.StreamEndEvent):
            count += 1
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return [Problem(where, line, "", "YAML anchors and aliases (&name, *name) are not allowed in case "
                                                 "files; write each value out")]
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    return [Problem(where, line, "", f"nested more than {MAX_YAML_DEPTH} levels deep")]
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            if count > MAX_YAML_EVENTS:
                return [Problem(where, line, "", f"more than {MAX_YAML_EVENTS:,} values; a case.yaml is far smaller")]
    except (yaml.YAMLError, RecursionError):
        return None
    finally:
        parser.dispose()
    return []


def _value_problems(root: yaml.Node | None, where: str) -> list[Problem]:
    """Keys given twice, numbers written with '_', strings with control characters or lone surrogates."""
    found, todo = [], [root] if root is not None else []
    while todo:
        node = todo.pop()
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        found.append(Problem(where, key.start_mark.line + 1, _excerpt(key.value),
                                             f"given twice (first on line {seen[key.value]}); give it once"))
                    seen.setdefault(key.value, key.start_mark.line + 1)
                todo += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value
        elif isinstance(node, yaml.ScalarNode):
            if node.tag.endswith((":int", ":float")) and "_" in node.value:
                found.append(Problem(where, line, "", f"write numbers without '_': got {_excerpt(node.value)}"))
            elif (bad := _unsafe_character(node.value)) is not None:
                found.append(Problem(where, line, "", f"text holds {bad}; remove it"))
    return sorted(found, key=lambda p: p.line or 0)


# Unicode's control characters (category Cc: U+0000–U+001F, U+007F–U+009F) but tab, newline and carriage
# return, and the lone surrogates a careless decoder leaves
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _unsafe_character(text: str) -> str | None:
    r"""A description of the first control character or lone surrogate in ``text`` (tabs and newlines are
    fine), or None.

    Examples
    --------
    >>> _unsafe_character("a\tb"), _unsafe_character("a\x07b"), _unsafe_character("\ud800")
    (None, 'a control character (U+0007)', 'a lone surrogate (U+D800)')
    """
    found = _UNSAFE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    return f"a lone surrogate (U+{code:04X})" if 0xD800 <= code <= 0xDFFF else f"a control character (U+{code:04X})"


# How spreadsheets write a missing value (lower case): kpis.csv leaves such a row out instead
MISSING_MARKERS = frozenset({"#n/a", "n/a", "na", "nan", "null", "none", "-", "—", "–", "#value!", "#div/0!", "?"})
OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "bars"}


def _header_hint(header: list[str], text: str, required: list[str]) -> str:
    """What a header without the required columns probably is: another delimiter, or the names in other case."""
    first = text.splitlines()[0] if text else ""
    for delimiter, name in OTHER_DELIMITERS.items():
        fields = [f.strip().lower() for f in first.split(delimiter)]
        if len(fields) > 1 and all(column in fields for column in required):
            return (f"the file is separated by {name}, and casekit reads commas: save it as CSV (comma "
                    "delimited), or run `casekit import FILE CASE_DIR`, which reads any separator")
    if all(column in [h.lower() for h in header] for column in required):
        return f"column names are lower case: write the header as {','.join(required)}"
    return ""


def _excerpt(text: str, limit: int = 40) -> str:
    shown = text if len(text) <= limit else text[:limit] + "…"
    return repr(shown)


def read_yaml(path: Path, problems: list[Problem], digests: dict[str, str] | None = None) -> YamlDoc | None:
    """Load a YAML file with the safe loader; None with a problem on any error (``digests``: as :func:`read_text`).

    Parameters
    ----------
    path : pathlib.Path
        The file.
    problems : list of Problem
        Receives the problem, if any.
    digests : dict of str to str, optional
        Receives the file's SHA-256.

    Returns
    -------
    YamlDoc or None

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "case.yaml"
    >>> _ = path.write_text("id: acme\\nname: Acme")
    >>> digests = {}
    >>> read_yaml(path, [], digests).data, list(digests)
    ({'id': 'acme', 'name': 'Acme'}, ['case.yaml'])
    """
    text = read_text(path, problems, digests)
    if text is None:
        return None
    return parse_yaml(text, display_path(path), problems)


def parse_yaml(text: str, where: str, problems: list[Problem]) -> YamlDoc | None:
    """Load YAML text with the safe loader and case files' limits (no anchors or aliases, at most
    MAX_YAML_DEPTH levels and MAX_YAML_EVENTS values); None with a problem, named ``where``, on any error.

    Parameters
    ----------
    text : str
        The YAML.
    where : str
        The file's name for the problem.
    problems : list of Problem
        Receives the problem, if any.

    Returns
    -------
    YamlDoc or None

    Examples
    --------
    >>> problems = []
    >>> parse_yaml("kpis: [cycle_time]", "-y", problems).data, problems
    ({'kpis': ['cycle_time']}, [])
    >>> parse_yaml("a: &x [1]\\nb: *x", "-y", problems) is None, problems[0].message[:25]
    (True, 'YAML anchors and aliases ')
    """
    shape = _shape_problems(text, where)
    if shape:
        problems.extend(shape)
        return None
    if _FAST_LOADER is not None and shape is not None:  # libyaml, several times faster; errors worded below
        loader = _FAST_LOADER(text)
        try:
            return _checked_document(loader, where, problems)
        except yaml.YAMLError:
            pass
        finally:
            loader.dispose()
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        problems.append(Problem(where, line, "", f"character {exc.character!r} is not allowed in YAML"))
        return None
    try:
        return _checked_document(loader, where, problems)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.append(
            Problem(
                where,
                mark.line + 1 if mark else None,
                "",
                f"YAML tag not allowed ({exc.problem}); case files hold plain data only",
            )
        )
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        problems.append(Problem(where, mark.line + 1 if mark else None, "", f"YAML syntax error: {what}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(where, None, "", f"YAML error: {exc}"))
        return None
    except RecursionError:  # nesting the event scan could not measure, because the text does not parse
        problems.append(Problem(where, None, "", f"nested more than {MAX_YAML_DEPTH} levels deep"))
        return None
    finally:
        loader.dispose()


def _checked_document(loader, where: str, problems: list[Problem]) -> YamlDoc | None:
    """The loader's one document, or None with the problems of its values (case files' limits)."""
    root = loader.get_single_node()
    found = _value_problems(root, where)
    if found:
        problems.extend(found)
        return None
    return YamlDoc(loader.construct_document(root) if root is not None else None, root)


class RowProblems:
    """A file's row problems, one per kind: the first row's message, how many rows, and which lines.

    ``add(kind, line, field, message, hint)`` for each row; ``problems()``
    gives one :class:`Problem` per kind, at its first line, reading
    ``message on 102 rows (lines 2–103): hint`` (a kind found once reads as
    the message and hint alone).
    """

    def __init__(self, where: str):
        self.where = where
        self.kinds: dict[str, tuple[str, str, str, list[int]]] = {}

    def add(self, kind: str, line: int, field: str, message: str, hint: str = "") -> None:
        """Record that the row at ``line`` has the problem ``kind``; the first row of a kind gives its message.

        Parameters
        ----------
        kind : str
            What is wrong (rows of one kind are counted together).
        line : int
            The row's line in the file.
        field : str
            The column.
        message : str
            What is wrong with the first row of this kind.
        hint : str, default ""
            How to fix it.

        Examples
        --------
        >>> found = RowProblems("kpis.csv")
        >>> for line in (2, 3, 4, 9):
        ...     found.add("not a number", line, "value", "'n/a' is not a number", "leave the row out")
        >>> print(found.problems()[0])
        kpis.csv:2: value: 'n/a' is not a number on 4 rows (lines 2–4, 9): leave the row out
        """
        self.kinds.setdefault(kind, (field, message, hint, []))[3].append(line)

    def problems(self) -> list[Problem]:
        """One problem per kind, at its first line, counting the rows and naming their lines.

        Returns
        -------
        list of Problem

        Examples
        --------
        >>> found = RowProblems("kpis.csv")
        >>> found.add("no period", 5, "period", "the period is empty")
        >>> [str(problem) for problem in found.problems()]
        ['kpis.csv:5: period: the period is empty']
        """
        found = []
        for field, message, hint, lines in self.kinds.values():
            counted = message if len(lines) == 1 else f"{message} on {len(lines)} rows ({_line_ranges(lines)})"
            found.append(Problem(self.where, lines[0], field, counted + (f": {hint}" if hint else "")))
        return found


def _line_ranges(lines: list[int], shown: int = 3) -> str:
    """``lines 2–103`` or ``lines 2, 5–9, 12 and 40 more``: runs of consecutive lines, the first few.

    Examples
    --------
    >>> _line_ranges([2, 3, 4, 5]), _line_ranges([2, 5, 6, 7, 9, 11, 12, 20])
    ('lines 2–5', 'lines 2, 5–7, 9 and 3 more')
    """
    runs: list[list[int]] = []
    for line in sorted(lines):
        if runs and line == runs[-1][1] + 1:
            runs[-1][1] = line
        else:
            runs.append([line, line])
    text = ", ".join(f"{a}–{b}" if b > a else f"{a}" for a, b in runs[:shown])
    rest = sum(b - a + 1 for a, b in runs[shown:])
    return f"lines {text}" + (f" and {rest} more" if rest else "")


def plain_csv_columns(text: str, required: list[str], optional: list[str]) -> tuple[dict[str, list[str]], list[int]] | None:
    """The columns of a CSV text that needs no CSV parser, and each row's line; None for any other text.

    "Needs no parser": no quotes, no line break but newline (or CRLF), no control character, a header
    naming every ``required`` column and only known ones, once each, and every line holding the header's
    number of fields. Such a text splits on commas exactly as :func:`read_csv` reads it, many times
    faster; anything else goes to :func:`read_csv`, which reports what is wrong.

    Parameters
    ----------
    text : str
        The file's text.
    required, optional : list of str
        The columns a header must and may name.

    Returns
    -------
    tuple of (dict of str to list of str, list of int) or None
        Each column's cells, and each row's line.

    Examples
    --------
    >>> plain_csv_columns("kpi,period,value\\ncycle_time,2020-01,12\\n", ["kpi", "period", "value"], ["note"])
    ({'kpi': ['cycle_time'], 'period': ['2020-01'], 'value': ['12']}, [2])
    >>> plain_csv_columns('kpi,period,value\\n"cycle,time",2020-01,12\\n', ["kpi", "period", "value"], []) is None
    True
    """
    if '"' in text or "\r" in text.replace("\r\n", "") or _unsafe_character(text) is not None:
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    header = [h.strip() for h in lines[0].split(",")]
    if set(required) - set(header) or set(header) - set(required) - set(optional) or len(set(header)) < len(header):
        return None
    width = len(header)
    body = lines[1:-1] if lines[-1] == "" else lines[1:]
    if body and not any(c in text for c in " \t") and all(line.count(",") == width - 1 for line in body) \
            and all(line.strip(",") for line in body):
        # no blank line and nothing to strip: one split of the whole text gives every cell in order
        cells = ",".join(body).split(",")
        return {name: cells[i::width] for i, name in enumerate(header)}, list(range(2, len(body) + 2))
    fields, numbers = [], []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        if len(cells) != width:
            if line.strip(", \t"):
                return None
            continue  # a blank line, as read_csv skips it
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        fields.append(cells)
        numbers.append(number)
    if not fields:
        return None
    columns = {name: list(values) for name, values in zip(header, zip(*fields))}
    return columns, numbers


def read_csv(
    path: Path, required: list[str], optional: list[str], problems: list[Problem], header_hint=None,
    digests: dict[str, str] | None = None,
) -> list[tuple[int, dict[str, str]]] | None:
    """Rows of a CSV file as ``(line, {column: text})``; None when unusable (see :func:`csv_rows`;
    ``digests``: as :func:`read_text`).

    Parameters
    ----------
    path : pathlib.Path
        The file.
    required, optional : list of str
        The columns a header must and may name.
    problems : list of Problem
        Receives the problems.
    header_hint : callable, optional
        As :func:`csv_rows`.
    digests : dict of str to str, optional
        Receives the file's SHA-256.

    Returns
    -------
    list of (int, dict of str to str) or None

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "kpis.csv"
    >>> _ = path.write_text("kpi,period,value\\ncycle_time,2020-01,12\\n")
    >>> read_csv(path, ["kpi", "period", "value"], [], [])
    [(2, {'kpi': 'cycle_time', 'period': '2020-01', 'value': '12'})]
    """
    text = read_text(path, problems, digests)
    if text is None:
        return None
    return csv_rows(text, display_path(path), required, optional, problems, header_hint)


def csv_rows(
    text: str, where: str, required: list[str], optional: list[str], problems: list[Problem], header_hint=None
) -> list[tuple[int, dict[str, str]]] | None:
    """Rows of a CSV file's ``text`` as ``(line, {column: text})``; None when unusable, with the problems
    named ``where``.

    The header must name every ``required`` column; other columns must be in
    ``optional``. Rows with too many or too few fields are reported and skipped.
    ``header_hint(header, text)``, where given, says what a header that lacks
    a required column probably is (another delimiter, another layout).

    Parameters
    ----------
    text : str
        The file's text.
    where : str
        The file's name for the problems.
    required, optional : list of str
        The columns a header must and may name.
    problems : list of Problem
        Receives the problems.
    header_hint : callable, optional
        ``header_hint(header, text) -> str``.

    Returns
    -------
    list of (int, dict of str to str) or None

    Examples
    --------
    >>> problems = []
    >>> csv_rows("kpi;period;value\\ncycle_time;2020-01;12\\n", "kpis.csv", ["kpi", "period", "value"], [], problems)
    >>> print(problems[0])
    kpis.csv:1: kpi,period,value: missing column(s); the header must name kpi,period,value: the file is separated by semicolons, and casekit reads commas: save it as CSV (comma delimited), or run `casekit import FILE CASE_DIR`, which reads any separator
    """
    if not text.strip():
        problems.append(Problem(where, None, "", f"file is empty; expected a header line: {','.join(required)}"))
        return None
    plain = plain_csv_columns(text, required, optional)
    if plain is not None:  # read as the CSV reader would, without it
        columns, lines = plain
        return [(line, dict(zip(columns, cells))) for line, cells in zip(lines, zip(*columns.values()))]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        problems.append(Problem(where, 1, "", f"CSV error: {exc}"))
        return None
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required and c not in optional]
    if missing:
        hint = _header_hint(header, text, required) or (header_hint(header, text) if header_hint else "")
        problems.append(
            Problem(where, 1, ",".join(missing), f"missing column(s); the header must name {','.join(required)}"
                    + (f": {hint}" if hint else ""))
        )
        if hint:  # the hint explains the whole header: its other names are no news
            return None
    if unknown:
        allowed = ", ".join(required + optional)
        problems.append(Problem(where, 1, ",".join(unknown), f"unknown column(s); allowed: {allowed}"))
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(Problem(where, 1, ",".join(duplicated), "column named twice in the header"))
    if missing or duplicated:
        return None
    rows = []
    scan = _unsafe_character(text) is not None  # look at each field only in a file that holds one
    grouped = RowProblems(where)
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                split = len(fields) == len(header) + 1 and all(f.strip().isdigit() for f in fields[-2:])
                grouped.add(f"fields {len(fields)}", line, "", f"expected {len(header)} fields as in the header, "
                            f"found {len(fields)}", "a decimal comma splits an unquoted value in two (12,5): write "
                            "12.5, or run `casekit import FILE CASE_DIR`" if split else "")
                continue
            bad = next((b for f in fields if (b := _unsafe_character(f)) is not None), None) if scan else None
            if bad is not None:
                problems.append(Problem(where, line, "", f"a field holds {bad}; remove it"))
                continue
            rows.append((line, {h: f.strip() for h, f in zip(header, fields) if h not in unknown}))
    except csv.Error as exc:
        problems.extend(grouped.problems())
        problems.append(Problem(where, reader.line_num, "", f"CSV error: {exc}"))
        return None
    problems.extend(grouped.problems())
    if not rows and not grouped.kinds:
        problems.append(Problem(where, None, "", "no data rows below the header"))
    return rows
