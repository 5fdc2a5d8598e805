"""`nngrade release` ships the notebooks and the allow-listed files only, and refuses a file
beside a master that carries solutions or hidden tests (issue 13: a jupytext `hw4_mlp.py`
beside the master was released, hidden tests and all, and was readable in the sandbox)."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest
from nngrade import cli
from nngrade.commands.release import ReleaseError, shipped_files
from nngrade.sandbox.isolated import _seed_files

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial" / "fixture"))
from adv_master import TEST_DOUBLE, master  # noqa: E402

HIDDEN_LINE = "secret_probe = np.array([[3.0, 0.5], [-1.0, 7.0]])"


def _jupytext(nb) -> str:
    """The master as a jupytext py:percent pair (what `jupytext --to py:percent` writes)."""
    return "\n\n".join(f"# %%\n{cell.source}" for cell in nb.cells if cell.cell_type == "code")


# Each is a file planted beside the master; all of them must stop the release.
CARRIERS = {
    "adv.py": _jupytext(master()),  # markers and every hidden line
    "adv.md": "```python\n" + TEST_DOUBLE + "\n```\n",  # markers inside a markdown copy
    "hidden_inputs.py": f"import numpy as np\n{HIDDEN_LINE}\n",  # a hidden line, no marker
    "notes.txt": "remember: ### BEGIN SOLUTION goes before the answer\n",  # a bare marker
}


def _course(tmp_path: Path, extra: dict[str, str], allow: list[str] | None = None) -> Path:
    root = tmp_path / "course"
    (root / "source" / "adv").mkdir(parents=True)
    nbformat.write(master(), str(root / "source" / "adv" / "adv.ipynb"))
    for name, text in extra.items():
        path = root / "source" / "adv" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    config = root / "autograder"
    config.mkdir()
    lines = [
        "c = get_config()",
        f"c.CourseDirectory.root = {str(root)!r}",
        "c.CourseDirectory.course_id = 'adv-course'",
    ]
    if allow is not None:
        lines.append(f"c.NNGrade.release_files = {allow!r}")
    (config / "nbgrader_config.py").write_text("\n".join(lines) + "\n")
    return root


def _release(root: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(["release", "--course", str(root / "autograder"), "--no-exchange"])
    return status, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("name", sorted(CARRIERS))
def test_a_file_carrying_secrets_is_refused(tmp_path, name):
    root = _course(tmp_path, {name: CARRIERS[name], "data.csv": "x,y\n1,2\n"}, ["*"])
    with pytest.raises(ReleaseError, match=f"source/adv/{name}"):
        shipped_files(root / "source" / "adv", ["*"])
    # and the sandbox never sees it, even where no release ran
    seeded = _seed_files(
        root / "source" / "adv" / "adv.ipynb", root / "source" / "adv" / "adv.ipynb"
    )
    assert name not in seeded and "data.csv" in seeded


@pytest.mark.slow
def test_release_refuses_with_a_clear_message(tmp_path):
    root = _course(tmp_path, {"adv.py": CARRIERS["adv.py"]})
    status, text = _release(root)
    assert status != 0
    assert "source/adv/adv.py carries solutions or hidden tests" in text, text
    assert not (root / "release" / "adv").exists()


@pytest.mark.slow
def test_release_ships_notebooks_and_the_allow_list_only(tmp_path):
    files = {
        "data.csv": "x,y\n1,2\n",
        "data/extra.npy": "not really npy",
        "instructor_notes.txt": "grade gently",
        "scratch.py": "print('work in progress')\n",
    }
    root = _course(tmp_path, files, {"adv": ["data.csv", "data/*"]})
    status, text = _release(root)
    assert status == 0, text
    released = sorted(
        p.relative_to(root / "release" / "adv").as_posix()
        for p in (root / "release" / "adv").rglob("*")
        if p.is_file()
    )
    assert released == ["adv.ipynb", "data.csv", "data/extra.npy"]
    assert "instructor_notes.txt not released" in text
    nb = json.loads((root / "release" / "adv" / "adv.ipynb").read_text())
    assert HIDDEN_LINE not in json.dumps(nb)
