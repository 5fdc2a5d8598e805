"""nngrade.grading.markers parses solution and hidden-test regions exactly as nbgrader does.

The property tests compare with nbgrader's own preprocessors on random cells; the course tests
grade a class whose master marks hidden tests as nbgrader allows but the old parsers missed
(`## BEGIN HIDDEN TESTS`, or a delimiter set in the course's nbgrader_config.py): the hidden
lines are hidden everywhere (release, grading messages, feedback, `check`) and still graded.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from nngrade.cli import main
from nngrade.commands.feedback import page_text
from nngrade.grading import markers as mk
from nngrade.grading.markers import MarkerError, Markers
from nngrade_support import HIDDEN_SECRETS, make_course, sim, tiny_master

CUSTOM = Markers(begin_hidden="BEGIN SECRET CHECKS", end_hidden="END SECRET CHECKS")


def _lines(markers: Markers) -> st.SearchStrategy[str]:
    """Cell sources mixing code with every way a marker can appear on a line."""
    begin_h, end_h = markers.pair(mk.HIDDEN)
    begin_s, end_s = markers.pair(mk.SOLUTION)
    pool = [
        "x = 1",
        "    assert f(x) == 2, 'f is wrong'",
        "",
        "# a comment",
        f"### {begin_h}",
        f"### {end_h}",
        f"## {begin_h}",
        f"    # {end_h} (done)",
        f"    ### {begin_s}",
        f"    ### {end_s}",
        f"#{begin_s}",
        f"print('{end_s}')",
    ]
    return st.lists(st.sampled_from(pool), max_size=12).map("\n".join)


def _nbgrader(preprocessor, method: str, source: str, *args):
    cell = nbformat.v4.new_code_cell(source)
    try:
        getattr(preprocessor, method)(cell, *args)
    except RuntimeError:
        return "error"
    return cell.source


def _ours(function, source: str, *args, **kwargs):
    try:
        return function(source, *args, **kwargs)
    except MarkerError:
        return "error"


@pytest.mark.parametrize("markers", [mk.DEFAULT, CUSTOM], ids=["default", "configured"])
@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data())
def test_hidden_regions_are_removed_as_nbgrader_removes_them(markers, data):
    source = data.draw(_lines(markers))
    nbgrader = ClearHiddenTests(
        begin_test_delimeter=markers.begin_hidden, end_test_delimeter=markers.end_hidden
    )
    expected = _nbgrader(nbgrader, "_remove_hidden_test_region", source)
    assert _ours(mk.strip_hidden, source, markers) == expected


@settings(max_examples=300, deadline=None, derandomize=True)
@given(source=_lines(mk.DEFAULT))
def test_solution_regions_are_replaced_as_nbgrader_replaces_them(source):
    expected = _nbgrader(ClearSolutions(), "_replace_solution_region", source, "python")
    assert _ours(mk.clear_solution, source) == expected


def test_hidden_variants_that_nbgrader_strips_are_hidden():
    for begin, end in [("## BEGIN HIDDEN TESTS", "## END HIDDEN TESTS"),
                       ("    #BEGIN HIDDEN TESTS", "# END HIDDEN TESTS  "),
                       ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")]:  # fmt: skip
        source = f"assert ok()\n{begin}\nassert probe(123456) == 7\n{end}\n"
        assert mk.has_hidden(source)
        assert "probe(123456)" not in mk.visible_source(source)
        assert mk.HIDDEN_PLACEHOLDER in mk.visible_source(source)
        assert mk.region_lines(source, mk.HIDDEN) == ["assert probe(123456) == 7"]
        assert mk.hidden_line_numbers(source) == {2, 3, 4}


def test_a_secret_line_is_long_enough_and_never_public():
    cells = [
        "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    y = np.maximum(x, 0)\n"
        "    import numpy as np\n    ### END SOLUTION",
        "import numpy as np\n## BEGIN HIDDEN TESTS\nassert f(np.arange(3)).sum() == 3\n"
        "## END HIDDEN TESTS",
    ]
    both = mk.secret_lines(cells, (mk.SOLUTION, mk.HIDDEN))
    assert sorted(both.values()) == ["assert f(np.arange(3)).sum() == 3", "y = np.maximum(x, 0)"]
    hidden = mk.secret_lines(cells, (mk.HIDDEN,))
    assert list(hidden.values()) == ["assert f(np.arange(3)).sum() == 3"]
    assert mk.quoted_secrets("  assert f(np.arange(3)).sum()==3  # line 3", hidden)


def test_markers_are_read_from_the_course_config(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.ClearHiddenTests.begin_test_delimeter = {CUSTOM.begin_hidden!r}\n"
        f"c.ClearHiddenTests.end_test_delimeter = {CUSTOM.end_hidden!r}\n"
    )
    from nngrade.grading.config import load

    assert load(tmp_path).markers == CUSTOM
    assert load(tmp_path.parent / "missing").markers == mk.DEFAULT


# -- a whole course whose hidden tests use the variants ---------------------------------------
def _variant_course(tmp, variant: str):
    config = make_course(tmp)
    master_path = tmp / "source" / "tiny" / "tiny.ipynb"
    text = master_path.read_text()
    if variant == "double-hash":
        text = text.replace("### BEGIN HIDDEN TESTS", "## BEGIN HIDDEN TESTS")
        text = text.replace("### END HIDDEN TESTS", "## END HIDDEN TESTS")
    else:
        text = text.replace("### BEGIN HIDDEN TESTS", f"# {CUSTOM.begin_hidden}")
        text = text.replace("### END HIDDEN TESTS", f"# {CUSTOM.end_hidden}")
        with (config / "nbgrader_config.py").open("a") as handle:
            handle.write(
                f"c.ClearHiddenTests.begin_test_delimeter = {CUSTOM.begin_hidden!r}\n"
                f"c.ClearHiddenTests.end_test_delimeter = {CUSTOM.end_hidden!r}\n"
            )
    assert "### BEGIN HIDDEN TESTS" not in text
    master_path.write_text(text)
    second = tmp / "source" / "second" / "second.ipynb"  # a new folder: released too
    second.parent.mkdir(parents=True)
    nbformat.write(tiny_master(), str(second))
    return config


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["double-hash", "configured"])
def test_variant_hidden_tests_are_graded_and_never_shown(tmp_path, variant, capsys):
    config = _variant_course(tmp_path, variant)

    def run(*args):
        return main([*args, "--course", str(config), "--executor", "inkernel"])

    assert run("release") == 0  # no names: every assignment in source/
    released = (tmp_path / "release/tiny/tiny.ipynb").read_text()
    assert (tmp_path / "release/second/second.ipynb").is_file()
    for secret in HIDDEN_SECRETS:
        assert secret not in released

    master = nbformat.read(str(tmp_path / "source/tiny/tiny.ipynb"), as_version=4)
    inbox = tmp_path / "inbox"
    sim.write(sim.build(master, []), inbox / "alice" / "tiny.ipynb")
    bad = [sim.replace_in("increment", "n + 1", "n - 1")]
    sim.write(sim.build(master, bad), inbox / "erin" / "tiny.ipynb")
    assert run("collect", str(inbox), "tiny") == 0
    assert run("autograde", "tiny", "--jobs", "1", "--no-progress") == 0
    assert run("feedback", "tiny") == 0
    capsys.readouterr()
    assert run("check", "tiny", str(inbox / "erin" / "tiny.ipynb"), "--json") == 0
    checked = capsys.readouterr().out
    assert json.loads(checked)["score"] == 3.0  # the hidden increment test ran and failed
    pages = {
        student: page_text(
            (tmp_path / f"autograder/course/feedback/{student}/tiny/tiny.html").read_text()
        )
        for student in ("alice", "erin")
    }
    assert "increment(n) should return n + 1" in pages["erin"]  # its message is shown
    for page in pages.values():  # the whole graded notebook is shown, not the summary alone
        assert "def increment(n):" in page and "not shown on this page" not in page
    records = tmp_path / "autograder/course/autograded"
    graded = {p.parent.parent.name: p.read_text() for p in records.glob("*/tiny/*.nngrade.json")}
    assert json.loads(graded["alice"])["score"] == 4.0
    copies = [p.read_text() for p in records.glob("*/tiny/*.ipynb")]  # what feedback renders
    assert len(copies) == 2
    for text in [*pages.values(), checked, *graded.values(), *copies]:
        for secret in HIDDEN_SECRETS:
            assert secret not in text
