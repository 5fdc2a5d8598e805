"""End-to-end tests of every `nngrade` command on a tiny course (in-kernel executor)."""

from __future__ import annotations

import csv
import html
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from nngrade.cli import main
from nngrade.commands.feedback import page_text
from nngrade.grading.executors import available
from nngrade.grading.results import HIDDEN_NOT_RUN
from nngrade_support import CLASS, HIDDEN_SECRETS, make_course, sim, submit_class, tiny_master

pytestmark = pytest.mark.slow


def run(config, *args):
    return main([*args, "--course", str(config)])


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The tiny class, collected and autograded in parallel once for all tests here."""
    tmp = tmp_path_factory.mktemp("course")
    config = make_course(tmp)
    inbox = submit_class(tmp)
    assert run(config, "collect", str(inbox), "tiny") == 0
    assert run(config, "autograde", "tiny", "--jobs", "2", "--no-progress") == 0
    return tmp, config


def _record(tmp, student):
    path = tmp / "autograder/course/autograded" / student / "tiny" / "tiny.nngrade.json"
    return json.loads(path.read_text())


@pytest.mark.parametrize("student", sorted(CLASS))
def test_autograde_scores_every_student(course, student):
    tmp, _ = course
    record = _record(tmp, student)
    _, status, score = CLASS[student]
    assert (record["status"], record["score"]) == (status, score), record


def test_broken_notebooks_are_reported_not_zeroed(course):
    tmp, _ = course
    assert "not valid notebook JSON" in _record(tmp, "frank")["reason"]
    assert "is empty" in _record(tmp, "gina")["reason"]
    assert _record(tmp, "frank")["status"] == "could-not-grade"


def test_infinite_loop_is_interrupted_and_the_rest_graded(course):
    tmp, _ = course
    record = _record(tmp, "dave")
    assert any("was interrupted" in note for note in record["notes"])
    assert all(t["status"] == "passed" for t in record["tests"])


def test_second_run_skips_unchanged_and_regrades_changed(course, capsys):
    tmp, config = course
    target = tmp / "autograder/course/submitted/bob/tiny/tiny.ipynb"
    fixed = sim.build(tiny_master(), [])
    sim.write(fixed, target)
    capsys.readouterr()
    assert run(config, "autograde", "tiny", "--jobs", "2", "--no-progress") == 0
    out = capsys.readouterr().out
    assert "graded 1," in out and "skipped 6 unchanged" in out
    assert _record(tmp, "bob")["score"] == 4.0
    sim.write(sim.build(tiny_master(), CLASS["bob"][0]), target)  # restore for other tests
    assert run(config, "autograde", "tiny", "--jobs", "1", "--no-progress") == 0


def test_feedback_shows_messages_but_no_hidden_code(course):
    tmp, config = course
    assert run(config, "feedback", "tiny") == 0
    pages = {
        p.parent.parent.name: p.read_text()
        for p in (tmp / "autograder/course/feedback").glob("*/tiny/tiny.html")
    }
    assert set(pages) == set(CLASS) | {"frank", "gina"}
    for page in pages.values():
        text = page_text(page)
        for secret in HIDDEN_SECRETS:
            assert secret not in text
    assert "increment(n) should return n + 1" in html.unescape(pages["erin"])
    assert "square(3) should be 9" in html.unescape(pages["alice"])  # visible test shown
    assert "not valid notebook JSON" in pages["frank"]


def test_export_csv_and_canvas(course):
    tmp, config = course
    assert run(config, "export", "tiny", "--csv", str(tmp / "grades.csv")) == 0
    rows = {r["student"]: r for r in csv.DictReader((tmp / "grades.csv").open())}
    assert rows["bob"]["test_square_hidden"] == "0" and rows["bob"]["total"] == "2"
    assert rows["frank"]["status"] == "could-not-grade" and rows["frank"]["total"] == ""
    assert run(config, "export", "tiny", "--csv", str(tmp / "canvas.csv"), "--canvas") == 0
    canvas = list(csv.reader((tmp / "canvas.csv").open()))
    assert canvas[0][:2] == ["Student", "ID"] and canvas[1][0] == "Points Possible"


def test_report_has_histogram_pass_rates_and_failures(course):
    tmp, config = course
    assert run(config, "report", "tiny") == 0
    page = (tmp / "autograder/course/reports/tiny.html").read_text()
    assert "data:image/png;base64," in page
    assert "test_increment" in page and "could not be graded" in page
    assert "increment(n) should return n + 1" in html.unescape(page)
    for secret in HIDDEN_SECRETS:
        assert secret not in html.unescape(page)


def test_check_json_uses_hidden_tests_without_showing_them(course, capsys):
    tmp, config = course
    capsys.readouterr()
    code = run(config, "check", "tiny", str(tmp / "inbox/erin/tiny.ipynb"), "--json")
    out = capsys.readouterr().out
    data = json.loads(out)
    assert code == 0 and data["score"] == 3.0 and data["max_score"] == 4.0
    assert {"assignment", "score", "max_score", "status", "tests"} <= set(data)
    for secret in HIDDEN_SECRETS:
        assert secret not in out


def test_check_release_only_runs_visible_tests(course, capsys):
    tmp, config = course
    release = tmp / "release" / "tiny" / "tiny.ipynb"
    sim.write(sim.build(tiny_master(), []), release)  # reference without hidden tests
    capsys.readouterr()
    bug = tmp / "inbox/erin/tiny.ipynb"  # its bug is caught only by a hidden test
    code = run(config, "check", "tiny", str(bug), "--json", "--release-only")
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["score"] == data["max_score"]  # hidden bug not caught
    assert HIDDEN_NOT_RUN in data["notes"]


def test_check_broken_notebook_exits_non_zero(course, capsys):
    tmp, config = course
    assert run(config, "check", "tiny", str(tmp / "inbox/gina/tiny.ipynb"), "--json") != 0
    assert json.loads(capsys.readouterr().out)["status"] == "could-not-grade"


def test_collect_canvas_bulk_zip_reports_duplicates_and_unknown(tmp_path):
    config = make_course(tmp_path)
    good = json.dumps(sim.build(tiny_master(), []))
    bundle = tmp_path / "submissions.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("smithjane_1001_5001_tiny.ipynb", good)
        archive.writestr("doejohn_late_1002_5002_tiny-1.ipynb", good)
        archive.writestr("twice_1003_5003_tiny.ipynb", good)
        archive.writestr("twice_1003_5004_tiny-1.ipynb", good)
        archive.writestr("random notes.txt", "hello")
    assert run(config, "collect", str(bundle), "tiny") == 0
    submitted = tmp_path / "autograder/course/submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["1001", "1002"]
    assert (submitted / "1002/tiny/tiny.ipynb").is_file()


def test_collect_reports_mixed_layout(tmp_path, capsys):
    config = make_course(tmp_path)
    inbox = tmp_path / "mixed"
    (inbox / "alice").mkdir(parents=True)
    (inbox / "loose.ipynb").write_text("{}")
    assert run(config, "collect", str(inbox), "tiny") == 1
    assert "loose.ipynb: a file among student folders" in capsys.readouterr().out


def test_killed_run_resumes(tmp_path):
    """Kill autograde mid-run (SIGKILL to its process group); the next run finishes the rest."""
    config = make_course(tmp_path)
    slow = [sim.append_code("import time\ntime.sleep(1.5)")]
    students = {f"s{i}": (slow, "graded", 4.0) for i in range(4)}
    inbox = submit_class(tmp_path, students)
    assert run(config, "collect", str(inbox), "tiny") == 0
    records = tmp_path / "autograder/course/autograded"
    command = [
        sys.executable,
        "-m",
        "nngrade.cli",
        "autograde",
        "tiny",
        "--jobs",
        "1",
        "--course",
        str(config),
        "--no-progress",
    ]
    proc = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 600  # generous: a loaded machine
    while not list(records.glob("s*/tiny/*.nngrade.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.parent.parent.name for p in records.glob("*/tiny/*.nngrade.json")}
    assert 1 <= len(done_before) < 6
    finished = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert finished.returncode == 0, finished.stderr
    assert f"skipped {len(done_before)} unchanged" in finished.stdout
    assert {p.parent.parent.name for p in records.glob("*/tiny/*.nngrade.json")} == set(
        students
    ) | {"frank", "gina"}


def test_release_generates_student_version_without_secrets(tmp_path):
    config = make_course(tmp_path)
    assert run(config, "release", "tiny") == 0
    released = (tmp_path / "release/tiny/tiny.ipynb").read_text()
    assert "raise NotImplementedError" in released
    for secret in [*HIDDEN_SECRETS, "return n + 1", "BEGIN HIDDEN TESTS"]:
        assert secret not in released


@pytest.mark.skipif(not available("isolated"), reason="isolated executor not present")
def test_check_with_isolated_executor_hides_hidden_tests(course, capsys):
    tmp, config = course
    capsys.readouterr()
    code = run(
        config,
        "check",
        "tiny",
        str(tmp / "inbox/erin/tiny.ipynb"),
        "--json",
        "--executor",
        "isolated",
    )
    out = capsys.readouterr().out
    data = json.loads(out)
    assert code == 0 and data["score"] == 3.0, data
    assert "increment(n) should return n + 1" in out
    for secret in HIDDEN_SECRETS:
        assert secret not in out
