"""nnhelpers: data, gradient checking, plots and widgets for the neural-network course.

This package is imported by the lecture and assignment notebooks. It never contains the
solution of anything a student is graded on (see tests/course/test_no_solutions_in_helpers.py).
"""

__version__ = "0.1.0"
