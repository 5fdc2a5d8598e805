"""The README's student and instructor commands work as written on a fresh copy of the kit.

The README marks the commands a newcomer types: a fenced ```bash block right after an HTML
comment `<!-- readme-test: student -->` or `<!-- readme-test: instructor -->`. Each role's blocks
run, in order, as one bash script in a copy of the repository's files (what a clone would hold),
with a PATH holding no virtual environment: so a command that only works after activating the
venv fails here unless the README activates it first.

The copy is made by tests/support/kit_copy.py (its `.venv` links to this checkout's). Cheap
commands run for real (activation, copying files, `nngrade --help`, `nngrade check`,
`nngrade collect`). The others (servers, long jobs) are checked without running them: a `make`
target with `make -n`, an `nngrade` command by parsing its arguments with nngrade's own parser.
A command the test does not know how to check fails the test, so every new README command gets
a rule here.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import textwrap
from pathlib import Path

import pytest
from kit_copy import clean_env, kit_copy
from nngrade.grading.results import HIDDEN_NOT_RUN

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

MARKED_BLOCK = re.compile(
    r"<!--\s*readme-test:\s*(?P<role>\w+)\s*-->[ \t]*\n(?P<indent>[ \t]*)```bash[ \t]*\n"
    r"(?P<body>.*?)\n[ \t]*```",
    re.DOTALL,
)

# Commands run for real: cheap, and they only write inside the copy.
RUN = {".", "source", "cd", "mkdir", "cp", "ls"}
NNGRADE_RUN = {"--help", "-h", "check", "collect"}
# An nngrade command not run: nngrade must be on PATH and its own parser must accept the words.
PARSE = (
    "command -v nngrade >/dev/null || {{ echo 'nngrade: command not found' >&2; exit 127; }}; "
    "python -c 'import sys; from nngrade.cli import parser; parser().parse_args(sys.argv[1:])' "
    "{args}"
)


def readme_commands(text: str) -> dict[str, list[str]]:
    """Commands of each role's marked blocks, in order (continuation lines joined)."""
    commands: dict[str, list[str]] = {}
    for match in MARKED_BLOCK.finditer(text):
        body = textwrap.dedent(match["body"]).replace("\\\n", " ")
        for line in body.splitlines():
            if line.strip() and not line.strip().startswith("#"):
                commands.setdefault(match["role"], []).append(line.strip())
    return commands


def as_checked(command: str) -> str:
    """The shell line that checks `command`: itself, a dry run, or a parse of its arguments."""
    words = shlex.split(command, comments=True)
    if not words:
        return ":"
    if words[0] in RUN:
        return command
    if words[0] == "make":
        return shlex.join(["make", "-n", *words[1:]]) + " >/dev/null"
    if words[0] == "nngrade":
        if len(words) > 1 and words[1] in NNGRADE_RUN:
            return command
        return PARSE.format(args=shlex.join(words[1:]))
    raise AssertionError(
        f"the README gives the command {command!r}, and {Path(__file__).name} does not know "
        "how to check it: add a rule for it"
    )


def test_marked_blocks_are_found_and_every_command_has_a_rule():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert set(commands) == {"student", "instructor"}, f"marked blocks found: {sorted(commands)}"
    student = " ; ".join(commands["student"])
    assert "nngrade check" in student, "the student path must end with a check of their notebook"
    assert "nngrade --help" in " ; ".join(commands["instructor"])
    for role_commands in commands.values():
        for command in role_commands:
            as_checked(command)


def test_an_unknown_command_or_a_bad_flag_is_caught():
    with pytest.raises(AssertionError, match="does not know"):
        as_checked("rm -rf release")
    assert as_checked("make lab") == "make -n lab >/dev/null"
    assert "parse_args" in as_checked("nngrade autograde hw4_mlp --jobs 2")


@pytest.fixture
def kit():
    with kit_copy("readme") as (copy, home):
        yield copy, home


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "nngrade").exists(), reason="run `make venv`")
@pytest.mark.parametrize("role", ["student", "instructor"])
def test_readme_commands_work_verbatim(role, kit):
    kit, home = kit
    commands = readme_commands(README.read_text(encoding="utf-8"))[role]
    script = ["set -eo pipefail"]
    for command in commands:
        script += [f"echo {shlex.quote('$ ' + command)}", as_checked(command)]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=kit,
        env=clean_env(kit, home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the README's {role} commands failed:\n{output[-4000:]}"
    if role == "student":
        assert (kit / "mywork" / "hw4_mlp" / "hw4_mlp.ipynb").is_file()
        assert "hw4_mlp: graded" in output, output[-4000:]
        assert HIDDEN_NOT_RUN in output, output[-4000:]
    else:
        assert "usage: nngrade" in output
        submitted = kit / "autograder" / "course" / "submitted"
        assert len([p for p in submitted.iterdir() if (p / "hw4_mlp").is_dir()]) == 15, output
