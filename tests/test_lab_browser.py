"""The README's first command in a real browser: ``make lab`` as a learner meets it.

JupyterLab is started with exactly the command ``make lab`` runs (read from ``make -n lab``), plus what a
test needs: loopback only, a fixed token, a free port, no browser of its own, and a private settings folder
(autosave off, so nothing the test types is ever written to the repository; all cells kept in the page).
Headless Chromium (Playwright, the system browser) then

1. opens Chapter 0, checks that opening it does not mark it modified (the stored kernelspec is what
   JupyterLab writes), runs all cells through the menu, waits for the kernel to go idle, and checks that no
   cell shows an error and that every figure rendered;
2. reaches the Chapter 0 exercise notebook through the file browser, types a wrong answer into Exercise 1,
   runs it with its checker and sees the checker's hint, then types a right answer and sees it pass;
3. checks that no tracked file changed, and stops the server by its PID.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from _browser import ROOT, free_port, launch, sync_playwright

CHAPTER = "notebooks/00_getting_started.ipynb"
EXERCISE = "exercises/00_getting_started.ipynb"
TOKEN = "course-browser-test"
HINT_SLOW = 600_000  # ms: Chapter 0 trains a small VAE (10-45 s here); a loaded 2-core machine took over 240 s once


def lab_command() -> list[str]:
    """The command ``make lab`` runs, as ``make -n`` prints it."""
    run = subprocess.run(["make", "--no-print-directory", "-n", "lab"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    line = next(line for line in run.stdout.splitlines() if re.search(r"\bjupyter lab\b", line))
    argv = shlex.split(line)
    if not Path(ROOT / argv[0]).exists():  # tests run from another environment: use its jupyter
        argv = [sys.executable, "-m", "jupyter", *argv[1:]]
    return argv


def _git_status() -> str | None:
    run = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    return run.stdout if run.returncode == 0 else None


def _settings(folder: Path) -> None:
    """A learner's defaults, except autosave (off) and windowing (off, so every cell is in the page)."""
    prefs = {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
    }
    for plugin, values in prefs.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started as ``make lab`` does, on 127.0.0.1:<free port> with a fixed token; stopped by PID."""
    sp = sync_playwright()  # skip early (with how to install Chromium) before starting a server
    tmp = tmp_path_factory.mktemp("lab")
    _settings(tmp / "settings")
    port = free_port()
    cmd = lab_command() + [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "TQDM_DISABLE") and not k.startswith("PYTEST")}
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        IPYTHONDIR=str(tmp / "ipython"),
    )
    status_before = _git_status()
    snapshot = {path: (ROOT / path).read_bytes() for path in (CHAPTER, EXERCISE)}
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"jupyter lab exited: {(tmp / 'lab.log').read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"jupyter lab did not start: {(tmp / 'lab.log').read_text()[-3000:]}"
            time.sleep(0.5)
        yield {"base": base, "log": tmp / "lab.log", "sp": sp, "tmp": tmp, "status_before": status_before}
    finally:
        proc.send_signal(signal.SIGTERM)  # by PID; the server shuts its kernels down
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
    # Once the server is gone: the notebooks it served must be exactly as they were (restore them if not).
    changed = [path for path, data in snapshot.items() if (ROOT / path).read_bytes() != data]
    for path in changed:
        (ROOT / path).write_bytes(snapshot[path])
    assert not changed, f"JupyterLab left {changed} modified (restored now)"
    assert _git_status() == status_before, "JupyterLab changed the working tree"


@pytest.fixture(scope="module")
def page(lab):
    with lab["sp"]() as p:
        browser = launch(p)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = ctx.new_page()
        pg.console_messages = []
        pg.on("console", lambda m: pg.console_messages.append((m.type, m.text)))
        yield pg
        ctx.close()
        browser.close()


def _panel(page):
    """The notebook panel on screen (Lumino hides the others)."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def _wait_idle(page, timeout=HINT_SLOW) -> None:
    panel = _panel(page)
    panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=timeout)


def _wait_all_run(page, n_code: int, timeout=HINT_SLOW) -> None:
    """Wait until every code cell shows an execution count and the kernel is idle.

    A cell whose source is collapsed (the chapters' appendix) shows a placeholder instead of its input area; its count
    is read from the input area's prompt when JupyterLab keeps it in the page, and otherwise not required."""
    page.wait_for_function(
        """n => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const cells = [...panel.querySelectorAll('.jp-CodeCell')];
            const counted = c => {
                const p = c.querySelector('.jp-InputArea .jp-InputPrompt');
                if (p && /\\[\\d+\\]/.test(p.textContent)) return true;
                return !p && c.querySelector('.jp-Placeholder') !== null;
            };
            const idle = panel.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]');
            return idle && cells.length === n && cells.every(counted);
        }""",
        arg=n_code,
        timeout=timeout,
    )


def _is_dirty(page) -> bool:
    return page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() > 0


def _save_and_restore(page, path: str) -> str:
    """Save the notebook on screen (what autosave would write), restore the file, return the text saved.

    A notebook whose stored metadata differs from what JupyterLab writes (the kernelspec ``display_name``)
    comes back changed: that is the "modified on open" a learner would otherwise find in ``git status``.
    """
    file = ROOT / path
    original = file.read_bytes()
    try:
        _panel(page).locator(".jp-Notebook").click(position={"x": 5, "y": 5})
        # The server answers the save (PUT /api/contents/...) once the file is written. JupyterLab may first
        # ask whether to overwrite a file "changed on disk": that change is this helper's own earlier restore.
        saves = []

        def on_response(r):
            if r.request.method == "PUT" and unquote(r.url).split("?")[0].endswith(path):
                saves.append(r)

        page.on("response", on_response)
        try:
            page.keyboard.press("ControlOrMeta+s")
            deadline = time.monotonic() + 90
            while not saves:
                assert time.monotonic() < deadline, f"saving {path} from JupyterLab gave no answer"
                overwrite = page.locator(".jp-Dialog button", has_text="Overwrite")
                if overwrite.count():
                    overwrite.first.click()
                page.wait_for_timeout(100)
        finally:
            page.remove_listener("response", on_response)
        assert saves[0].ok, f"saving {path} from JupyterLab failed: HTTP {saves[0].status}"
        return file.read_text(encoding="utf-8")
    finally:
        saved_at = file.stat().st_mtime_ns
        file.write_bytes(original)
        os.utime(file, ns=(saved_at, saved_at))  # JupyterLab sees the time of its own save: no "file changed"


def _first_difference(a: str, b: str) -> str:
    import difflib

    return "\n".join(list(difflib.unified_diff(a.splitlines(), b.splitlines(), "stored", "saved", lineterm="", n=1))[:20])


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{menu}$")).click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled)", has_text=re.compile(rf"^{re.escape(item)}")).first.click()


def _code_cells(path: str) -> list[str]:
    nb = json.loads((ROOT / path).read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_make_lab_serves_the_repository_root(lab, page):
    log = lab["log"].read_text()
    assert "--ServerApp.root_dir=." in " ".join(lab_command()), "make lab serves the repository root"
    assert re.search(rf"Serving notebooks from local directory: {re.escape(str(ROOT))}\s*$", log, re.M), log[-2000:]


def test_chapter_0_runs_all_cells_in_jupyterlab(lab, page):
    page.goto(f"{lab['base']}/lab/tree/{CHAPTER}?token={TOKEN}")
    _panel(page).wait_for(timeout=120_000)
    _wait_idle(page)
    page.wait_for_timeout(1500)  # let JupyterLab write what it wants into the model's metadata
    assert not _is_dirty(page), "opening Chapter 0 marked it modified: store the kernelspec JupyterLab writes"
    stored = (ROOT / CHAPTER).read_text(encoding="utf-8")
    saved = _save_and_restore(page, CHAPTER)
    assert saved == stored, (
        f"JupyterLab rewrites Chapter 0 on save (run python -m course_lib._notebooks):\n{_first_difference(stored, saved)}"
    )
    n_code = len(_code_cells(CHAPTER))
    t0 = time.perf_counter()
    _menu(page, "Run", "Run All Cells")
    _wait_all_run(page, n_code)
    seconds = time.perf_counter() - t0
    (lab["tmp"] / "run_all_seconds.txt").write_text(f"{seconds:.1f}\n")
    print(f"Chapter 0: all {n_code} cells ran in JupyterLab in {seconds:.1f} s")
    panel = _panel(page)
    outputs = panel.locator(".jp-OutputArea-output").all_inner_texts()
    errors = [t for t in outputs if "Traceback (most recent call last)" in t or re.search(r"^\w*Error\b", t, re.M)]
    assert not errors, f"error output after Run All: {errors[:2]}"
    stored = json.loads(stored)
    n_figures = sum("image/png" in o.get("data", {}) for c in stored["cells"] if c["cell_type"] == "code" for o in c["outputs"])
    after_run = json.loads(_save_and_restore(page, CHAPTER))
    assert after_run["metadata"] == stored["metadata"], (
        f"running the notebook changes its metadata: {after_run['metadata']} (stored: {stored['metadata']})"
    )
    changed = [i for i, (a, b) in enumerate(zip(after_run["cells"], stored["cells"])) if a["metadata"] != b["metadata"]]
    assert not changed, f"running the notebook changes the metadata of cells {changed}"
    widths = panel.locator(".jp-OutputArea-output img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) >= n_figures and all(w > 100 for w in widths), f"figures rendered: {widths}, stored: {n_figures}"
    page.screenshot(path=str(lab["tmp"] / "chapter0.png"))
    (lab["tmp"] / "console.txt").write_text("\n".join(f"{kind}: {t}" for kind, t in page.console_messages))
    mismatch = [t for kind, t in page.console_messages if "No version for" in t or "Failed to load" in t]
    assert not mismatch, f"extension version warnings in the console: {mismatch[:3]}"


def _set_cell(page, cell, text: str) -> None:
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def test_exercise_reached_through_the_file_browser_gives_a_hint_then_passes(lab, page):
    from course_lib.checks import check_log_returns

    # The answers a learner might type, and the hint the checker gives for the wrong one.
    def wrong(prices):
        return np.log(prices).diff()

    with pytest.raises(AssertionError) as hint:
        check_log_returns(wrong)
    check_log_returns(lambda prices: np.log(prices).diff().iloc[1:])
    source = next(s for s in _code_cells(EXERCISE) if "def log_returns" in s)
    stub = re.search(r"^( +)# YOUR CODE HERE\n\1raise NotImplementedError\(.*\)$", source, re.M)
    assert stub, "Exercise 1 has a stub to replace"
    indent = stub.group(1)
    wrong_src = source.replace(stub.group(0), f"{indent}return np.log(prices).diff()")
    right_src = source.replace(stub.group(0), f"{indent}return np.log(prices).diff().iloc[1:]")

    if page.url == "about:blank":  # run on its own
        page.goto(f"{lab['base']}/lab/tree/{CHAPTER}?token={TOKEN}")
        _panel(page).wait_for(timeout=120_000)
    # The file browser, as a learner uses it: home, then exercises/, then the notebook.
    if not page.locator("#filebrowser").is_visible():
        page.locator('.jp-SideBar [data-id="filebrowser"]').click()
    page.locator("#filebrowser .jp-BreadCrumbs-home").click()
    listing = page.locator("#filebrowser .jp-DirListing-item")
    listing.filter(has=page.locator(".jp-DirListing-itemText", has_text=re.compile("^exercises$"))).dblclick()
    page.locator("#filebrowser .jp-BreadCrumbs").filter(has_text="exercises").wait_for()
    listing.filter(has=page.locator(".jp-DirListing-itemText", has_text=re.compile(r"^00_getting_started\.ipynb$"))).dblclick()
    page.wait_for_function(
        "() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook')"
        " && document.querySelector('.lm-TabBar-tab.jp-mod-current').title.includes('exercises/')",
        timeout=60_000,
    )
    _wait_idle(page)
    page.wait_for_timeout(1500)
    assert not _is_dirty(page), "opening the exercise notebook marked it modified"
    stored = (ROOT / EXERCISE).read_text(encoding="utf-8")
    saved = _save_and_restore(page, EXERCISE)
    assert saved == stored, f"JupyterLab rewrites {EXERCISE} on save:\n{_first_difference(stored, saved)}"

    panel = _panel(page)
    cells = panel.locator(".jp-Cell")
    texts = [cells.nth(i).inner_text() for i in range(cells.count())]
    answer = cells.nth(next(i for i, t in enumerate(texts) if "def log_returns" in t))
    checker = cells.nth(next(i for i, t in enumerate(texts) if "check_log_returns(log_returns)" in t))  # may be the same
    answer.locator(".jp-InputPrompt").click()  # select the exercise cell, then run the set-up above it
    _menu(page, "Run", "Run All Above Selected Cell")
    _wait_idle(page)

    def run_answer_and_checker(src: str) -> str:
        _set_cell(page, answer, src)
        page.keyboard.press("Shift+Enter")
        _wait_idle(page)
        checker.locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")
        output = checker.locator(".jp-OutputArea-output")
        output.first.wait_for(timeout=HINT_SLOW)
        _wait_idle(page)
        return "\n".join(output.all_inner_texts())

    text = run_answer_and_checker(wrong_src)
    assert str(hint.value) in text, f"the checker's hint is not shown; output was:\n{text[-1500:]}"
    text = run_answer_and_checker(right_src)
    assert "Traceback" not in text and "Error" not in text, f"the right answer did not pass:\n{text[-1500:]}"
    page.screenshot(path=str(lab["tmp"] / "exercise.png"))


def test_opening_and_running_leaves_no_tracked_file_modified(lab, page):
    before, after = lab["status_before"], _git_status()
    if before is None:
        pytest.skip("not a git checkout")
    assert after == before, f"JupyterLab changed the working tree:\nbefore:\n{before}\nafter:\n{after}"
