"""Generate the demo class of HW 4 submissions from the master copy (stored as fixtures).

Run `python autograder/demo/make_class.py` after the master changes; it rewrites
autograder/demo/hw4_mlp_class.zip, one folder per student (<student>/hw4_mlp.ipynb), the layout
`nngrade collect` reads. A zip, because some of these notebooks are broken on purpose and no
linter or notebook checker should trip over them. Each student is the reference answer with one
typical mistake planted, or a typical way of breaking a notebook.
"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import simulate as sim
from nngrade.grading.markers import clear_solution

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MASTER = ROOT / "source" / "hw4_mlp" / "hw4_mlp.ipynb"
OTHER = ROOT / "source" / "lab1_perceptron_gd" / "lab1_perceptron_gd.ipynb"
CLASS_ZIP = HERE / "hw4_mlp_class.zip"
NOTEBOOK = "hw4_mlp.ipynb"

# student id -> (what it shows, mutations)
STUDENTS = {
    "s01_reference": ("the reference solution: full marks", []),
    "s02_fc_no_bias": (
        "fc forgets the bias",
        [sim.replace_in("fc", "a = x @ w.T + b", "a = x @ w.T")],
    ),
    "s03_fc_backward_transposed": (
        "dl_dw transposed in fc_backward",
        [sim.replace_in("fc_backward", "dl_dw = dl_dy.T @ x", "dl_dw = (dl_dy.T @ x).T")],
    ),
    "s04_euclid_half_gradient": (
        "Euclidean loss gradient missing the factor 2",
        [sim.replace_in("loss_euclidean", "dl_dy = 2 * difference", "dl_dy = difference")],
    ),
    "s05_softmax_unstable": (
        "soft-max without the max shift (overflows on large logits)",
        [
            sim.replace_in(
                "loss_cross_entropy_softmax",
                "a = x - np.max(x, axis=1, keepdims=True)",
                "a = x",
            )
        ],
    ),
    "s06_relu_backward_sign": (
        "relu_backward multiplies by sign(x), flipping negatives",
        [sim.replace_in("relu_backward", "dl_da = dl_dy * (x > 0)", "dl_da = dl_dy * np.sign(x)")],
    ),
    "s07_no_shuffle": (
        "mini-batches not shuffled",
        [
            sim.replace_in(
                "get_mini_batch",
                "order = np.random.default_rng(rng).permutation(len(im_train))",
                "order = np.arange(len(im_train))",
            )
        ],
    ),
    "s08_deleted_test": (
        "deleted a test cell and has a bug in relu (test restored)",
        [
            sim.delete_cell("test_relu"),
            sim.replace_in("relu", "f = np.maximum(x, 0)", "f = np.abs(x)"),
        ],
    ),
    "s09_infinite_loop": (
        "a training loop that never ends (interrupted, rest graded)",
        [
            sim.append_code(
                "epoch = 0\nwhile epoch < 10:\n    pass  # forgot epoch += 1",
                after="loss_euclidean",
            )
        ],
    ),
    "s10_unanswered": ("submitted the release version untouched", []),
    "s11_tampered": (
        "duplicated and re-typed cells, edited points, weakened tests",
        [
            sim.duplicate_cell("fc"),
            sim.edit_points("test_fc", 500),
            sim.weaken_tests(),
            sim.change_type("relu", "markdown"),
        ],
    ),
    "s12_windows_1252": ("saved as Windows-1252, otherwise correct", []),
    "s13_broken_json": ("a truncated upload: invalid JSON", []),
    "s14_wrong_assignment": ("submitted lab 1 instead of HW 4", []),
    "s15_empty_file": ("an empty file", []),
}


def _unanswered(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = sim.build(master, [])
    original = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in master.cells}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = clear_solution(original[meta["grade_id"]])
    return nb


def write_class(target: Path) -> list[Path]:
    """Write every demo student's notebook under `target`; returns the paths."""
    master = nbformat.read(str(MASTER), as_version=4)
    written = []
    for student, (_, mutations) in STUDENTS.items():
        path = target / student / NOTEBOOK
        reference = sim.build(master, mutations)
        if student == "s10_unanswered":
            sim.write(_unanswered(master), path)
        elif student == "s12_windows_1252":
            sim.write_raw(sim.cp1252(reference), path)
        elif student == "s13_broken_json":
            sim.write_raw(sim.truncated(reference, 0.7), path)
        elif student == "s14_wrong_assignment":
            sim.write(sim.build(nbformat.read(str(OTHER), as_version=4), []), path)
        elif student == "s15_empty_file":
            sim.write_raw(b"", path)
        else:
            sim.write(reference, path)
        written.append(path)
    return written


def generate(target: Path = CLASS_ZIP) -> int:
    """Write the class as a reproducible zip (fixed timestamps, sorted); returns its size."""
    with tempfile.TemporaryDirectory() as scratch:
        paths = write_class(Path(scratch))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(paths):
                info = zipfile.ZipInfo(str(path.relative_to(scratch)), (2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return len(paths)


if __name__ == "__main__":
    count = generate(Path(sys.argv[1]) if len(sys.argv) > 1 else CLASS_ZIP)
    print(f"wrote {count} submissions to {CLASS_ZIP}")
