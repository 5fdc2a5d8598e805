"""nbgrader's exchange through nngrade: release, the student's workspace, collect, feedback.

The student side is nbgrader's own code, called as JupyterLab's Assignment List calls it
(nbgrader.server_extensions.assignment_list.AssignmentList rooted in the workspace). Each test
has its own course folder and exchange under tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nngrade.cli import main
from nngrade.commands.release import holds_student_work, rescue_student_work
from nngrade.grading import exchange
from nngrade.grading.config import load
from nngrade_support import make_course

ROOT = Path(__file__).resolve().parents[2]
STAMPS = {  # student -> timestamps of their submissions, oldest first
    "alice": ["2026-11-01 10:00:00.000001 UTC", "2026-11-02 09:30:00.500000 UTC"],
    "bob": ["2026-11-01 23:59:59.999999 UTC"],
}


def _submission(inbound: Path, student: str, stamp: str, text: str, assignment="tiny") -> Path:
    """An inbound entry as nbgrader's ExchangeSubmit writes it."""
    folder = inbound / f"{student}+{assignment}+{stamp}+{abs(hash(text)) % 10**6}"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text)])
    nbformat.write(nb, str(folder / f"{assignment}.ipynb"))
    (folder / "timestamp.txt").write_text(stamp)
    (folder / "submission_secret.txt").write_text(f"secret of {student} at {stamp}")
    return folder


def _course(tmp_path: Path):
    config = make_course(tmp_path)
    settings = load(config)
    for student, stamps in STAMPS.items():
        for stamp in stamps:
            _submission(exchange.inbound(settings), student, stamp, f"# {student} {stamp}")
    return config, settings


def test_timestamps_are_read_as_nbgrader_reads_them():
    from nbgrader.utils import parse_utc

    for text in [
        "2026-11-30 21:39:19.104022 UTC",
        "2026-11-30 21:39:19.104022 +0100",
        "2026-11-30 21:39:19.104022 -0530",
        "2026-11-30 21:39:19.104022 Europe/Berlin",
        "2026-11-30 21:39:19",
        "2026-11-30T21:39:19+02:00",
    ]:
        assert exchange.parse_timestamp(text) == parse_utc(text), text


def test_collect_takes_each_students_latest_submission_with_its_timestamp(tmp_path):
    config, settings = _course(tmp_path)
    inbound = exchange.inbound(settings)
    _submission(inbound, "alice", "2026-11-03 08:00:00.000000 UTC", "other", assignment="lab9")
    bad = [
        "carol+tiny+yesterday+abc",  # unreadable timestamp
        "..+tiny+2026-11-04 08:00:00.000000 UTC+abc",  # would escape submitted/
        ".hidden+tiny+2026-11-04 08:00:00.000000 UTC+abc",
    ]
    for name in bad:
        (inbound / name).mkdir()

    from nngrade.commands.collect import collect

    result = collect(None, "tiny", settings)
    assert result.layout.startswith("nbgrader exchange")
    assert sorted(entry.split(" ")[0] for entry in result.imported) == ["alice/tiny", "bob/tiny"]
    for name in bad:  # every malformed entry is named, and the others were still collected
        assert any(name in problem for problem in result.problems), (name, result.problems)
    for student, stamps in STAMPS.items():
        folder = settings.submitted / student / "tiny"
        assert (folder / "timestamp.txt").read_text() == stamps[-1]
        assert (folder / "submission_secret.txt").is_file()
        source = nbformat.read(folder / "tiny.ipynb", as_version=4).cells[0].source
        assert source == f"# {student} {stamps[-1]}"
    assert not (settings.submitted.parent / "tiny").exists()
    assert sorted(p.name for p in settings.submitted.iterdir()) == ["alice", "bob"]

    # Again: nothing new. Then alice submits once more: only she is collected again.
    again = collect(None, "tiny", settings)
    assert again.imported == [] and sorted(again.unchanged) == ["alice/tiny", "bob/tiny"]
    newest = "2026-11-05 12:00:00.000000 UTC"
    _submission(inbound, "alice", newest, "# alice, last")
    third = collect(None, "tiny", settings)
    assert [entry.split(" ")[0] for entry in third.imported] == ["alice/tiny"]
    assert (settings.submitted / "alice" / "tiny" / "timestamp.txt").read_text() == newest


def test_collect_never_follows_a_symbolic_link_out_of_the_inbound_folder(tmp_path):
    """The inbound folder is world-writable: a link must not import, say, the master copy."""
    config, settings = _course(tmp_path)
    inbound = exchange.inbound(settings)
    master = settings.masters("tiny")[0]
    (inbound / "mallory+tiny+2026-11-06 08:00:00.000000 UTC+x").symlink_to(master.parent)
    linked = inbound / "trudy+tiny+2026-11-06 08:00:00.000000 UTC+y"
    linked.mkdir()
    (linked / "tiny.ipynb").symlink_to(master)
    (linked / "notes.txt").write_text("mine")
    from nngrade.commands.collect import collect

    result = collect(None, "tiny", settings)
    assert any("mallory+tiny" in p and "symbolic link" in p for p in result.problems)
    assert any("trudy/tiny: symbolic link tiny.ipynb" in p for p in result.problems)
    assert any("trudy/tiny" in p and "lacks tiny.ipynb" in p for p in result.problems)
    assert not (settings.submitted / "mallory").exists()
    assert not (settings.submitted / "trudy" / "tiny" / "tiny.ipynb").exists()
    # with no notebook it could take, trudy's submission is not collected at all
    assert any("trudy/tiny: not collected: none of its notebooks" in p for p in result.problems)
    assert not (settings.submitted / "trudy").exists()


def test_collect_selects_what_nbgraders_own_collect_selects(tmp_path):
    """Same students, same submissions, same timestamps as `nbgrader collect --update`."""
    config, settings = _course(tmp_path)
    from nngrade.commands.collect import collect

    collect(None, "tiny", settings)
    theirs = load(config, db_url=f"sqlite:///{tmp_path / 'nbgrader.db'}")
    theirs.submitted = tmp_path / "nbgrader-submitted"
    from nngrade.grading.gradebook import open_gradebook

    open_gradebook(theirs.db_url, theirs.course_id).close()  # else nbgrader runs `alembic`
    exchange._run(theirs, "Collect", "tiny", update=True, check_owner=False)

    def stamps(folder: Path) -> dict[str, str]:
        return {p.parent.parent.name: p.read_text() for p in folder.glob("*/tiny/timestamp.txt")}

    assert stamps(theirs.submitted) == stamps(settings.submitted)
    assert stamps(settings.submitted) == {s: v[-1] for s, v in STAMPS.items()}


def test_collect_from_the_exchange_never_silently_replaces_a_folder_submission(tmp_path):
    config, settings = _course(tmp_path)
    from nngrade.commands.collect import collect

    by_hand = settings.submitted / "bob" / "tiny"
    by_hand.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), str(by_hand / "tiny.ipynb"))
    result = collect(None, "tiny", settings)
    assert any("bob/tiny" in p and "--overwrite" in p for p in result.problems), result.problems
    assert not (by_hand / "timestamp.txt").exists()
    assert collect(None, "tiny", settings, overwrite=True).imported[0].startswith("bob/tiny")
    assert (by_hand / "timestamp.txt").read_text() == STAMPS["bob"][-1]


def test_collect_without_an_exchange_says_where_it_looked(tmp_path, capsys):
    config = make_course(tmp_path)
    assert main(["collect", "tiny", "--course", str(config)]) == 2
    err = capsys.readouterr().err
    assert "inbound" in err and "nngrade release" in err, err


@pytest.mark.slow
def test_round_trip_release_fetch_submit_collect_grade_feedback(tmp_path):
    """The student path of the Assignment List, without a browser; feedback comes back."""
    from nbgrader.server_extensions.assignment_list.handlers import AssignmentList

    config = make_course(tmp_path)
    lectures = tmp_path / "notebooks"
    lectures.mkdir()
    assert main(["release", "tiny", "--course", str(config)]) == 0
    settings = load(config)
    assert (exchange.outbound(settings) / "tiny" / "tiny.ipynb").is_file()

    workspace = exchange.prepare_workspace(settings, tmp_path / "workspace", lectures)
    assert (workspace / "notebooks").resolve() == lectures.resolve()
    lister = AssignmentList()
    lister.root_dir = str(workspace)
    listed = lister.list_assignments(course_id="tiny-course")
    assert listed["success"], listed
    assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [("tiny", "released")]

    assert lister.fetch_assignment("tiny-course", "tiny")["success"]
    mine = workspace / "tiny" / "tiny.ipynb"
    nb = nbformat.read(mine, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            name = cell.metadata.nbgrader.grade_id
            body = "np.asarray(x) ** 2" if name == "square" else "n + 1"
            cell.source = cell.source.replace("raise NotImplementedError()", f"return {body}")
    nbformat.write(nb, str(mine))
    answers = mine.read_bytes()

    # The instructor releases again (and `make lab` runs again): the student's copy stays.
    assert main(["release", "tiny", "--course", str(config)]) == 0
    exchange.prepare_workspace(settings, workspace, lectures)
    refetch = lister.fetch_assignment("tiny-course", "tiny")
    assert not refetch["success"] and "already have a copy" in refetch["value"]
    assert mine.read_bytes() == answers

    assert lister.submit_assignment("tiny-course", "tiny")["success"]
    for command in (["collect", "tiny"], ["autograde", "tiny", "--no-progress"]):
        assert main([*command, "--course", str(config)]) == 0
    student = next(iter(settings.submitted_students("tiny")))
    assert main(["feedback", "tiny", "--course", str(config)]) == 0
    placed = settings.feedback / student / "tiny"
    assert {"tiny.html", "timestamp.txt", "submission_secret.txt"} <= {
        p.name for p in placed.iterdir()
    }
    assert lister.fetch_feedback("tiny-course", "tiny")["success"]
    (page,) = (workspace / "tiny" / "feedback").glob("*/tiny.html")
    assert "Score: 4 / 4" in page.read_text()
    submitted = lister.list_submitted_assignments("tiny-course")["value"][0]["submissions"][-1]
    assert submitted["has_local_feedback"] and not submitted["feedback_updated"]


def test_feedback_goes_to_the_exchange_only_for_exchange_submissions(tmp_path):
    config, settings = _course(tmp_path)
    for student in ("alice", "zoe"):  # zoe was collected from a zip: no secret, no timestamp
        page = settings.feedback / student / "tiny" / "tiny.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"<html>feedback for {student}</html>")
    from nngrade.commands.collect import collect

    collect(None, "tiny", settings)
    zoe = settings.submitted / "zoe" / "tiny"
    zoe.mkdir(parents=True)
    (settings.feedback / "zoe" / "tiny" / "timestamp.txt").write_text("stale")
    assert exchange.release_feedback(settings, "tiny", ["alice", "zoe"]) == ["alice"]
    assert not (settings.feedback / "zoe" / "tiny" / "timestamp.txt").exists()

    from nbgrader.utils import notebook_hash

    secret = (settings.submitted / "alice" / "tiny" / "submission_secret.txt").read_text()
    released = settings.exchange / "tiny-course" / "feedback"
    assert [p.name for p in released.iterdir()] == [
        f"{notebook_hash(secret=secret, notebook_id='tiny')}.html"
    ]


def test_workspace_keeps_what_the_student_has(tmp_path):
    config = make_course(tmp_path)
    settings = load(config)
    (settings.release / "tiny").mkdir(parents=True)
    shutil.copy(settings.masters("tiny")[0], settings.release / "tiny" / "tiny.ipynb")
    workspace = tmp_path / "workspace"
    (workspace / "tiny").mkdir(parents=True)
    (workspace / "tiny" / "tiny.ipynb").write_text("my answers")
    (workspace / "notebooks").write_text("a file of mine called notebooks")

    exchange.prepare_workspace(settings, workspace)
    assert (workspace / "tiny" / "tiny.ipynb").read_text() == "my answers"
    assert (workspace / "notebooks").read_text() == "a file of mine called notebooks"
    config_text = (workspace / "nbgrader_config.py").read_text()
    assert repr(str(settings.exchange)) in config_text and "'tiny-course'" in config_text
    # what the workspace lacked in the exchange was published from release/
    assert (exchange.outbound(settings) / "tiny" / "tiny.ipynb").is_file()


def test_release_keeps_work_a_student_saved_in_release(tmp_path):
    source = ROOT / "release" / "lab1_perceptron_gd" / "lab1_perceptron_gd.ipynb"
    release = tmp_path / "release" / "lab1_perceptron_gd"
    release.mkdir(parents=True)
    shutil.copy(source, release / source.name)
    master = ROOT / "source" / "lab1_perceptron_gd"
    keep = tmp_path / "kept"
    assert rescue_student_work(release, master, keep) == []  # untouched: nothing to keep

    nb = nbformat.read(source, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = answer.source.replace("raise NotImplementedError()", "return 42")
    nbformat.write(nb, str(release / source.name))
    (release / "scratch.py").write_text("my own file")
    kept = dict(rescue_student_work(release, master, keep))
    assert kept[release / source.name] == keep / source.name
    assert "return 42" in (keep / source.name).read_text()
    assert (keep / "scratch.py").read_text() == "my own file"

    # a second, different rescue never overwrites the first copy
    answer.source = answer.source.replace("return 42", "return 43")
    nbformat.write(nb, str(release / source.name))
    second = dict(rescue_student_work(release, master, keep))[release / source.name]
    assert second != keep / source.name and "return 43" in second.read_text()
    assert "return 42" in (keep / source.name).read_text()


def test_every_committed_release_notebook_counts_as_untouched():
    notebooks = sorted((ROOT / "release").glob("*/*.ipynb"))
    assert notebooks
    assert [p for p in notebooks if holds_student_work(p)] == []


@pytest.mark.slow
def test_make_release_keeps_a_students_answers_saved_in_release(tmp_path, capsys):
    """`nngrade release` (what `make release` and `make demo` run) over an edited release/."""
    config = make_course(tmp_path)
    release = ["release", "tiny", "--no-exchange", "--course", str(config)]
    assert main(release) == 0
    mine = tmp_path / "release" / "tiny" / "tiny.ipynb"
    nb = nbformat.read(mine, as_version=4)
    nb.cells[2].source = "def square(x):\n    return x * x  # mine"
    nbformat.write(nb, str(mine))
    capsys.readouterr()
    assert main(release) == 0
    kept = tmp_path / "mywork" / "saved-from-release" / "tiny" / "tiny.ipynb"
    assert "return x * x  # mine" in kept.read_text()
    err = capsys.readouterr().err
    assert "kept a copy" in err and "tiny.ipynb" in err, err
    assert not holds_student_work(mine), "release/ was not regenerated"
