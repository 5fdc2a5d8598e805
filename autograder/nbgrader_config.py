"""nbgrader configuration of the course (read by `nbgrader` run from this folder, and by nngrade).

The course root is the repository: master copies in source/<assignment>/, student versions in
release/<assignment>/. The gradebook is a SQLite file written at run time and never committed.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

c.CourseDirectory.root = str(REPO_ROOT)
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.db_url = f"sqlite:///{REPO_ROOT / 'gradebook.db'}"
