"""Command-line entry point of `nngrade` (the commands arrive with the autograder issue)."""

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point; the sub-commands are implemented in later modules."""
    print("nngrade: no commands yet", file=sys.stderr)
    return 2
