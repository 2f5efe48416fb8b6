"""A real browser opens the rendered index, follows every link, and checks each report loads cleanly.

Headless Chromium (Debian's ``chromium``) driven by Playwright with the system
executable. Skipped where Chromium is missing, except in CI (``CI=true``), where
.ci/run installs it and a missing browser fails the test.
"""

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(rendered):
    out, result = rendered
    assert result.returncode == 0, result.stdout + result.stderr
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_index_and_every_linked_report(browser, site):
    page = browser.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    assert page.goto(f"{site}/index.html").ok
    links = sorted({page.evaluate("(a) => a.href", a) for a in page.query_selector_all("a[href]")})
    reports = [link for link in links if link.endswith(".html")]
    notebooks = [link for link in links if link.endswith(".ipynb")]
    assert len(reports) == 9 and len(notebooks) == 9
    for link in notebooks:
        assert page.request.get(link).ok, link
    for link in reports:
        response = page.goto(link, wait_until="load")
        assert response.ok, link
        images = page.evaluate("() => Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        assert images, f"{link} shows no chart"
        assert all(complete and width > 0 for complete, width in images), (link, images)
        assert page.title(), link
    assert errors == []
    page.close()
