"""Inline figures painted once: the same picture as IPython's tight crop, and used only where it applies."""

import base64
import io
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import papermill
import pytest
from IPython.core.pylabtools import print_figure
from PIL import Image

from casekit.report.inline import figure_png


def _image(data: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")).astype(int)


def _dated_chart():
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(np.arange(24), np.sin(np.arange(24)), marker="o", label="before")
    ax.set_title("A KPI (lower is better)")
    ax.set_ylabel("defects per KLOC")
    ax.legend(loc="upper right")
    return fig


def _labels_past_the_left_edge():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.barh(range(3), [1, 2, 3])
    ax.set_yticks(range(3), ["Causal Analysis and Resolution", "Configuration Management", "Risk Management"])
    return fig


@pytest.mark.parametrize("make", [_dated_chart, _labels_past_the_left_edge])
def test_the_picture_is_ipythons_tight_crop(make):
    fig = make()
    ours, theirs = _image(figure_png(fig)), _image(print_figure(fig, "png", base64=True))
    plt.close(fig)
    # the crop's edges round to whole pixels, so the sizes may differ by a pixel or two
    assert abs(ours.shape[0] - theirs.shape[0]) <= 2 and abs(ours.shape[1] - theirs.shape[1]) <= 2
    rows, columns = min(ours.shape[0], theirs.shape[0]), min(ours.shape[1], theirs.shape[1])
    best = min(np.abs(np.roll(ours[:rows, :columns], (dy, dx), axis=(0, 1)) - theirs[:rows, :columns]).mean()
               for dy in (-2, -1, 0, 1, 2) for dx in (-2, -1, 0, 1, 2))
    assert best < 3  # out of 255: the same picture, up to anti-aliasing at sub-pixel offsets
    assert ours.mean() < 250  # not blank


def test_an_opaque_figure_is_written_without_alpha_and_no_larger():
    fig = _dated_chart()
    ours, theirs = figure_png(fig), print_figure(fig, "png", base64=True)
    fig.patch.set_alpha(0.5)
    see_through = Image.open(io.BytesIO(base64.b64decode(figure_png(fig))))
    plt.close(fig)
    assert Image.open(io.BytesIO(base64.b64decode(ours))).mode == "RGB"
    assert len(ours) <= len(theirs)
    assert see_through.mode == "RGBA" and np.asarray(see_through)[..., 3].min() < 255


def test_content_past_the_canvas_is_kept():
    fig = _labels_past_the_left_edge()
    fig.canvas.draw()
    overflow = -fig.get_tightbbox(fig.canvas.get_renderer()).x0 * fig.dpi
    assert overflow > 20  # pixels of label left of the canvas: the case a crop cannot handle
    picture = _image(figure_png(fig))
    plt.close(fig)
    pad = round(0.1 * fig.dpi)
    assert (picture[:, pad:pad + int(overflow)] < 128).any()  # the labels' first letters are in the picture


def test_an_empty_figure_shows_nothing():
    fig = plt.figure()
    assert figure_png(fig) is None
    plt.close(fig)


def _run(tmp_path: Path, source: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, tmp_path / "in.ipynb")
    return papermill.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), engine_name="casekit",
                                      progress_bar=False, kernel_name="python3")


def test_enable_shows_notebook_figures_with_it(tmp_path: Path):
    nb = _run(tmp_path, "%matplotlib inline\n"
                        "import matplotlib.pyplot as plt\n"
                        "from casekit import inline\n"
                        "from matplotlib.figure import Figure\n"
                        "assert inline.enable()\n"
                        "formatter = get_ipython().display_formatter.formatters['image/png']\n"
                        "assert formatter.lookup_by_type(Figure) is inline.figure_png_with_alt\n"
                        "plt.plot([1, 3, 2]); plt.title('Defects by month'); plt.show()")
    pictures = [o for o in nb.cells[0].outputs if "image/png" in o.get("data", {})]
    assert len(pictures) == 1 and _image(pictures[0]["data"]["image/png"]).shape[1] < 6.4 * 100
    assert pictures[0]["metadata"]["image/png"]["alt"] == "Chart: Defects by month"  # the report's alt text


def test_enable_leaves_other_formats_alone(tmp_path: Path):
    nb = _run(tmp_path, "%matplotlib inline\n"
                        "%config InlineBackend.figure_formats = ['svg']\n"
                        "from casekit import inline\n"
                        "print(inline.enable())")
    assert nb.cells[0].outputs[0]["text"].strip() == "False"
