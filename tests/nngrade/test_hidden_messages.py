"""What hidden tests say never carries values computed on hidden inputs (issue 13).

Each attack of tests/adversarial/hidden_messages.py (lab 1, lab 2, HW 4: a graded function that
answers the visible tests honestly and returns its hidden input encoded, raises it, or encodes
it in a shape) is graded by the isolated executor, saved as autograde saves it, and rendered by
`nngrade feedback`, `nngrade report` and `nngrade export`. Neither the hidden inputs nor the
reference outputs on them may appear in the record, the graded copy, the page, the report or
the CSV, while the failing hidden check still names what kind of mistake it found.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from hidden_messages import CASES, attack_notebook, forbidden
from nngrade.commands.export import export_csv
from nngrade.commands.feedback import page_text, write_feedback
from nngrade.commands.report import write_report
from nngrade.grading import config, records
from nngrade.grading.results import Limits
from nngrade.sandbox.isolated import grade_notebook
from nngrade.sandbox.launcher import detect
from simulate import reference

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(detect(False).mode != "namespaces", reason="needs the namespace sandbox"),
]
LIMITS = Limits(cell_timeout=60, total_timeout=600, memory_mb=2048)
ATTACKS = [
    ("lab1", "echo"),
    ("lab1", "exception"),
    ("lab2", "packed"),
    ("lab2", "scaled"),
    ("lab2", "shape"),
    ("lab2_tuple", "packed"),
    ("hw4", "packed"),
]
# what the failing hidden check must still say (the kind of mistake, not the values)
SAYS = {
    "echo": "relative error",
    "exception": "raised an exception on an input of the hidden tests",
    "packed": "entries differ",
    "scaled": "entries differ",
    "shape": "shape",
}


def _course(case) -> tuple[Path, config.Settings]:
    root = Path(tempfile.mkdtemp(prefix="nngrade-hidden-msgs-"))
    stem = case.master.stem
    (root / "source" / stem).mkdir(parents=True)
    shutil.copy(case.master, root / "source" / stem / case.master.name)
    (root / "autograder").mkdir()
    (root / "autograder" / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'hidden-msgs'\n"
        "c.NNGrade.executor = 'isolated'\n"
        "c.NNGrade.run_directory = 'course'\n"
    )
    return root, config.load(root / "autograder")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("name", "mode"), ATTACKS, ids=[f"{n}-{m}" for n, m in ATTACKS])
def test_hidden_inputs_never_reach_the_student(name, mode):
    case = CASES[name]
    root, settings = _course(case)
    try:
        stem = case.master.stem
        master = root / "source" / stem / case.master.name
        nb = attack_notebook(case, mode, reference(nbformat.read(str(master), as_version=4)))
        path = root / "course" / "submitted" / "mallory" / stem / case.master.name
        path.parent.mkdir(parents=True)
        nbformat.write(nb, str(path))
        report = grade_notebook(path, master, assignment=stem, limits=LIMITS, student="mallory")
        assert report.status == "graded", report.reason
        records.save(settings.autograded, "mallory", stem, stem, "k", report, "isolated",
                     master=master)  # fmt: skip
        graded = records.paths(settings.autograded, "mallory", stem, stem)[0]
        page = write_feedback(settings, stem)[0]
        csv = root / "grades.csv"
        export_csv(settings, stem, csv)
        shown = {
            "record": json.dumps(report.to_json()),
            "graded copy": graded.read_text(encoding="utf-8"),
            "feedback page": page_text(page.read_text(encoding="utf-8")),
            "report": write_report(settings, stem).read_text(encoding="utf-8"),
            "CSV": csv.read_text(encoding="utf-8"),
        }
        for where, text in shown.items():
            leaked = sorted(v for v in forbidden(case) if v in text)
            assert not leaked, f"{name}/{mode}: hidden values {leaked[:5]} reached the {where}"
        hidden_fail = [t for t in report.tests if t.hidden and t.status != "passed"]
        assert any(SAYS[mode] in t.message for t in hidden_fail), [
            (t.grade_id, t.message) for t in hidden_fail
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
