"""The pinned requirements, the conda environment and the lock file must agree."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)")


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        m = PIN.match(line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _requirement_pins() -> dict[str, str]:
    lines: list[str] = []
    for name in ("course.txt", "book.txt", "dev.txt"):
        lines += (ROOT / "requirements" / name).read_text().splitlines()
    return _pins(lines)


def test_every_requirement_is_pinned_exactly():
    for name in ("course.txt", "book.txt", "dev.txt"):
        for line in (ROOT / "requirements" / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"requirements/{name}: '{line}' is not pinned with =="


def test_environment_yml_mirrors_requirements():
    env = _pins((ROOT / "environment.yml").read_text().splitlines())
    req = _requirement_pins()
    missing = {k: v for k, v in req.items() if k not in env}
    extra = {k: v for k, v in env.items() if k not in req}
    differ = {k: (req[k], env[k]) for k in req.keys() & env.keys() if req[k] != env[k]}
    assert not missing, f"environment.yml lacks: {missing}"
    assert not extra, f"environment.yml pins what requirements/ does not: {extra}"
    assert not differ, f"versions differ (requirements, environment.yml): {differ}"


def test_constraints_agree_with_direct_pins():
    lock = _pins((ROOT / "requirements" / "constraints.txt").read_text().splitlines())
    for name, version in _requirement_pins().items():
        assert lock.get(name) == version, (
            f"requirements pin {name}=={version} but constraints.txt has {lock.get(name)}"
        )
