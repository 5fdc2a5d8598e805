"""The gradebook on a real PostgreSQL server (a throwaway one, started and stopped here).

Same scores as SQLite; two `nngrade autograde` runs of overlapping students at once, with an
export running meanwhile, neither lose nor duplicate a row.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from nngrade.cli import main
from nngrade_support import CLASS, make_course, sim, submit_class
from pg_server import pg_bin, postgres_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL is not installed (.ci/run does)"),
]
pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


def _scores(db_url: str, course_id: str = "tiny-course") -> dict:
    from nngrade.grading.gradebook import open_gradebook, scores

    gb = open_gradebook(db_url, course_id)
    try:
        return scores(gb, "tiny")
    finally:
        gb.close()


def test_postgres_scores_equal_sqlite(tmp_path, pg_url):
    lite, pg = tmp_path / "lite", tmp_path / "pg"
    for folder, extra in ((lite, []), (pg, ["--db-url", pg_url])):
        config = make_course(folder)
        inbox = submit_class(folder)
        assert main(["collect", str(inbox), "tiny", "--course", str(config)]) == 0
        args = ["autograde", "tiny", "--jobs", "2", "--no-progress", "--course", str(config)]
        assert main(args + extra) == 0
    expected = _scores(f"sqlite:///{lite / 'autograder' / 'gradebook.db'}")
    assert set(expected) == set(CLASS) | {"frank", "gina"}
    assert _scores(pg_url) == expected


def _cli(config, *args) -> list[str]:
    return [sys.executable, "-m", "nngrade.cli", *args, "--course", str(config), "--no-progress"]


def test_two_commands_at_once_neither_lose_nor_duplicate_rows(tmp_path, pg_url):
    from sqlalchemy import create_engine, text

    db = pg_url.rsplit("/", 1)[0] + "/concurrent"
    admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE DATABASE concurrent"))
    admin.dispose()

    config = make_course(tmp_path)
    right, wrong = [], [sim.replace_in("increment", "n + 1", "n")]
    students = {f"s{i:02d}": (wrong if i % 3 == 0 else right, "graded", 0) for i in range(6)}
    inbox = submit_class(tmp_path, students)
    assert main(["collect", str(inbox), "tiny", "--course", str(config)]) == 0
    names = sorted(set(students) | {"frank", "gina"})
    first, second = names[:5], names[3:]  # s03 and s04 graded by both runs
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    runs = [
        subprocess.Popen(
            _cli(config, "autograde", "tiny", "--db-url", db, "--jobs", "1")
            + [a for s in group for a in ("--student", s)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for group in (first, second)
    ]
    exports = 0
    while any(r.poll() is None for r in runs):  # export while both grade
        out = tmp_path / f"export{exports}.csv"
        done = subprocess.run(
            _cli(config, "export", "tiny", "--db-url", db, "--csv", str(out))[:-1],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        exports += 1
    for r in runs:
        out, err = r.communicate(timeout=60)
        assert r.returncode == 0, err
        assert "Error" not in err and "Traceback" not in err, err
    assert exports >= 1

    engine = create_engine(db.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        count = lambda sql: conn.execute(text(sql)).scalar()  # noqa: E731
        assert count("SELECT count(*) FROM student") == len(names)
        assert count("SELECT count(*) FROM submitted_assignment") == len(names)
        assert count("SELECT count(*) FROM assignment") == 1
        assert count("SELECT count(*) FROM notebook") == 1
        cells = count("SELECT count(*) FROM grade_cells")
        assert cells == 3  # the tiny master's graded test cells
        assert count("SELECT count(*) FROM grade") == len(names) * cells  # none lost or doubled
        doubled = (
            "SELECT count(*) FROM (SELECT notebook_id, cell_id FROM grade "
            "GROUP BY notebook_id, cell_id HAVING count(*) > 1) d"
        )
        assert count(doubled) == 0
    engine.dispose()
    table = _scores(db)
    for student in students:
        assert sum(v or 0 for v in table[student].values()) == (
            3.0 if student in {f"s{i:02d}" for i in range(0, 6, 3)} else 4.0
        ), (student, table[student])
