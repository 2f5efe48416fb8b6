"""Reports as PDF for executives (``casekit render --pdf``): each reader's page printed by Chromium, A4, with
charts, table rows and list items kept whole on a page (the print rules of casekit's report template).

Chromium is the system's (``chromium`` on the PATH, or ``CASEKIT_CHROMIUM``), else the one
``playwright install chromium`` downloads; playwright drives it (``pip install 'casekit[pdf]'``).
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
from pathlib import Path

from ..errors import RenderError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MARGIN = "14mm"


def chromium_path() -> str | None:
    """The Chromium to print with: ``CASEKIT_CHROMIUM``, else the first of :data:`BROWSERS` on the PATH; None
    leaves the choice to playwright (its own download).

    Returns
    -------
    str or None

    Examples
    --------
    >>> import os
    >>> os.environ["CASEKIT_CHROMIUM"] = "/opt/chrome/chrome"
    >>> chromium_path()
    '/opt/chrome/chrome'
    >>> del os.environ["CASEKIT_CHROMIUM"]
    """
    return os.environ.get("CASEKIT_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)


def print_pages(pages: list[tuple[Path, Path]]) -> dict[Path, str]:
    """Print each ``(html, pdf)`` page with one headless Chromium: A4, backgrounds kept, the page's print rules
    applied. Returns the problem of each page that could not be printed (its pdf is then not written).

    Runs in a thread of its own, so that it works under a running event loop too (a notebook calling
    ``ck.render(..., pdf=True)``), where playwright's synchronous API would refuse. Raises a RenderError that
    says what to install when playwright or Chromium is missing.

    Parameters
    ----------
    pages : list of (pathlib.Path, pathlib.Path)
        Each page's HTML and the PDF to write.

    Returns
    -------
    dict of pathlib.Path to str
        The problem of each page not printed, by its HTML's path.

    Raises
    ------
    RenderError
        playwright or Chromium is not installed.

    Examples
    --------
    >>> print_pages([])
    {}
    """
    if not pages:
        return {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_print_pages, pages).result()


def _print_pages(pages: list[tuple[Path, Path]]) -> dict[Path, str]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RenderError("--pdf needs playwright: pip install 'casekit[pdf]' (and Chromium: apt-get install "
                          "chromium, or playwright install chromium)") from None
    problems = {}
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"],
                                                 handle_sigint=False, handle_sigterm=False, handle_sighup=False)
        except Exception as exc:  # noqa: BLE001 - playwright raises its own error types for a missing browser
            raise RenderError(f"--pdf could not start Chromium ({str(exc).strip().splitlines()[0][:200]}): install it "
                              "(apt-get install chromium, or playwright install chromium), or name it in "
                              "CASEKIT_CHROMIUM") from None
        try:
            for html, pdf in pages:
                page = browser.new_page()
                try:
                    page.goto(Path(html).resolve().as_uri(), wait_until="load")
                    page.emulate_media(media="print")
                    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # no clicks on paper
                    page.pdf(path=str(pdf), format="A4", print_background=True,
                             margin={"top": MARGIN, "bottom": MARGIN, "left": MARGIN, "right": MARGIN})
                except Exception as exc:  # noqa: BLE001 - one page that cannot be printed never stops the others
                    problems[Path(html)] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
                finally:
                    page.close()
        finally:
            browser.close()
    return problems
