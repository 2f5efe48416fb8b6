"""casekit as a user installs it: the wheel, built from a copy of the sources and installed (not editable) into
a fresh virtual environment, then used from a folder that holds nothing of the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # `make test-fast` leaves these out; `make test` and CI run them

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with casekit's wheel installed; its dependencies come from this venv's site-packages."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"  # building writes build/ and egg-info: into a copy of the tracked files, not here
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True, capture_output=True,
                             text=True).stdout.split("\0")
    for name in filter(None, tracked):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            target.symlink_to(os.readlink(ROOT / name))
        elif (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(root / "dist"), str(source)], check=True, capture_output=True, timeout=600)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # a plain path line: this venv's packages importable, its .pth files (casekit's editable finder) not run
    Path(purelib, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    wheel = next((root / "dist").glob("casekit-*.whl"))
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    return venv


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # the dependencies' data files (nbconvert's templates) are under this venv's prefix, not the new one's
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_wheel_carries_the_notebooks_data_and_templates(installed: Path):
    wheel = next((installed.parent / "dist").glob("casekit-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("casekit/notebooks/case_report.ipynb", "casekit/notebooks/portfolio_report.ipynb",
                     "casekit/notebooks/workshop/01_read_a_case.ipynb", "casekit/data/sei_performance_results_2006.csv",
                     "casekit/data/cases/quantia-tech/case.yaml", "casekit/rendering/templates/index.html.j2",
                     "casekit/rendering/_fast/server.py", "casekit/templates/new_case/case.yaml",
                     "casekit/templates/new_published_case/results.csv"):
        assert expected in names, expected


def test_init_render_with_parameters_and_workshop_from_any_folder(installed: Path, tmp_path: Path):
    where = _run(installed, "python", "-c", "import casekit; print(casekit.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(installed)), where.stdout + where.stderr  # the wheel, not the checkout

    made = _run(installed, "casekit", "init", "study", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    study = tmp_path / "study"
    assert sorted(p.name for p in study.iterdir()) == ["README.md", "cases", "notebooks"]
    assert "casekit render" in (study / "README.md").read_text(encoding="utf-8")

    rendered = _run(installed, "casekit", "render", "-p", "alpha", "0.1", "-p", "correction", "bh",
                    "--no-progress-bar", cwd=study)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert "1 report: 1 rendered, 0 failed" in rendered.stdout and "no portfolio report: it compares two or more valid cases, and this render had 1" in rendered.stdout  # one case: no portfolio to compare it with
    assert not (study / "reports" / "portfolio.html").exists()
    case = nbformat.read(study / "reports" / "quantia-tech.ipynb", as_version=4)
    assert "(90% confidence" in "".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", ""))
                                        for c in case.cells for o in c.get("outputs", []))
    assert "Quantia" in (study / "reports" / "index.html").read_text(encoding="utf-8")

    shutil.copytree(study / "cases" / "quantia-tech", study / "cases" / "quantia-tech-2")
    yaml = study / "cases" / "quantia-tech-2" / "case.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("id: quantia-tech", "id: quantia-tech-2"), encoding="utf-8")
    own = _run(installed, "casekit", "render", "--notebooks", "notebooks", "--out", "mine", "--no-progress-bar",
               "-p", "meta_method", "PM", cwd=study)  # the project's editable copies, and a portfolio of two
    assert own.returncode == 0, own.stdout + own.stderr
    portfolio = nbformat.read(study / "mine" / "portfolio.ipynb", as_version=4)
    assert portfolio.metadata.papermill.parameters["meta_method"] == "PM"
    assert "meta_method" not in nbformat.read(study / "mine" / "quantia-tech.ipynb",
                                              as_version=4).metadata.papermill.parameters  # the case report has none

    refused = _run(installed, "casekit", "render", "-p", "alpha", "5", cwd=study)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "casekit render: alpha must be a number between 0 and 1" in refused.stderr

    workshop = _run(installed, "casekit", "workshop", "--out", "handouts", "--no-progress-bar", cwd=tmp_path)
    assert workshop.returncode == 0, workshop.stdout + workshop.stderr
    for audience in ("learner", "instructor"):
        assert len(list((tmp_path / "handouts" / audience).glob("0*.html"))) == 4
        assert (tmp_path / "handouts" / audience / "cases" / "northwood-paper" / "case.yaml").is_file()
    assert (tmp_path / "handouts" / "instructor" / "facilitator_guide.html").is_file()  # from the installed wheel


def test_a_default_render_from_the_wheel_reads_on_a_desktop_and_a_phone(installed: Path, tmp_path: Path):
    """`casekit init` then `casekit render`, as an installed user runs them, looked at in Chromium at 1280 and
    390 px: no code and no path of this machine, the portfolio's paragraph first, nothing clipped on a phone,
    and charts at their drawn size there."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    assert _run(installed, "casekit", "init", "study", cwd=tmp_path).returncode == 0
    study = tmp_path / "study"
    shutil.copytree(study / "cases" / "quantia-tech", study / "cases" / "acme")
    yaml = study / "cases" / "acme" / "case.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("id: quantia-tech", "id: acme"), encoding="utf-8")
    rendered = _run(installed, "casekit", "render", "--no-progress-bar", cwd=study)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    measure = """() => {
        const cells = Array.from(document.querySelectorAll('table.casekit-table td'));
        const headline = document.querySelector('.casekit-headline');
        const firstTable = document.querySelector('table');
        return {
            text: document.body.innerText, scroll: document.documentElement.scrollWidth, width: window.innerWidth,
            clipped: cells.filter(td => td.getBoundingClientRect().width > 0 && (td.scrollWidth > td.clientWidth + 1
                                  || td.getBoundingClientRect().right > window.innerWidth + 1)).length,
            shrunk: Array.from(document.images).filter(i => i.getBoundingClientRect().width < i.naturalWidth - 1).length,
            headlineFirst: !!headline && (!firstTable || headline.getBoundingClientRect().top
                                          < firstTable.getBoundingClientRect().top),
        };
    }"""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        for width in (1280, 390):
            page = browser.new_page(viewport={"width": width, "height": 900})
            for report in ("portfolio", "acme"):
                page.goto((study / "reports" / f"{report}.html").as_uri())
                seen = page.evaluate(measure)
                assert str(tmp_path) not in seen["text"] and "import casekit" not in seen["text"], report
                assert seen["scroll"] <= seen["width"] and seen["clipped"] == 0, (report, width, seen["clipped"])
                assert seen["headlineFirst"], report
                if width == 390:
                    assert seen["shrunk"] == 0, report  # chart text as legible as on a desktop
            page.goto((study / "reports" / "portfolio.html").as_uri())
            assert page.evaluate("() => document.querySelector('.casekit-headline').innerText").startswith(
                "Organization by organization, ")
            page.close()
        browser.close()
