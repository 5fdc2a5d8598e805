"""The record every mutation corpus uses: one buggy variant and the label of its cause.

A corpus (`labs/lab1_variants.py`, `labs/lab2_variants.py`, `hw4_variants.py`) maps a variant
name to a `Bug`; `CAUSE_LABELS` is the one list of causes (issue 14) a good failure message
should name, so that messages can be measured against the same labels in every assignment.
"""

from typing import NamedTuple

CAUSE_LABELS = frozenset(
    {
        "sign",
        "factor-2",
        "factor-R",
        "transpose",
        "axis",
        "missing-term",
        "wrong-input",
        "mask",
        "shuffling",
        "broadcast",
        "alias",
        "integer-division",
        "dot-vs-elementwise",
        "test-set",
        "learning-rate-scale",
        "other",
    }
)


class Bug(NamedTuple):
    """A buggy variant: the test cell it must fail, its sources, and the label of its cause."""

    test: str
    replace: dict[str, str]
    cause: str
