"""Shared test set-up: a non-interactive plotting backend and the offline data mirror."""

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("MPLBACKEND", "Agg")

# The test processes skip jsonschema's IRI check as nngrade's own processes do (its optional
# `rfc3987-syntax` costs 2.3 s of CPU at import; autograder/nngrade/__init__.py says why).
import nngrade  # noqa: E402, F401

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
# "How the suite runs"). Tests that must share one process form a group, named here from their
# node ids so that no test file has to know about the scheduler (GroupScheduling, below, hands a
# group to one worker as a whole; xdist's own `xdist_group` marks are silently ignored with
# pytest 9.2, pytest-dev/pytest-xdist#1386, and are honoured again if that is fixed):
#   - a lecture's run-through and its slider probe share one kernel run (lecture-NN), and the
#     site's tests share one build (book); tests/course/conftest.py shares the executed lectures
#     between workers, so the site never runs a lecture again;
#   - SHARED_MODULES: every module that defines a fixture of module or session scope (an
#     executed master notebook, a graded class, a PostgreSQL server), so it is built once and
#     its tests see it as written (test_adversarial grades the honest student after the whole
#     corpus); SPREAD names the exceptions. Collection fails, naming the module, when a module
#     with such a fixture is in neither set.
# Work is handed out in collection order, a group at a time, so the longest groups go first
# (FIRST, then every other `slow` test): a long test started last would leave one core idle.
SHARED_MODULES = {
    "tests/course/test_hw4_benchmark.py",
    "tests/course/test_hw4_notebook.py",
    "tests/nngrade/test_adversarial.py",
    "tests/nngrade/test_adversarial_leaks.py",
    "tests/nngrade/test_feedback_script.py",
    "tests/nngrade/test_feedback_offline.py",
    "tests/nngrade/test_feedback_report_check.py",
    "tests/nngrade/test_isolation_user.py",
    "tests/nngrade/test_isolation_user_copy.py",  # the user fixture of test_isolation_user
    "tests/nngrade/test_nngrade_cli.py",
    "tests/nngrade/test_postgres_gradebook.py",
    "tests/nnhelpers/test_data_mnist.py",
    "tests/course/test_lab_mutants.py",  # no fixture: a module-level cache of each lab's master
}
# Modules whose shared fixture is cheap next to their tests: spread over the workers, each
# builds it once (test_hw4_mutants: the master without training, seconds; its tests, minutes).
SPREAD = {"tests/course/test_hw4_mutants.py"}
LECTURE_TESTS = (
    "tests/course/test_lecture_notebooks.py::test_lecture_runs_top_to_bottom[",
    "tests/course/test_lecture_widgets.py::test_every_slider_redraws_its_figure[",
)
LECTURE_02 = "tests/course/test_lecture_widgets.py::test_learning_rate_slider_goes_from_converging"
# The longest units of work, longest first (measured: docs/development.md); node id prefixes.
FIRST = (
    "tests/nngrade/test_isolation_user.py",  # the attack corpus again, as an unprivileged user
    "tests/nngrade/test_cluster_hw4.py",  # the HW 4 demo class graded twice (local, Dask)
    "tests/nngrade/test_adversarial.py",
    "tests/nngrade/test_isolation_user_copy.py",  # hidden calls in a copy, as that user
    "tests/course/test_book.py",  # the lectures it needs and no other test ran yet, the site
    "tests/course/test_exchange_browser.py",
    "tests/course/test_readme_commands.py",
    "tests/nngrade/test_adversarial_cli.py",
    "tests/course/test_hw4_pipeline.py",
)


def group_of(nodeid: str) -> str | None:
    """The group of a test (tests of one group run in one worker, in order), or None."""
    module = nodeid.partition("::")[0]
    for prefix in LECTURE_TESTS:
        if nodeid.startswith(prefix):
            return "lecture-" + nodeid[len(prefix) : len(prefix) + 2]
    if nodeid.startswith(LECTURE_02):
        return "lecture-02"
    if module == "tests/course/test_book.py":
        return "book"
    if module in SHARED_MODULES:
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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Check the shared modules are listed, and put the longest work first (see above)."""
    unlisted = sorted(
        {
            module
            for item in items
            if group_of(item.nodeid) is None
            and (module := item.nodeid.partition("::")[0]) not in SPREAD
            and _has_module_fixture(item, module)
        }
    )
    if unlisted:
        raise pytest.UsageError(
            f"{', '.join(unlisted)}: a fixture of module or session scope; add the module to "
            "SHARED_MODULES (its tests run in one worker) or SPREAD in tests/conftest.py"
        )
    ranks: dict[str, int] = {}
    for item in items:  # a group starts where its earliest member would
        unit = group_of(item.nodeid) or item.nodeid
        ranks[unit] = min(ranks.get(unit, len(FIRST) + 2), _rank(item))
    items.sort(key=lambda item: ranks[group_of(item.nodeid) or item.nodeid])


def pytest_xdist_make_scheduler(config, log):
    """With `--dist loadgroup`, xdist's load-group scheduling over the groups named above."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class GroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or super()._split_scope(nodeid)

    return GroupScheduling(config, log)


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
