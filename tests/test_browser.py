"""A real browser opens the rendered index, follows every link, and checks each report loads cleanly.

Headless Chromium (Debian's ``chromium``) driven by Playwright with the system
executable. Skipped where Chromium is missing, except in CI (``CI=true``), where
.ci/run installs it and a missing browser fails the test.
"""

import functools
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow  # `make test-fast` leaves these out; `make test` and CI run them

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
def site(tmp_path_factory):
    """Every shipped case rendered as `make report` renders them for readers: without code."""
    out = tmp_path_factory.mktemp("reader-reports")
    result = subprocess.run([sys.executable, "-m", "casekit", "render", str(ROOT / "cases"), "--out", str(out),
                             "--jobs", "2", "--no-input", "--no-progress-bar"], capture_output=True, text=True,
                            timeout=900)
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
    assert len(reports) == 10 and len(notebooks) == 10
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


# What a reader must never see: a missing value as Python prints it, or an object's repr.
NOT_FOR_READERS = re.compile(r"\bNaN\b|<NA>|\bnan\b|<Figure size|<IPython\.|object at 0x|\bdtype: |\bNone\b")

MEASURE = """() => {
    document.querySelectorAll('details').forEach(d => d.open = true);  // the folded detail tables count too
    const main = document.querySelector('main') || document.body;
    const right = main.getBoundingClientRect().right;
    const wide = Array.from(main.querySelectorAll('*'))
        .filter(e => e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().right > right + 1)
        .map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 60));
    const firstImage = document.images[0];
    const summary = document.querySelector('.casekit-headline');
    return {
        wide: wide, scroll: document.documentElement.scrollWidth, width: window.innerWidth,
        text: document.body.innerText,
        h1: Array.from(document.querySelectorAll('h1')).map(h => h.textContent),
        h1Top: document.querySelector('h1') ? document.querySelector('h1').getBoundingClientRect().top : null,
        summaryTop: summary ? summary.getBoundingClientRect().top + window.scrollY : null,
        imageTop: firstImage ? firstImage.getBoundingClientRect().top + window.scrollY : null,
        images: Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, i.alt]),
        widest: Math.max(0, ...Array.from(document.images).map(i => i.getBoundingClientRect().width)),
        column: main.getBoundingClientRect().width,
    };
}"""


@pytest.mark.parametrize("report, title", [("northwood-paper", "Northwood Paper & Forest Products"),
                                           ("ironforge-industrial", "Ironforge Industrial Systems"),
                                           ("portfolio", "Portfolio of 8 organizations"),
                                           ("motorola-ged", "Motorola Government Electronics Division")])
def test_a_report_reads_as_a_document_at_1280_px(browser, site, report, title):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    assert page.goto(f"{site}/{report}.html").ok
    seen = page.evaluate(MEASURE)
    assert title in page.title() and any(title in h for h in seen["h1"]), (page.title(), seen["h1"])
    assert seen["h1Top"] < 60, seen["h1Top"]  # the title opens the page: no blank cells above it
    assert seen["widest"] >= 0.75 * seen["column"], (seen["widest"], seen["column"])  # charts use the page
    assert seen["wide"] == [] and seen["scroll"] <= seen["width"], seen["wide"][:5]
    assert seen["summaryTop"] is not None and seen["summaryTop"] < seen["imageTop"]  # the findings first
    assert seen["images"] and all(drew and alt.startswith("Chart") and len(alt) > len("Chart: ")
                                  for drew, alt in seen["images"]), seen["images"]
    assert not NOT_FOR_READERS.findall(seen["text"]), NOT_FOR_READERS.findall(seen["text"])[:5]
    assert "papermill" not in seen["text"] and "import casekit" not in seen["text"]  # no code, no how-to-run
    page.close()


PHONE = """() => {
    document.querySelectorAll('details').forEach(d => d.open = true);
    const cells = Array.from(document.querySelectorAll('table.casekit-table td'));
    return {
        scroll: document.documentElement.scrollWidth, width: window.innerWidth, cells: cells.length,
        clipped: cells.filter(td => td.getBoundingClientRect().width > 0 && (td.scrollWidth > td.clientWidth + 1
                              || td.getBoundingClientRect().right > window.innerWidth + 1))
                      .map(td => td.dataset.label + ': ' + td.textContent),
        unlabelled: cells.filter(td => !td.dataset.label).length,
        charts: Array.from(document.images).map(i => [i.alt.slice(0, 40), i.naturalWidth,
                                                      i.getBoundingClientRect().width]),
    };
}"""


@pytest.mark.parametrize("report", ["ironforge-industrial", "portfolio", "motorola-ged"])
def test_a_report_reads_on_a_phone_at_390_px(browser, site, report):
    """Tables stack into one card per row (nothing cut, no sideways page); charts keep their drawn size, so their
    text is as legible as on a desktop, and scroll sideways inside their own box."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    assert page.goto(f"{site}/{report}.html").ok
    seen = page.evaluate(PHONE)
    assert seen["cells"] > 20 and seen["unlabelled"] == 0
    assert seen["clipped"] == [], seen["clipped"][:5]
    assert seen["scroll"] <= seen["width"], (seen["scroll"], seen["width"])
    assert seen["charts"] and all(shown >= natural - 1 for _, natural, shown in seen["charts"]), seen["charts"]
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_index_fits_a_desktop_and_a_phone(browser, site, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    assert page.goto(f"{site}/index.html").ok
    seen = page.evaluate(MEASURE)
    assert seen["scroll"] <= seen["width"], (seen["scroll"], seen["width"])
    assert "Organization by organization, 8 of 8" in seen["text"]
    assert not NOT_FOR_READERS.findall(seen["text"])
    page.close()


def test_nothing_is_said_twice_without_code(site):
    """With --no-input the reader sees each table once: the analysts' check cells are left out."""
    import urllib.request

    page = urllib.request.urlopen(f"{site}/northwood-paper.html").read().decode("utf-8")
    assert page.count("Schedule variance: improved") == 1
    assert "NBVAL" not in page and "For analysts" not in page


def test_a_report_prints_to_a4_without_splitting_a_chart_or_a_row(browser, site, tmp_path):
    """The print rules a PDF is made with (casekit render --pdf), seen in print emulation, and a real PDF."""
    import urllib.request

    from casekit.rendering.pdf import print_pages

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    assert page.goto(f"{site}/ironforge-industrial.html").ok
    page.emulate_media(media="print")
    styles = page.evaluate("""() => ({
        charts: Array.from(document.querySelectorAll('.jp-RenderedImage')).map(e => getComputedStyle(e).breakInside),
        rows: Array.from(document.querySelectorAll('table.casekit-table tr')).map(e => getComputedStyle(e).breakInside),
        outputs: Array.from(document.querySelectorAll('.jp-OutputArea-child')).map(e => getComputedStyle(e).breakInside),
        wide: Array.from(document.querySelectorAll('table.casekit-table')).filter(
            t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1).length,
    })""")
    page.close()
    assert styles["charts"] and set(styles["charts"]) == {"avoid"}
    assert styles["rows"] and set(styles["rows"]) == {"avoid"}
    assert set(styles["outputs"]) == {"auto"}  # a long output flows over pages instead of leaving one blank
    html = tmp_path / "report.html"
    html.write_bytes(urllib.request.urlopen(f"{site}/ironforge-industrial.html").read())
    assert print_pages([(html, tmp_path / "report.pdf")]) == {}
    pdf = (tmp_path / "report.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 4 <= pages <= 14, pages
    boxes = {tuple(round(float(v)) for v in box.split()) for box in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", pdf)}
    assert boxes == {(0, 0, 596, 843)}, boxes  # A4: 210 x 297 mm in points
