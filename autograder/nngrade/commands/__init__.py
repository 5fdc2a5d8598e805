"""One module per `nngrade` verb: release, collect, autograde, feedback, export, report, check."""
