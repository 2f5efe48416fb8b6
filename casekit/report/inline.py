"""Inline figures drawn once: a PNG formatter for notebooks that matches IPython's tight crop at less cost.

IPython's inline backend crops every figure to its content (``bbox_inches="tight"``),
and matplotlib does that by laying the figure out twice: once to measure it and once
to paint it. Laying out (ticks, text) is most of a chart's cost, so a report with a
dozen charts spends seconds measuring. :func:`figure_png` paints once, measures on that
painting and crops the pixels. A figure whose content reaches beyond its canvas, which a
crop cannot enlarge, is painted a second time around the measured box, as IPython would.
An opaque figure's PNG is RGB, at a lighter compression (see ``PNG_COMPRESSION``).
"""

from __future__ import annotations

import io
import math
from binascii import b2a_base64

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

# zlib level for the PNGs. An opaque figure is written without its alpha channel: at level 3 that takes a
# third of the time IPython's RGBA at level 6 takes, for a file no larger.
PNG_COMPRESSION = 3


def figure_png(fig: Figure) -> str | None:
    """The figure as base64 PNG, cropped to its content as IPython's inline backend crops it.

    Returns None for an empty figure, as IPython does.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.

    Returns
    -------
    str or None
        Base64-encoded PNG.

    Examples
    --------
    >>> import base64, io
    >>> import matplotlib.pyplot as plt
    >>> from PIL import Image
    >>> fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    >>> _ = ax.plot([1, 2, 3])
    >>> width, height = Image.open(io.BytesIO(base64.b64decode(figure_png(fig)))).size
    >>> width < 400 and height < 300
    True
    >>> plt.close(fig)
    """
    from IPython.core.pylabtools import print_figure

    if not fig.axes and not fig.lines:
        return None
    if not isinstance(fig.canvas, FigureCanvasAgg):
        return print_figure(fig, "png", base64=True)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    content = fig.get_tightbbox(renderer)
    box = content.padded(mpl.rcParams["savefig.pad_inches"])
    width, height = fig.get_size_inches()
    if content.x0 < 0 or content.y0 < 0 or content.x1 > width or content.y1 > height:
        return print_figure(fig, "png", base64=True, bbox_inches=box)
    dpi = fig.dpi
    painted = np.asarray(renderer.buffer_rgba())[::-1]  # rows from the bottom, as figure coordinates count
    left, bottom = math.floor(box.x0 * dpi), math.floor(box.y0 * dpi)
    right, top = math.ceil(box.x1 * dpi), math.ceil(box.y1 * dpi)
    # the padding may reach past the canvas: fill it with the figure's colour, as a tight save does
    image = np.empty((top - bottom, right - left, 4), dtype=np.uint8)
    image[:] = np.round(np.array(mpl.colors.to_rgba(fig.get_facecolor())) * 255)
    rows, columns = slice(max(bottom, 0), min(top, painted.shape[0])), slice(max(left, 0), min(right, painted.shape[1]))
    image[rows.start - bottom:rows.stop - bottom, columns.start - left:columns.stop - left] = painted[rows, columns]
    image = image[::-1]
    if image[..., 3].min() == 255:  # opaque (the usual case): the alpha channel says nothing
        image = np.ascontiguousarray(image[..., :3])
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="png", dpi=(dpi, dpi), compress_level=PNG_COMPRESSION)
    return b2a_base64(buffer.getvalue(), newline=False).decode("ascii")


def enable(shell=None) -> bool:
    """Show this notebook's figures with :func:`figure_png`; call it after ``%matplotlib inline``.

    It applies only where the inline backend shows PNG with its default
    tight crop; other formats (``retina``, ``svg``) or settings are left as
    they are. Returns whether it applied.

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell, optional
        The shell; by default the running one.

    Returns
    -------
    bool

    Examples
    --------
    In a notebook, after ``%matplotlib inline``:

    >>> isinstance(enable(), bool)
    True
    """
    from IPython import get_ipython

    shell = shell or get_ipython()
    if shell is None or "inline" not in mpl.get_backend():
        return False
    from matplotlib_inline.config import InlineBackend

    settings = InlineBackend.instance(parent=shell)
    if set(settings.figure_formats) != {"png"} or settings.print_figure_kwargs != {"bbox_inches": "tight"}:
        return False
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png_with_alt)
    return True


def figure_png_with_alt(fig: Figure):
    """:func:`figure_png` and the output's metadata: ``alt``, the text a report gives the image for readers
    who cannot see it (the figure's titles).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.

    Returns
    -------
    tuple of (str, dict) or None
        The PNG (base64) and ``{"alt": ...}``; None for an empty figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(3, 2))
    >>> _ = ax.plot([1, 2, 3]); _ = ax.set_title("Defect density")
    >>> png, metadata = figure_png_with_alt(fig)
    >>> metadata
    {'alt': 'Chart: Defect density'}
    >>> plt.close(fig)
    """
    png = figure_png(fig)
    return None if png is None else (png, {"alt": _alt_text(fig)})


def _alt_text(fig: Figure) -> str:
    """A figure's description: its suptitle and its axes' titles (else their y labels), joined.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("Defect density (lower is better)")
    >>> _alt_text(fig)
    'Chart: Defect density (lower is better)'
    >>> plt.close(fig)
    """
    parts = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
    for ax in fig.axes:
        parts.append(ax.get_title() or ax.get_ylabel())
    described = "; ".join(part.replace("\\$", "$") for part in parts if part)
    return f"Chart: {described}" if described else "Chart"
