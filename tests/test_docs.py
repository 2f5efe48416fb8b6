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
    assert len(public) <= 25 and public <= documented, public - documented
    assert all(getattr(ck, name) is not None for name in ck.__all__)
