"""Shared test set-up: a non-interactive plotting backend and the offline data mirror."""

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("MPLBACKEND", "Agg")

# In a pytest-xdist worker (`make test`), numpy uses one BLAS thread, as nngrade's graders do:
# the workers already fill the cores, and OpenBLAS threads of two workers (and of the kernels
# and sandboxes they start, which inherit this) fighting over two cores only slow both down.
# Set before any test module imports numpy; a value the caller chose is kept.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

# Tests (and the kernels they start, which inherit the environment) never write into the
# user's real data cache: they share one cache folder inside the checkout (gitignored).
os.environ.setdefault("NNHELPERS_CACHE", str(ROOT / ".test-cache" / "nnhelpers"))

# On development and CI machines without internet, the shared MNIST mirror sits beside the
# checkout; use it unless the caller chose a mirror already.
_shared_mirror = ROOT.parent / "shared" / "data" / "mnist"
if "NNHELPERS_MIRROR" not in os.environ and _shared_mirror.is_dir():
    os.environ["NNHELPERS_MIRROR"] = str(_shared_mirror)


# --------------------------------------------------------------------------- parallel runs
# `make test` runs the suite in pytest-xdist workers with `--dist loadgroup` (docs/development.md,
# "How the suite runs"). Tests that must share one process carry an xdist_group mark, given here
# so that no test file has to know about the scheduler:
#   - a lecture's run-through and its slider probe share one kernel run (lecture-NN), and the
#     site's tests share one build (book); tests/course/conftest.py shares the executed lectures
#     between workers, so the site never runs a lecture again;
#   - the tests of a module that defines a module- or session-scoped fixture (an executed master
#     notebook, a graded class, a PostgreSQL server) build it once, in one worker (except the
#     modules in SPREAD); MODULE_STATE would list modules sharing state without a fixture.
# Work is handed out in collection order, a group at a time, so the longest groups go first
# (FIRST, then every other `slow` test): a long test started last would leave one core idle.
MODULE_STATE: set[str] = set()  # modules sharing state without a fixture (none at present)
# Modules whose shared fixture is cheap next to their tests: spread over the workers, each
# builds it once (test_hw4_mutants: the master without training, seconds; its tests, minutes).
SPREAD = {"tests/course/test_hw4_mutants.py"}
LECTURE_TESTS = {
    "tests/course/test_lecture_notebooks.py::test_lecture_runs_top_to_bottom",
    "tests/course/test_lecture_widgets.py::test_every_slider_redraws_its_figure",
}
LECTURE_02 = "tests/course/test_lecture_widgets.py::test_learning_rate_slider_goes_from_converging"
# The longest units of work, longest first (measured: docs/development.md); node id prefixes.
FIRST = (
    "tests/nngrade/test_isolation_user.py",  # the attack corpus again, as an unprivileged user
    "tests/course/test_hint_coverage.py::test_coverage_stays_above_its_floor[hw4]",
    "tests/nngrade/test_adversarial.py",
    "tests/course/test_book.py",  # the lectures it needs and no other test ran yet, the site
    "tests/course/test_exchange_browser.py",
    "tests/course/test_readme_commands.py",
    "tests/nngrade/test_adversarial_cli.py",
    "tests/course/test_hw4_pipeline.py",
)


def _group(item) -> str | None:
    """The xdist group of a test: tests of one group run in one worker, one after the other."""
    module, _, name = item.nodeid.partition("::")
    function = name.split("[")[0]
    if f"{module}::{function}" in LECTURE_TESTS:
        return "lecture-" + item.callspec.params["name"][:2]
    if item.nodeid.startswith(LECTURE_02):
        return "lecture-02"
    if module == "tests/course/test_book.py":
        return "book"
    if module in MODULE_STATE or (module not in SPREAD and _has_module_fixture(item, module)):
        return module
    return None


def _has_module_fixture(item, module: str) -> bool:
    """Does the test use a fixture of wider than function scope that its own module defines?"""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return any(
        fixturedef.scope != "function" and fixturedef.baseid == module
        for name in item.fixturenames
        for fixturedef in definitions.get(name, ())
    )


def _rank(item) -> int:
    """Position class in the run: the longest units first, then slow tests, then the rest."""
    for index, prefix in enumerate(FIRST):
        if item.nodeid.startswith(prefix):
            return index
    return len(FIRST) + (0 if item.get_closest_marker("slow") else 1)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config, items) -> None:
    """Group the tests that share a process (see above) and put the longest work first."""
    for item in items:
        group = _group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    ranks = {}
    for item in items:  # a group starts where its earliest member would
        group = _group(item) or item.nodeid
        ranks[group] = min(ranks.get(group, len(FIRST) + 2), _rank(item))
    items.sort(key=lambda item: ranks[_group(item) or item.nodeid])


def pytest_terminal_summary(terminalreporter) -> None:
    """The lecture run times test_lecture_notebooks.py recorded, printed and saved as an artefact.

    Here, in the main process, because the workers that ran the lectures report to it."""
    times = {}
    for report in terminalreporter.stats.get("passed", []):
        seconds = dict(getattr(report, "user_properties", ())).get("seconds")
        found = re.search(r"::test_lecture_runs_top_to_bottom\[(.+?)\]", report.nodeid)
        if found and seconds is not None:
            times[found.group(1)] = seconds
    if not times:
        return
    artefacts = ROOT / "test-artifacts"
    artefacts.mkdir(exist_ok=True)
    (artefacts / "lecture-times.json").write_text(json.dumps(times, indent=2) + "\n")
    terminalreporter.write_line("")
    terminalreporter.write_line("lecture notebook run times (fresh kernel, incl. start-up):")
    for name, seconds in sorted(times.items()):
        terminalreporter.write_line(f"  {name}: {seconds:.1f} s")
