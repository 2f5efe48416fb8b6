"""The fast render path: an in-process kernel in a child forked per report from a worker that imported once."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import papermill
import pytest
from conftest import after_parameters

import casekit as ck
from casekit.rendering._fast import forking, inprocess
from casekit.rendering._fast.forking import ChildDied, run_forked

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "casekit" / "notebooks"


def _checked(notebook: Path) -> list[str]:
    """The text each cell marked NBVAL_CHECK_OUTPUT printed or displayed as plain text (the numbers a report is
    tested on).

    Joined per cell: a kernel process may split one print across stream outputs, depending on when it flushes.
    """
    nb = nbformat.read(notebook, as_version=4)
    return ["".join(o.get("text", "") or "".join(o.get("data", {}).get("text/plain", "")) for o in c.outputs)
            for c in nb.cells if "NBVAL_CHECK_OUTPUT" in c.source]


def _outputs(notebook: Path) -> list[list[str]]:
    """Each code cell's output kinds (stream name or MIME types), in order, a run of one stream counted once."""
    nb = nbformat.read(notebook, as_version=4)
    kinds = [[o.get("name") or ",".join(sorted(o.get("data", {}))) or o.output_type for o in c.outputs]
             for c in nb.cells if c.cell_type == "code"]
    return [[kind for i, kind in enumerate(cell) if i == 0 or kind != cell[i - 1]] for cell in kinds]


@pytest.mark.slow
def test_same_report_from_both_engines(tmp_path: Path):
    tables = {engine: ck.render(ROOT / "cases", tmp_path / engine, case_ids=["quantia-tech", "voltcart-ecommerce"],
                                engine=engine,
                                progress=False) for engine in ("casekit", "nbclient")}
    assert all((table["status"] == "ok").all() for table in tables.values())
    for name in ("quantia-tech", "portfolio"):
        fast, kernel = tmp_path / "casekit" / f"{name}.ipynb", tmp_path / "nbclient" / f"{name}.ipynb"
        assert _checked(fast) and _checked(fast) == _checked(kernel)
        assert _outputs(fast) == _outputs(kernel)  # same streams, tables and figures, cell by cell
        assert nbformat.read(fast, as_version=4).metadata.language_info.name == "python"
    assert tables["casekit"]["headline"].tolist() == tables["nbclient"]["headline"].tolist()


def _leaky_notebooks(tmp_path: Path) -> Path:
    """Notebooks whose every report fails if it can see anything an earlier report defined or changed."""
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    nb = nbformat.read(folder / "case_report.ipynb", as_version=4)
    probe = nbformat.v4.new_code_cell(textwrap.dedent("""\
        import os, sys
        import pandas as pd
        import casekit
        assert "left_by_a_report" not in globals(), left_by_a_report
        assert not hasattr(casekit, "left_by_a_report"), casekit.left_by_a_report
        assert pd.get_option("display.max_rows") != 7, "pandas options leaked"
        assert "leaky_module" not in sys.modules
        left_by_a_report = case_id
        casekit.left_by_a_report = case_id
        pd.set_option("display.max_rows", 7)
        sys.modules["leaky_module"] = casekit
        print("pid", os.getpid())"""))
    nb.cells.insert(after_parameters(nb), probe)
    nbformat.write(nb, folder / "case_report.ipynb")
    return folder


@pytest.mark.slow
def test_each_report_starts_from_a_fresh_interpreter(tmp_path: Path):
    # One worker renders every report in turn: anything one report left behind, the next would see.
    table = ck.render(ROOT / "cases", tmp_path / "out", jobs=1, progress=False, engine="casekit",
                      notebooks=_leaky_notebooks(tmp_path)).set_index("report")
    assert (table["status"] == "ok").all(), table["error"].to_dict()
    pids = set()
    for name in table.index.drop("portfolio"):
        nb = nbformat.read(tmp_path / "out" / f"{name}.ipynb", as_version=4)
        pids |= {o.text for c in nb.cells for o in c.get("outputs", []) if o.get("text", "").startswith("pid")}
    assert len(pids) == len(table) - 1  # a process of its own for every report


def _run_notebook(cells: list[str], tmp_path: Path, timeout: float | None = None):
    """Run a notebook with the casekit engine in a forked child, as render's workers do."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source, target = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, source)

    def execute():
        try:
            papermill.execute_notebook(str(source), str(target), engine_name="casekit", progress_bar=False,
                                       execution_timeout=timeout)
        except papermill.PapermillExecutionError as error:
            return error.exec_count, error.ename, error.evalue
        return None

    return run_forked(execute), nbformat.read(target, as_version=4)


def test_engine_records_outputs_like_a_kernel(tmp_path: Path):
    error, nb = _run_notebook([
        "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\n6 * 7",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",
        "from IPython.display import display, Markdown\ndisplay(Markdown('**bold**'))",
    ], tmp_path)
    assert error is None
    first, chart, markdown = (cell.outputs for cell in nb.cells)
    assert [(o.output_type, o.get("name")) for o in first] == [
        ("stream", "stdout"), ("stream", "stderr"), ("execute_result", None)]
    assert first[0].text == "to stdout\n" and first[2].data["text/plain"] == "42"
    assert "image/png" in chart[-1].data
    assert markdown[0].data["text/markdown"] == "**bold**"
    assert [cell.execution_count for cell in nb.cells] == [1, 2, 3]


def test_engine_stops_at_the_first_error_and_names_its_cell(tmp_path: Path):
    error, nb = _run_notebook(["x = 1", "raise ValueError('bad input')", "print('never')"], tmp_path)
    assert error == (2, "ValueError", "bad input")
    assert nb.cells[-1].outputs == [] and nb.metadata.papermill.exception
    assert any(o.output_type == "error" for o in nb.cells[-2].outputs)  # papermill's banner is cell 0


def test_engine_times_a_cell_out(tmp_path: Path):
    error, _ = _run_notebook(["import time\ntime.sleep(60)"], tmp_path, timeout=1)
    assert error[1] == "CellTimeoutError" and "1 s timeout" in error[2]


def test_a_cell_python_cannot_interrupt_is_stopped_after_the_grace_period(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(inprocess, "_GRACE", 1.0)
    blocked = "import signal, time\nsignal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])\ntime.sleep(60)"
    with pytest.raises(ChildDied, match="exited with code 1"):
        _run_notebook([blocked], tmp_path, timeout=1)


def test_papermill_cli_finds_the_engine(tmp_path: Path):
    result = subprocess.run([str(Path(sys.executable).parent / "papermill"), str(NOTEBOOKS / "case_report.ipynb"),
                             str(tmp_path / "out.ipynb"), "--engine", "casekit", "-p", "case_id", "quantia-tech",
                             "-p", "cases_dir", str(ROOT / "cases"), "--cwd", str(NOTEBOOKS), "--no-progress-bar"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert any("Of 5 KPIs" in text for text in _checked(tmp_path / "out.ipynb"))


def test_run_forked_returns_raises_and_reports_a_dead_child():
    assert run_forked(os.getpid) != os.getpid()
    with pytest.raises(ZeroDivisionError):
        run_forked(lambda: 1 / 0)
    with pytest.raises(ChildDied, match="killed by signal 9"):
        run_forked(lambda: os.kill(os.getpid(), 9))


def test_the_engine_module_can_be_imported_before_papermill():
    # papermill loads its engines' entry points while it is being imported; that must not find casekit half-made
    code = ("import casekit.rendering.engine\n"
            "from papermill.engines import papermill_engines\n"
            "print(papermill_engines.get_engine('casekit') is casekit.rendering.engine.InProcessEngine)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr[-2000:]


def test_preload_follows_the_notebooks_and_casekits_imports(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport json\nfrom email import message\nfrom . import x")]
    nbformat.write(nb, tmp_path / "n.ipynb")
    assert forking.notebook_imports([tmp_path / "n.ipynb", tmp_path / "gone.ipynb"]) == {"json", "email"}
    found = forking.package_imports(forking.PACKAGE)
    assert {"casekit", "casekit.rendering.batch", "statsmodels.stats.meta_analysis", "seaborn"} <= found
    assert "casekit.__main__" not in found  # importing it would run the command line
    assert not {"distributed", "casekit.rendering.cluster", "casekit.rendering._fast.server"} & found  # only the Dask client and workers need them


def test_a_render_server_forks_each_report_into_a_process_group_of_its_own(tmp_path: Path):
    from casekit.rendering._fast.server import RenderServer
    from casekit.rendering.jobs import Job

    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nprint(os.getppid(), os.getpgid(0) == os.getpid())")])
    nbformat.write(probe, tmp_path / "probe.ipynb")
    server = RenderServer([str(NOTEBOOKS / "case_report.ipynb")])
    try:
        seen = []
        for name in ("a", "b"):
            outcome = server.render(Job(name, str(tmp_path / "probe.ipynb"), {}, str(tmp_path), engine="casekit"))
            assert outcome.status == "ok", outcome.failure
            seen.append(nbformat.read(tmp_path / f"{name}.ipynb", as_version=4).cells[0].outputs[0]["text"].split())
    finally:
        server.close()
    assert seen == [[str(server.pid), "True"]] * 2  # forked from it, in a group of its own


def test_iris_are_still_validated_in_a_render_process():
    # render processes put off building rfc3987-syntax's grammar (benchmarks/hacks_bench.py measures why)
    script = textwrap.dedent("""\
        from casekit.rendering._fast.forking import defer_iri_grammar
        defer_iri_grammar()
        import nbformat, jsonschema
        checker = jsonschema.FormatChecker()
        print(checker.conforms("https://example.org/caf%C3%A9", "iri"), checker.conforms("no scheme", "iri"))""")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


def test_unknown_engine_is_refused(tmp_path: Path):
    with pytest.raises(ck.RenderError, match="unknown engine"):
        ck.render(ROOT / "cases", tmp_path, engine="spark", progress=False)


@pytest.mark.slow
def test_cli_takes_an_engine(tmp_path: Path):
    result = subprocess.run([str(Path(sys.executable).parent / "casekit"), "render", str(ROOT / "cases"), "--out",
                             str(tmp_path), "--case", "voltcart-ecommerce", "--engine", "nbclient",
                             "--no-progress-bar"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "manifest.json").read_text())  # both reports recorded


def test_engine_refuses_another_language(tmp_path: Path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.metadata.kernelspec = {"name": "ir", "display_name": "R", "language": "R"}
    nbformat.write(nb, tmp_path / "r.ipynb")
    with pytest.raises(papermill.PapermillException, match="Python notebooks only, not R"):
        run_forked(papermill.execute_notebook, str(tmp_path / "r.ipynb"), str(tmp_path / "out.ipynb"),
                   engine_name="casekit", kernel_name="ir", progress_bar=False)


def test_headline_survives_a_print_split_across_outputs():
    from casekit.rendering.export import headline

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", metadata={"tags": ["findings"]})])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="-"),
                           nbformat.v4.new_output("stream", name="stdout", text=" Of 5 KPIs, 5 improved\n- more\n")]
    assert headline(nb) == "Of 5 KPIs, 5 improved"
