"""MkDocs hook: the docstrings' Sphinx roles (:func:`name`, as help() and numpydoc show them) drawn as code.

mkdocstrings renders ``:func:`load_cases``` as the text ":func:" before the code; the role says nothing a
reader of the site needs, so it is dropped and the name stays as code.
"""

import re

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|data|mod|obj|exc):(?=<code>)")


def on_page_content(html, **kwargs):
    return _ROLE.sub("", html)
