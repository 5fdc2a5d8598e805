"""nngrade: the instructor's grading command, built on nbgrader."""

__version__ = "0.1.0"
