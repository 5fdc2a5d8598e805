"""docs/development.md's code map is true to the code: every module listed, nothing stale."""

from __future__ import annotations

import code_map


def test_every_module_is_in_the_map_and_every_listed_module_exists():
    assert code_map.problems() == []


def test_the_map_lists_the_three_packages():
    text = code_map.GUIDE.read_text(encoding="utf-8")
    packages = {p.path for p in code_map.documented(text)}
    assert packages == {"helpers/nnhelpers", "autograder/nngrade", "autograder/demo"}


def test_a_missing_stale_or_miscounted_module_is_named(tmp_path):
    """The checker itself: a map with a module missing, one gone and a wrong count fails."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n" * 10)
    (package / "sub" / "b.py").write_text("y = 2\n" * 10)
    guide = tmp_path / "development.md"
    guide.write_text(
        f"# Guide\n\n{code_map.SECTION}\n\n### `pkg/`: 3 modules, 20 lines\n\n"
        "| module | its job |\n|---|---|\n| `a.py` | does a |\n| `gone.py` | did something |\n"
        "\n## Next section\n\n| `sub/b.py` | not in the map section |\n"
    )
    assert code_map.problems(tmp_path, guide) == [
        "pkg/sub/b.py is not in the map: add a row `| `sub/b.py` | its job |`",
        "pkg/gone.py is in the map but not in the code",
        "pkg/: the heading says 3 modules, there are 2",
    ]
    guide.write_text(
        f"{code_map.SECTION}\n\n### `pkg/`: 2 modules, 20 lines\n\n"
        "| `a.py` | does a |\n| `sub/b.py` | does b |\n"
    )
    assert code_map.problems(tmp_path, guide) == []
    (package / "a.py").write_text("x = 1\n" * 100)
    assert code_map.problems(tmp_path, guide) == ["pkg/: the heading says 20 lines, there are 110"]
