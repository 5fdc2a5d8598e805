"""`make dev-setup` makes nbdime git's diff and merge driver for notebooks, in that clone only.

Run in a fresh copy turned into its own repository, never in this checkout (its .git/config
may be shared with other worktrees): a change to a hidden test then diffs as a cell's source,
not as a line of escaped JSON.
"""

import re
import subprocess

import nbformat
import pytest
from kit_copy import ROOT, clean_env, kit_copy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (ROOT / ".venv" / "bin" / "nbdime").exists(), reason="run `make venv` (nbdime)"
    ),
]


def git(kit, *args, env):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=kit, env=env, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip


def test_dev_setup_makes_notebook_diffs_readable():
    with kit_copy("devsetup") as (kit, home):
        env = clean_env(kit, home)
        git(kit, "init", "-q", env=env)
        git(kit, "add", "-A", env=env)
        git(kit, "commit", "-q", "-m", "copy", env=env)
        master = kit / "source" / "lab1_perceptron_gd" / "lab1_perceptron_gd.ipynb"
        nb = nbformat.read(str(master), as_version=4)
        cell = next(c for c in nb.cells if "BEGIN HIDDEN TESTS" in c.source)
        cell.source = cell.source.replace(
            "BEGIN HIDDEN TESTS", "BEGIN HIDDEN TESTS\nassert 1 + 1 == 2"
        )
        nbformat.write(nb, str(master))

        plain = git(kit, "diff", env=env)
        assert '"assert 1 + 1 == 2\\n",' in plain  # JSON, before the set-up

        done = subprocess.run(
            ["make", "-o", ".venv/.installed", "dev-setup"],
            cwd=kit, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "git-nbmergedriver" in git(kit, "config", "merge.jupyternotebook.driver", env=env)
        readable = re.sub(r"\x1b\[[0-9;]*m", "", git(kit, "diff", env=env))
        assert "## modified /cells/" in readable, readable
        assert "+assert 1 + 1 == 2" in readable, readable
