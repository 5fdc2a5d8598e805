"""Untrusted student code: the sandboxed process tree, its agent, the grader-side proxies and the
isolated executor that decides verdicts in the grader."""
