"""nngrade's processes skip jsonschema's optional IRI grammar (2.3 s of CPU each), nothing else.

autograder/nngrade/__init__.py marks `rfc3987_syntax` absent: in a fresh process that imports
nngrade and then nbformat, the package must not be loaded, and notebook validation must still
reject an invalid notebook (nbformat's schema needs no format check).
"""

import subprocess
import sys
from pathlib import Path

MASTER = Path(__file__).resolve().parents[2] / "source" / "hw4_mlp" / "hw4_mlp.ipynb"

PROBE = f"""
import sys
import nngrade
import nbformat
nb = nbformat.read({str(MASTER)!r}, as_version=4)
nbformat.validate(nb)
del nb.cells[0]["source"]
try:
    nbformat.validate(nb)
except nbformat.ValidationError:
    print("invalid notebook rejected")
print("rfc3987_syntax loaded:", sys.modules.get("rfc3987_syntax") is not None)
"""


def test_nbformat_after_nngrade_skips_the_iri_grammar_and_still_validates():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "invalid notebook rejected" in done.stdout, done.stdout
    assert "rfc3987_syntax loaded: False" in done.stdout, done.stdout
