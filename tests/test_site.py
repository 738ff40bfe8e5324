"""The course website (``make site``): built once per session, then read page by page in a real browser.

Every page is opened in headless Chromium (Playwright, the system browser) served from a local HTTP server,
with every request that would leave the site blocked and recorded. Each page must load without console
errors, every image must load, every equation must be typeset by the bundled MathJax (no raw ``$$``), and
every internal link (and its ``#anchor``) must exist. Search runs in the browser; screenshots go to the
test's temporary directory.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from _browser import ROOT, assert_not_blank, launch, sync_playwright

MAKEFILE = (ROOT / "Makefile").read_text()
SITE_RECIPE = re.search(r"^site: .*\n((?:\t.*\n)+)", MAKEFILE, re.M)
CHAPTER_3 = "notebooks/03_multvae_recommendation.html"
# A word a learner might look up that the Chapter 3 notebook is about.
SEARCH_WORD = "MovieLens"


def _sphinx_args(out: Path) -> list[str]:
    """The ``sphinx-build`` command of ``make site``, writing to ``out``."""
    line = next(line for line in SITE_RECIPE.group(1).splitlines() if "sphinx-build" in line)
    args = line.split()[1:]
    return [sys.executable, "-m", "sphinx", *args[:-1], str(out)]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """Build the site once (as ``make site`` does, into a temporary folder); fail on any warning."""
    if importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_nb") is None:
        pytest.skip('the site needs the docs extra: pip install -c requirements-lock.txt -e ".[dev,docs]"')
    out = tmp_path_factory.mktemp("site") / "html"
    t0 = time.perf_counter()
    run = subprocess.run(_sphinx_args(out), cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    assert run.returncode == 0, f"make site failed (warnings are errors):\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    (out.parent / "build_seconds.txt").write_text(f"{seconds:.1f}\n")
    print(f"site built in {seconds:.1f} s")
    return out


@pytest.fixture(scope="session")
def base_url(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output readable
        pass


@pytest.fixture(scope="module")
def browser():
    sp = sync_playwright()
    with sp() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def context(browser, base_url):
    """A browser context in which any request that does not go to the local site is blocked and recorded."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.left_site = []

    def gate(route):
        url = route.request.url
        if url.startswith(base_url) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            ctx.left_site.append(url)
            route.abort()

    ctx.route("**/*", gate)
    yield ctx
    ctx.close()


def _pages(site: Path) -> list[str]:
    return sorted(
        p.relative_to(site).as_posix() for p in site.rglob("*.html") if not p.relative_to(site).parts[0].startswith("_")
    )


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    return frozenset(html.unescape(m) for m in re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))


WAIT_FOR_MATH = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
    await Promise.all([...document.images].map(img => { img.loading = 'eager'; return img.decode().catch(() => null); }));
    return true;
}"""
INSPECT = """() => {
    const body = document.body.cloneNode(true);
    body.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
    const math = [...document.querySelectorAll('.math')];
    return {
        images: [...document.images].map(i => [i.getAttribute('src'), i.naturalWidth]),
        math: math.length,
        typeset: math.filter(m => m.querySelector('mjx-container')).length,
        mjx: document.querySelectorAll('mjx-container').length,
        mathjaxErrors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
        rawDollars: (body.textContent.match(/\\$\\$/g) || []).length,
        rawDelims: (body.textContent.match(/\\\\\\(|\\\\\\[/g) || []).length,
        rawRoles: (body.textContent.match(/:(func|class|meth|math|mod|attr):|\\.\\. [a-z]+::/g) || []).length,
        apiObjects: document.querySelectorAll('dl.py').length,
        links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    };
}"""


def test_make_site_treats_warnings_as_errors_and_never_executes():
    assert SITE_RECIPE, "the Makefile has a site target"
    assert "sphinx-build -W" in SITE_RECIPE.group(1), "make site treats warnings as errors"
    conf = (ROOT / "site" / "conf.py").read_text()
    assert re.search(r'^nb_execution_mode = "off"', conf, re.M), "the site shows the stored (tested) outputs"
    assert "site/_build/" in (ROOT / ".gitignore").read_text()
    assert re.search(r"^site-serve: ", MAKEFILE, re.M)


def test_every_page_loads_offline_with_images_math_and_links(site, base_url, context):
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})"))
    problems: list[str] = []
    totals = {"pages": 0, "images": 0, "equations": 0, "links": 0}
    pages = _pages(site)
    expected = ["index.html", "README.html", CHAPTER_3, "site/api.html", "site/exercises.html", "site/instructors.html"]
    expected += [f"{p.parent.name}/{p.stem}.html" for p in sorted(ROOT.glob("notebooks/*.ipynb"))]
    expected += [f"{p.parent.name}/{p.stem}.html" for p in sorted(ROOT.glob("exercises/*.ipynb"))]
    missing = sorted(set(expected) - set(pages))
    assert not missing, f"pages missing from the site: {missing}"
    assert not any(p.startswith("solutions/") for p in pages), "the answers are not published"
    for rel in pages:
        errors.clear()
        page.goto(base_url + rel, wait_until="load")
        page.evaluate(WAIT_FOR_MATH)
        info = page.evaluate(INSPECT)
        totals["pages"] += 1
        totals["images"] += len(info["images"])
        totals["equations"] += info["mjx"]
        problems += [f"{rel}: {e}" for e in errors]
        problems += [f"{rel}: image {src} did not load" for src, width in info["images"] if not width]
        if info["typeset"] < info["math"] or info["mathjaxErrors"]:
            problems.append(f"{rel}: {info['typeset']}/{info['math']} equations typeset, {info['mathjaxErrors']} MathJax errors")
        if info["rawDollars"] or info["rawDelims"]:
            problems.append(f"{rel}: raw math left in the text ({info['rawDollars']} '$$', {info['rawDelims']} '\\(' or '\\[')")
        if info["rawRoles"]:
            problems.append(f"{rel}: {info['rawRoles']} reStructuredText roles or directives shown as text")
        if rel == "site/api.html" and info["apiObjects"] < 100:
            problems.append(f"{rel}: only {info['apiObjects']} documented objects")
        for href in info["links"]:
            url = urlsplit(urljoin(base_url + rel, href))
            if url.scheme not in ("http", "https") or f"{url.scheme}://{url.netloc}/" != base_url:
                continue
            totals["links"] += 1
            target = site / unquote(url.path).lstrip("/")
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{rel}: broken link {href}")
            elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _ids(target):
                problems.append(f"{rel}: link {href} points at a missing anchor")
    problems += [f"request left the site: {u}" for u in context.left_site]
    (site.parent / "counts.json").write_text(json.dumps(totals))
    print("checked", totals)
    assert not problems, "\n".join(problems[:40])
    assert totals["images"] >= 20 and totals["equations"] >= 50, totals


def test_search_for_a_chapter_3_word_finds_chapter_3(site, base_url, context):
    page = context.new_page()
    page.goto(f"{base_url}search.html?q={SEARCH_WORD}", wait_until="load")
    page.wait_for_selector("#search-results ul.search li a", timeout=30_000)
    hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(a => a.getAttribute('href'))")
    assert any(CHAPTER_3 in h for h in hits), f"searching '{SEARCH_WORD}' did not find Chapter 3: {hits}"
    assert not context.left_site


@pytest.mark.parametrize("rel", ["index.html", "notebooks/02_vae_factors_vs_pca.html"])
def test_screenshots_are_not_blank(site, base_url, context, tmp_path, rel):
    page = context.new_page()
    page.goto(base_url + rel, wait_until="load")
    page.evaluate(WAIT_FOR_MATH)
    shot = tmp_path / (Path(rel).stem + ".png")
    page.screenshot(path=str(shot))
    assert_not_blank(shot)
    assert not context.left_site
