"""A student's whole round trip through nbgrader's exchange, in JupyterLab and headless Chromium.

The course (the tiny assignment of the nngrade tests) and its exchange live in a temporary
folder. JupyterLab serves the student workspace that `make lab` serves (`nngrade workspace`).
In the browser the student opens nbgrader's Assignment List, fetches the assignment, opens the
notebook, writes the two answers, validates, and submits. The instructor then runs
`nngrade collect` (from the exchange), `autograde` and `feedback`; the student fetches the
feedback in the Assignment List and opens it. Screenshots go to test-artifacts/ (and to the
folder named by $NNGRADE_SHOTS, e.g. /work/shots, when set).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from _lab_server import lab_server
from nngrade.grading.config import load
from nngrade.grading.exchange import prepare_workspace
from nngrade_support import make_course
from offline_browser import ARTEFACTS, CHROMIUM, CHROMIUM_ARGS, SECOND, needs_chromium

ANSWERS = {
    "def square(x):": "def square(x):\n    return np.asarray(x) ** 2",
    "def increment(n):": "def increment(n):\n    return n + 1",
}

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]


def _shot(page, name: str) -> None:
    """Save a screenshot in test-artifacts/ (and $NNGRADE_SHOTS) as exchange_<name>.png."""
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"exchange_{name}.png"
    page.screenshot(path=str(path))
    extra = os.environ.get("NNGRADE_SHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)


def _start_nngrade(config: Path, *args: str) -> subprocess.Popen:
    """Start an nngrade command as the instructor types it."""
    return subprocess.Popen(
        [sys.executable, "-m", "nngrade.cli", *args, "--course", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen, what: str) -> str:
    """Wait for an nngrade command; its output, or a failure quoting it."""
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, f"nngrade {what} exited {process.returncode}:\n{out}\n{err}"
    return out


def _nngrade(config: Path, *args: str) -> str:
    return _finish(_start_nngrade(config, *args), " ".join(args))


class Phases:
    """Wall time of each step, printed at the end (and shown by pytest when the test fails)."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        print(f"{name:<28} {now - self.last:6.1f} s  (total {now - self.start:6.1f} s)")
        self.last = now


def _click_until(page, button, done, what: str, attempts: int = 3, timeout: float = 60) -> None:
    """Click, then wait for `done` (a JS predicate); click again if a busy page swallowed it."""
    for attempt in range(1, attempts + 1):
        button.click()
        try:
            page.wait_for_function(done, timeout=timeout * SECOND)
            return
        except Exception:
            if attempt == attempts:
                _shot(page, "failure")
                raise AssertionError(f"{what}: nothing happened after {attempts} clicks") from None


def _open_assignment_list(page) -> None:
    """Nbgrader > Assignment List, as a student would (retried if the menu click is lost)."""
    panel = page.locator("#assignments")
    for attempt in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Assignment List").first.click()
        try:
            panel.first.wait_for(state="visible", timeout=30 * SECOND)
            return
        except Exception:
            page.keyboard.press("Escape")
            if attempt == 2:
                raise


def _answer(page, marker: str, code: str) -> None:
    """Replace the whole source of the answer cell starting with `marker` by `code`."""
    cell = page.locator(".jp-CodeCell", has_text=marker).first
    cell.scroll_into_view_if_needed()
    editor = cell.locator(".cm-content").first
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)  # as pasted: no auto-indent, no bracket pairing
    page.wait_for_function(
        "([cell, line]) => cell.querySelector('.cm-content').innerText.includes(line)",
        arg=[cell.element_handle(), code.splitlines()[1].strip()],
        timeout=30 * SECOND,
    )


def _dismiss_news_prompt(page) -> None:
    """JupyterLab asks once whether to fetch Jupyter news; say no so the toast hides nothing."""
    no = page.locator(".jp-Notification-Toast button, .Toastify button", has_text="No")
    try:
        no.first.wait_for(timeout=5 * SECOND)
        no.first.click()
    except Exception:
        pass  # not asked (or already answered)


def _save(page, notebook: Path, expected: list[str], attempts: int = 4) -> None:
    """Ctrl+S until the notebook on disk holds every expected line (a busy page may drop it)."""
    for _ in range(attempts):
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                text = "".join(c.source for c in nbformat.read(notebook, as_version=4).cells)
            except Exception:  # caught mid-write
                text = ""
            if all(line in text for line in expected):
                return
            time.sleep(0.5)
    _shot(page, "failure")
    raise AssertionError(f"the answers never reached {notebook} after {attempts} saves")


def test_fetch_work_submit_and_feedback_through_the_exchange(tmp_path):
    from playwright.sync_api import sync_playwright

    phase = Phases()
    course = tmp_path / "course"
    course.mkdir()
    config = make_course(course)
    workspace = course / "workspace"
    workspace.mkdir()
    fetched = workspace / "tiny" / "tiny.ipynb"
    # The instructor releases while JupyterLab starts (both take a while on a busy machine).
    release = _start_nngrade(config, "release", "tiny")

    with (
        lab_server(tmp_path / "lab", [], root_dir=workspace) as lab,
        sync_playwright() as playwright,
    ):
        _finish(release, "release")
        settings = load(config)
        assert settings.exchange.is_relative_to(tmp_path), "the test must use its own exchange"
        assert (settings.exchange / "tiny-course" / "outbound" / "tiny" / "tiny.ipynb").is_file()
        prepare_workspace(settings, workspace)  # what `make lab` does before starting JupyterLab
        phase("release; JupyterLab up")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            page.goto(f"{lab.url}/lab?token={lab.token}")
            page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.wait_for(
                timeout=180 * SECOND
            )
            phase("JupyterLab page loaded")
            _dismiss_news_prompt(page)
            _open_assignment_list(page)
            released = page.locator("#released_assignments_list .list_item", has_text="tiny")
            released.first.wait_for(timeout=90 * SECOND)
            assert "exchange directory does not exist" not in page.inner_text("#assignments")

            # Fetch: the assignment moves to "Downloaded assignments", a copy in the workspace.
            _click_until(
                page,
                released.first.locator("button", has_text="Fetch"),
                "() => document.querySelector('#fetched_assignments_list')"
                ".innerText.includes('tiny')",
                "Fetch",
            )
            assert fetched.is_file(), f"Fetch did not create {fetched}"
            page.locator("#fetched_assignments_list .list_item", has_text="tiny").first.locator(
                "a", has_text="tiny"
            ).first.click()  # unfold the assignment: its notebooks and their Validate buttons
            page.wait_for_timeout(500)
            _shot(page, "fetch")
            phase("assignment list, fetch")

            # Open the notebook from the list, answer both questions, save, validate.
            page.locator("#fetched_assignments_list a", has_text="tiny").last.click()
            page.wait_for_selector(
                '.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=180 * SECOND
            )
            for marker, code in ANSWERS.items():
                _answer(page, marker, code)
            phase("open, answer")
            _save(page, fetched, [code.splitlines()[1].strip() for code in ANSWERS.values()])
            validate = page.locator(".jp-mod-current .validate-button, .validate-button").first
            _click_until(
                page,
                validate,
                "() => document.querySelector('.jp-Dialog')",
                "Validate",
                timeout=120,
            )
            dialog = page.locator(".jp-Dialog").first
            assert "Success" in dialog.inner_text(), dialog.inner_text()
            _shot(page, "validate")
            phase("save, validate")
            page.locator(".jp-Dialog button", has_text="Ok").first.click()

            # Submit from the Assignment List.
            page.locator(".lm-TabBar-tab", has_text="Assignments").first.click()
            _click_until(
                page,
                page.locator("#fetched_assignments_list .list_item", has_text="tiny")
                .first.locator("button", has_text="Submit")
                .first,
                "() => /\\d{4}-\\d\\d-\\d\\d/.test("
                "document.querySelector('#submitted_assignments_list').innerText)",
                "Submit",
            )
            _shot(page, "submit")
            phase("submit")

            # The instructor: collect from the exchange, grade, write and release feedback.
            collected = _nngrade(config, "collect", "tiny")
            assert "nbgrader exchange" in collected and "imported 1" in collected, collected
            phase("nngrade collect")
            _nngrade(config, "autograde", "tiny")
            phase("nngrade autograde")
            (record,) = settings.autograded.glob("*/tiny/tiny.nngrade.json")
            grade = json.loads(record.read_text())
            assert (grade["status"], grade["score"], grade["max_score"]) == ("graded", 4, 4), grade
            assert "1 of them released to the exchange" in _nngrade(config, "feedback", "tiny")

            phase("nngrade feedback")
            # The student: refresh, fetch the feedback, open it.
            page.locator("#refresh_assignments_list").click()
            submitted = page.locator("#submitted_assignments_list")
            page.wait_for_function(
                "() => document.querySelector('#submitted_assignments_list')"
                ".innerText.includes('Fetch Feedback')",
                timeout=60 * SECOND,
            )
            _click_until(
                page,
                submitted.locator("button", has_text="Fetch Feedback").first,
                "() => document.querySelector('#submitted_assignments_list')"
                ".innerText.includes('view feedback')",
                "Fetch Feedback",
            )
            _shot(page, "feedback_list")
            (local,) = (workspace / "tiny" / "feedback").glob("*/tiny.html")
            assert "Score: 4 / 4" in local.read_text(), "the fetched page is not the feedback"
            relative = local.relative_to(workspace).as_posix()
            page.goto(f"{lab.url}/lab/tree/{relative}?token={lab.token}")
            frame = page.frame_locator("iframe").first
            frame.locator(".nngrade-summary").wait_for(timeout=90 * SECOND)
            assert "Score: 4 / 4" in frame.locator(".nngrade-summary").inner_text()
            _shot(page, "feedback")
            phase("fetch and open feedback")
        except Exception:
            _shot(page, "failure")
            raise
        finally:
            browser.close()
    lab.assert_no_tracebacks()
