"""The package's seams: no module imports another's private names, no import cycle, `_fast` private to rendering."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "casekit"


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _imports(name: str, tree: ast.Module, top_level_only: bool):
    """(module imported, names taken from it) for each casekit import in ``tree``."""
    package = name if name in _PACKAGES else name.rpartition(".")[0]
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("casekit")):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            module = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            yield module, [alias.name for alias in node.names]


_PACKAGES = {".".join(p.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py") for p in [p.parent]}


def test_no_module_imports_a_private_name_of_another():
    offenders = []
    for name, tree in _modules().items():
        for module, names in _imports(name, tree, top_level_only=False):
            offenders += [f"{name} imports {module}.{n}" for n in names if n.startswith("_") and not n.startswith("__")]
    assert not offenders, offenders


def test_fast_is_imported_only_from_inside_rendering():
    offenders = [f"{name} imports {module}" for name, tree in _modules().items()
                 for module, _ in _imports(name, tree, top_level_only=False)
                 if "._fast" in module and not name.startswith("casekit.rendering")]
    assert not offenders, offenders


def test_no_import_cycle_between_modules():
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, tree in modules.items():
        for module, names in _imports(name, tree, top_level_only=True):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules] or [module]
            graph[name] |= {t for t in targets if t in modules and t != name}
    # a package's __init__ importing its own modules is how packages are made, not a cycle
    for name in graph:
        graph[name] = {t for t in graph[name] if not (name in _PACKAGES and t.startswith(name + "."))}
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for target in graph[node]:
            if state.get(target) == 1:
                raise AssertionError(" -> ".join(path + [node, target]))
            if target not in state:
                visit(target, path + [node])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [])


# The layers, lowest first (docs/architecture.md): a module imports only from its own layer or those below.
# Each layer but the base and the entry points is a subpackage, so that a module's path says its layer.
LAYERS = {
    "base": ["errors", "atomic", "version"],
    "inputs": ["inputs"],
    "stats": ["stats"],
    "report": ["report"],
    "rendering": ["rendering"],
    "entry points": ["__init__", "cli", "__main__"],
}


def _layer_of(name: str) -> int:
    short = name.removeprefix("casekit").lstrip(".") or "__init__"
    head = short.split(".")[0]
    for rank, modules in enumerate(LAYERS.values()):
        if head in modules:
            return rank
    raise AssertionError(f"casekit.{short} is in no layer: add it to LAYERS and to docs/architecture.md")


def test_every_layer_but_the_base_is_a_package_holding_only_modules():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == set(LAYERS["base"]) | set(LAYERS["entry points"]), "a new module goes into a layer's package"
    for layer in ("inputs", "stats", "report", "rendering"):
        assert (PACKAGE / layer / "__init__.py").is_file(), layer


def test_every_module_imports_only_from_its_layer_or_below():
    offenders = []
    names = list(LAYERS)
    modules = _modules()
    for name, tree in modules.items():
        for module, imported in _imports(name, tree, top_level_only=False):
            # `from . import plots` imports a module; `from casekit import x` takes a name from the package
            for target in [f"{module}.{n}" if f"{module}.{n}" in modules else module for n in imported]:
                if _layer_of(target) > _layer_of(name):
                    offenders.append(f"{name} ({names[_layer_of(name)]}) imports {target} "
                                     f"({names[_layer_of(target)]})")
    assert not offenders, offenders


def test_the_architecture_page_names_every_layer_and_module():
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    names = [m for modules in LAYERS.values() for m in modules]
    names += [p.stem for layer in LAYERS.values() for name in layer if (PACKAGE / name).is_dir()
              for p in (PACKAGE / name).glob("*.py") if p.stem != "__init__"]
    missing = [m for m in names if f"`{m}`" not in page and f"`casekit/{m}/`" not in page]
    assert not missing, missing
