"""The README stays short and its links resolve; the API reference covers every public name.

The site itself is built with `mkdocs build --strict` by `make docs` (in CI), which fails on a broken link,
anchor or API reference."""

import re
from pathlib import Path

import casekit as ck

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_short_and_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    first_section = text.split("\n## ")[1]
    assert first_section.startswith("Two commands") and "make report" in first_section and "make test" in first_section


def test_readme_links_resolve():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://")) and not (ROOT / target).exists():
            broken.append(target)
    assert not broken, broken


def test_the_public_api_is_small_and_every_name_is_documented():
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: casekit\.[\w.]+\.(\w+)$", page, flags=re.M))
    public = set(ck.__all__) - {"__version__"}
    assert len(public) <= 26 and public <= documented, public - documented
    assert all(getattr(ck, name) is not None for name in ck.__all__)


# Functions whose example needs what a test cannot start in a second: a Dask scheduler.
NEEDS_A_CLUSTER = {"casekit/rendering/cluster.py:DaskRunner.run", "casekit/rendering/cluster.py:DaskRunner.close"}


def _public_functions():
    """(where, function node, takes_self) for every public function and method of casekit's public modules."""
    import ast

    for path in sorted((ROOT / "casekit").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if any(part.startswith("_") and part not in ("__init__.py", "__main__.py") for part in path.parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                yield f"{relative}:{node.name}", node, False
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                protocol = any(getattr(base, "id", "") == "Protocol" for base in node.bases)
                for method in node.body:
                    properties = {getattr(d, "id", "") for d in method.decorator_list} if isinstance(
                        method, ast.FunctionDef) else set()
                    if (isinstance(method, ast.FunctionDef) and not method.name.startswith("_") and not protocol
                            and "property" not in properties):
                        yield f"{relative}:{node.name}.{method.name}", method, "staticmethod" not in properties


def _gives_back(node) -> bool:
    """Whether the function returns a value or yields (not counting the functions defined inside it)."""
    import ast

    stack = list(node.body)
    while stack:
        child = stack.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(child, (ast.Yield, ast.YieldFrom)) or (isinstance(child, ast.Return) and child.value is not None):
            return True
        stack.extend(ast.iter_child_nodes(child))
    return False


def test_every_public_function_has_numpydoc_sections_and_an_example():
    import ast

    lacking = []
    for where, node, method in _public_functions():
        doc = ast.get_docstring(node) or ""
        arguments = [a.arg for a in node.args.args[1 if method else 0:] + node.args.kwonlyargs]
        arguments += [a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None]
        wanted = {"Parameters": bool(arguments), "Returns|Yields": _gives_back(node),
                  "Examples": where not in NEEDS_A_CLUSTER}
        for section, needed in wanted.items():
            if needed and not re.search(rf"^\s*({section})\n\s*-{{3,}}", doc, flags=re.M):
                lacking.append(f"{where}: {section}")
        if wanted["Examples"] and ">>>" not in doc:
            lacking.append(f"{where}: a doctest")
    assert not lacking, "\n".join(lacking)
