"""Reading a case's files with the line numbers that problems point at.

Only reading happens here: text must be UTF-8, YAML is loaded with the safe
loader (no tags that construct objects), CSV rows keep their line numbers.
What the values mean is checked in ``casekit.validation``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, display_path


class YamlDoc:
    """A parsed YAML mapping plus the line where each field was written."""

    def __init__(self, data: Any, root: yaml.Node | None):
        self.data = data
        self._root = root

    def line(self, *keys: str | int) -> int | None:
        """1-based line of the deepest node reachable along ``keys``."""
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


def read_text(path: Path, problems: list[Problem]) -> str | None:
    """The file's text, or None with a problem when it is not UTF-8."""
    raw = path.read_bytes()
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


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def read_yaml(path: Path, problems: list[Problem]) -> YamlDoc | None:
    """Load a YAML file with the safe loader; None with a problem on any error."""
    text = read_text(path, problems)
    if text is None:
        return None
    if _FAST_LOADER is not None:  # libyaml, several times faster; an error is worded by the pure loader below
        loader = _FAST_LOADER(text)
        try:
            root = loader.get_single_node()
            return YamlDoc(loader.construct_document(root) if root is not None else None, root)
        except yaml.YAMLError:
            pass
        finally:
            loader.dispose()
    where = display_path(path)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        problems.append(Problem(where, line, "", f"character {exc.character!r} is not allowed in YAML"))
        return None
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
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
    finally:
        loader.dispose()
    return YamlDoc(data, root)


def read_csv(
    path: Path, required: list[str], optional: list[str], problems: list[Problem]
) -> list[tuple[int, dict[str, str]]] | None:
    """Rows of a CSV file as ``(line, {column: text})``; None when unusable.

    The header must name every ``required`` column; other columns must be in
    ``optional``. Rows with too many or too few fields are reported and skipped.
    """
    text = read_text(path, problems)
    if text is None:
        return None
    where = display_path(path)
    if not text.strip():
        problems.append(Problem(where, None, "", f"file is empty; expected a header line: {','.join(required)}"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        problems.append(Problem(where, 1, "", f"CSV error: {exc}"))
        return None
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required and c not in optional]
    if missing:
        problems.append(
            Problem(where, 1, ",".join(missing), f"missing column(s); the header must name {','.join(required)}")
        )
    if unknown:
        allowed = ", ".join(required + optional)
        problems.append(Problem(where, 1, ",".join(unknown), f"unknown column(s); allowed: {allowed}"))
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(Problem(where, 1, ",".join(duplicated), "column named twice in the header"))
    if missing or duplicated:
        return None
    rows = []
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                problems.append(
                    Problem(where, line, "", f"expected {len(header)} fields as in the header, found {len(fields)}")
                )
                continue
            rows.append((line, {h: f.strip() for h, f in zip(header, fields) if h not in unknown}))
    except csv.Error as exc:
        problems.append(Problem(where, reader.line_num, "", f"CSV error: {exc}"))
        return None
    if not rows:
        problems.append(Problem(where, None, "", "no data rows below the header"))
    return rows
