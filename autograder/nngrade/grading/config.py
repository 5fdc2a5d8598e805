"""Settings of a grading run: nbgrader_config.py (CourseDirectory.*, NNGrade.*) plus CLI flags.

Paths in the config are relative to CourseDirectory.root; what nngrade writes at run time
(submitted/, autograded/, feedback/, reports/, and nbgrader's exchange unless Exchange.root says
otherwise) defaults to `course/` beside the config file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from nngrade.grading.markers import DEFAULT, Markers
from nngrade.grading.results import Limits

PACKAGE_COURSE = Path(__file__).resolve().parents[2]  # autograder/ in the repository


@dataclass
class Settings:
    """Where everything lives and how to grade."""

    root: Path
    config_dir: Path
    source: Path
    release: Path
    submitted: Path
    autograded: Path
    feedback: Path
    reports: Path
    db_url: str
    exchange: Path = Path("/usr/local/share/nbgrader/exchange")  # nbgrader's Exchange.root
    course_id: str = "nn-course"
    jobs: int = 2
    executor: str = ""  # "" = the registry's default
    scheduler: str = ""  # a Dask scheduler's address (tcp://host:8786): grade on that cluster
    limits: Limits = field(default_factory=Limits)
    markers: Markers = DEFAULT  # solution / hidden-test delimiters (nbgrader's Clear* config)
    # Files released beside the notebooks: globs relative to source/<assignment>/, as a list
    # (every assignment) or {assignment: [globs]} (c.NNGrade.release_files); nothing else is.
    release_files: list[str] | dict[str, list[str]] = field(default_factory=list)

    def masters(self, assignment: str) -> list[Path]:
        """Master notebooks of an assignment (source/<a>/*.ipynb)."""
        return sorted(p for p in (self.source / assignment).glob("*.ipynb"))

    def released(self, assignment: str) -> list[Path]:
        """Student versions of an assignment (release/<a>/*.ipynb)."""
        return sorted(p for p in (self.release / assignment).glob("*.ipynb"))

    def submitted_students(self, assignment: str) -> list[str]:
        """Students with a submitted/<student>/<assignment>/ folder."""
        if not self.submitted.is_dir():
            return []
        return sorted(p.name for p in self.submitted.iterdir() if (p / assignment).is_dir())


def normalize_url(db_url: str) -> str:
    """`postgresql://...` means the psycopg (3) driver, the one pinned in requirements.

    SQLAlchemy's default PostgreSQL driver is psycopg2, which the kit does not install; an
    explicit driver (`postgresql+psycopg2://`) is left as given.
    """
    for prefix in ("postgresql://", "postgres://"):
        if db_url.startswith(prefix):
            return "postgresql+psycopg://" + db_url.removeprefix(prefix)
    return db_url


def _load(path: Path):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(path.name, str(path.parent)).load_config()


def _release_files(value) -> list[str] | dict[str, list[str]]:
    """c.NNGrade.release_files as given: a list of globs, or {assignment: [globs]}."""
    if isinstance(value, str):
        return [value]
    if hasattr(value, "items"):
        return {
            str(k): [str(p) for p in ([v] if isinstance(v, str) else v)] for k, v in value.items()
        }
    return [str(p) for p in value]


def load(course: Path | None = None, **overrides) -> Settings:
    """Read `<course>/nbgrader_config.py` (default: the repository's autograder/) + overrides."""
    course = Path(course or os.environ.get("NNGRADE_COURSE") or PACKAGE_COURSE).resolve()
    config_file = course / "nbgrader_config.py"
    cfg = _load(config_file) if config_file.is_file() else None
    cd = cfg.CourseDirectory if cfg is not None and "CourseDirectory" in cfg else {}
    ng = cfg.NNGrade if cfg is not None and "NNGrade" in cfg else {}
    ex = cfg.Exchange if cfg is not None and "Exchange" in cfg else {}
    root = Path(cd.get("root", course.parent)).resolve()
    run_dir = Path(ng.get("run_directory", course / "course"))
    run_dir = run_dir if run_dir.is_absolute() else root / run_dir

    def place(key: str, default: Path) -> Path:
        value = cd.get(key)
        if value is None:
            return default
        return Path(value) if Path(value).is_absolute() else root / value

    limits = Limits.from_config(ng)
    settings = Settings(
        root=root,
        config_dir=course,
        source=place("source_directory", root / "source"),
        release=place("release_directory", root / "release"),
        submitted=place("submitted_directory", run_dir / "submitted"),
        autograded=place("autograded_directory", run_dir / "autograded"),
        feedback=place("feedback_directory", run_dir / "feedback"),
        reports=Path(ng.get("reports_directory", run_dir / "reports")),
        db_url=normalize_url(str(cd.get("db_url") or f"sqlite:///{course / 'gradebook.db'}")),
        exchange=root / ex["root"] if ex.get("root") else run_dir / "exchange",
        course_id=str(cd.get("course_id") or ng.get("course_id") or "nn-course"),
        jobs=int(ng.get("jobs", 2)),
        executor=str(ng.get("executor", "")),
        scheduler=str(ng.get("scheduler", "")),
        limits=limits,
        markers=Markers.from_config(cfg),
        release_files=_release_files(ng.get("release_files", [])),
    )
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "db_url":
            value = normalize_url(str(value))
        if key in Limits.CONFIGURABLE:
            setattr(settings.limits, key, type(getattr(settings.limits, key))(value))
        else:
            setattr(settings, key, value)
    return settings
