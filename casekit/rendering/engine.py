"""casekit's papermill engine (``papermill --engine casekit``), registered through the ``papermill.engine``
entry point, and a one-line message for refused parameters on papermill's command line.

papermill loads its engines while it is itself being imported, so this module imports nothing from
papermill at import time: the engine class hands each call to papermill's ``Engine`` subclass, built on
first use.
"""

from __future__ import annotations

import os
import sys

PARAMETER_ERROR = "ParameterError"


class InProcessEngine:
    """papermill engine: execute the notebook's cells in an in-process ipykernel, in this process's main thread."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, **kwargs):
        """papermill's engine call: run ``nb`` in an in-process kernel (``engine_name="casekit"``).

        Parameters
        ----------
        nb : nbformat.NotebookNode
            papermill's notebook.
        kernel_name : str
            The kernel's name (the in-process kernel runs whatever it names).
        **kwargs
            papermill's execution options (``execution_timeout``, ``log_output``...).

        Returns
        -------
        nbformat.NotebookNode
            The executed notebook.

        Examples
        --------
        >>> import pathlib, tempfile, nbformat
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> cells = [nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]}),
        ...          nbformat.v4.new_code_cell("print(n * 2)")]
        >>> nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
        ...                "language": "python", "display_name": "Python 3"}}), folder / "tiny.ipynb")
        >>> import papermill
        >>> ran = papermill.execute_notebook(str(folder / "tiny.ipynb"), str(folder / "out.ipynb"), parameters={"n": 4},
        ...                                  engine_name="casekit", progress_bar=False)
        >>> print(ran.cells[-1].outputs[0]["text"], end="")
        8
        """
        return _implementation().execute_notebook(nb, kernel_name, **kwargs)

    @classmethod
    def nb_kernel_name(cls, nb, name=None):
        """papermill's engine call: the kernel's name, from ``name`` or the notebook's metadata.

        Parameters
        ----------
        nb : nbformat.NotebookNode
            The notebook.
        name : str, optional
            A kernel's name given by the caller.

        Returns
        -------
        str

        Examples
        --------
        >>> import nbformat
        >>> InProcessEngine.nb_kernel_name(nbformat.v4.new_notebook(metadata={"kernelspec": {
        ...     "name": "python3", "language": "python", "display_name": "Python 3"}}))
        'python3'
        """
        return _implementation().nb_kernel_name(nb, name)

    @classmethod
    def nb_language(cls, nb, language=None):
        """papermill's engine call: the notebook's language, from ``language`` or its metadata.

        Parameters
        ----------
        nb : nbformat.NotebookNode
            The notebook.
        language : str, optional
            A language given by the caller.

        Returns
        -------
        str

        Examples
        --------
        >>> import nbformat
        >>> InProcessEngine.nb_language(nbformat.v4.new_notebook(metadata={"kernelspec": {
        ...     "name": "python3", "language": "python", "display_name": "Python 3"}}))
        'python'
        """
        return _implementation().nb_language(nb, language)


def _implementation():
    from ._fast.inprocess import papermill_engine

    return papermill_engine()


def papermill_excepthook(kind, value, traceback, previous=sys.excepthook):
    """On papermill's command line, a notebook that refused its parameters through casekit (a ParameterError
    raised from casekit's own code) ends with ``papermill: <message>``, not papermill's traceback; every other
    exception, from any other notebook, goes to ``previous`` untouched.

    Parameters
    ----------
    kind : type
        The exception's class.
    value : BaseException
        The exception.
    traceback : types.TracebackType
        Its traceback.
    previous : callable, default sys.excepthook
        The hook that handles every other exception.

    Examples
    --------
    >>> papermill_excepthook(KeyError, KeyError("x"), None, previous=lambda *args: print("passed on"))
    passed on
    """
    if _casekit_parameter_error(value):
        print(f"papermill: {value.evalue}", file=sys.stderr)
        return
    previous(kind, value, traceback)


def _casekit_parameter_error(value) -> bool:
    """papermill's execution error for casekit's ParameterError: its name, a message, and casekit in its trace."""
    trace = getattr(value, "traceback", None) or []
    return (getattr(value, "ename", None) == PARAMETER_ERROR and bool(getattr(value, "evalue", None))
            and any("casekit" in str(line) for line in trace))


def _on_papermill_command_line() -> bool:
    return os.path.basename(sys.argv[0] if sys.argv else "") == "papermill" or (
        getattr(sys.modules.get("__main__"), "__package__", None) == "papermill")


if _on_papermill_command_line():
    sys.excepthook = papermill_excepthook
