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
# The gradebook: any SQLAlchemy URL nbgrader accepts, e.g. postgresql://user@host/nncourse
# (then `pip install psycopg2-binary`). SQLite beside this file by default (git-ignored).
c.CourseDirectory.db_url = f"sqlite:///{REPO_ROOT / 'autograder' / 'gradebook.db'}"
c.CourseDirectory.course_id = "nn-course"

# What nngrade writes at run time lives in autograder/course/ (git-ignored), nbgrader's layout.
c.CourseDirectory.submitted_directory = "autograder/course/submitted"
c.CourseDirectory.autograded_directory = "autograder/course/autograded"
c.CourseDirectory.feedback_directory = "autograder/course/feedback"

# nbgrader's exchange: `nngrade release` publishes each assignment there, students fetch and
# submit from JupyterLab's Assignment List, `nngrade collect ASSIGNMENT` takes the latest
# submission of each student and `nngrade feedback` hands the pages back. Local by default
# (git-ignored); on a shared server point it at a folder every student can reach, e.g.
# /srv/nbgrader/exchange. `make lab` writes mywork/nbgrader_config.py pointing students here.
c.Exchange.root = str(REPO_ROOT / "autograder" / "course" / "exchange")

# nngrade (autograder/nngrade): parallelism and executor; every value has a CLI flag.
c.NNGrade.jobs = 2  # worker processes (each grades one notebook at a time, one BLAS thread)
# Grading limits: the defaults are set once, in nngrade.grading.results.Limits (cell_timeout:
# seconds per cell, then the cell is interrupted and grading goes on; total_timeout: seconds per
# notebook; memory_mb: address-space limit of a grading kernel). Override one here, e.g.
# c.NNGrade.cell_timeout = 60, or with --cell-timeout / --total-timeout / --memory-mb.
c.NNGrade.executor = ""  # "" = "isolated" (sandbox) when available, else "inkernel"
c.NNGrade.reports_directory = str(REPO_ROOT / "autograder" / "course" / "reports")
