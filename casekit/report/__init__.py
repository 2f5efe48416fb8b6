"""Reports: a comparison fitted once (``comparison``), then shown as readers' tables (``presentation``,
``summary``), charts (``plots``, painted by ``inline``) and an Excel workbook (``excel``).

It never imports rendering: a notebook calls it, and rendering runs the notebook.
"""
