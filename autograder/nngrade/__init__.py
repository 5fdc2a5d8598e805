"""nngrade: the instructor's grading command, built on nbgrader."""

import sys

__version__ = "0.1.0"

# Every process that imports nbformat imports jsonschema, which imports the optional
# `rfc3987-syntax` for its "iri" format check; that package builds its Lark grammars at import,
# about 2.3 s of CPU per process (python-jsonschema/jsonschema#1428). nngrade starts such
# processes by the dozen (grading workers, Dask tasks, feedback commands) and never checks IRIs:
# nbformat and nbgrader validate notebooks without format checks. Marking the module as absent
# makes jsonschema skip that one check, as it does where the package is not installed. A
# process that imported it already keeps it.
sys.modules.setdefault("rfc3987_syntax", None)
