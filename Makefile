# Autoencoders in Finance: set-up, tests and maintenance.
#   make lab        create .venv if missing, install, open JupyterLab on the course
#   make test       create .venv if missing, install, run unit tests + every notebook (nbval)
#   make exercises  regenerate exercises/ from solutions/
#   make outputs    re-execute every notebook in place, storing fresh outputs (maintainers)
#   make seeds      re-run every notebook under 20 other SEEDs; report in benchmarks/results/seed_sweep.md
#   make bench      benchmarks (not part of make test)
#   make site       build the course website (site/_build/html) from the stored notebooks; make site-serve
#   make release / autograde / feedback   the nbgrader classroom cycle (README: For instructors)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Two pytest workers, one torch thread each (see README: threads).
WORKERS ?= 2
NBVAL  := --nbval-lax --nbval-current-env --nbval-cell-timeout=300
NOTEBOOKS := $(wildcard notebooks/*.ipynb) $(wildcard solutions/*.ipynb)
# JupyterLab refuses to run as root (containers) unless told; extra flags via LAB_FLAGS=...
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

.PHONY: lab test lint unit notebooks exercises outputs seeds bench clean site site-serve release autograde feedback

$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements-lock.txt -e ".[dev,docs,instructor]"
	# MovieLens-100k for Chapter 3 ships inside the RecBole wheel; only the data file is used.
	$(BIN)/python -m pip install --quiet --no-deps recbole==1.2.1
	touch $(STAMP)

# Serve the repository root (not notebooks/) so exercises/ and solutions/ are reachable in the file browser.
lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS) --ServerApp.root_dir=. notebooks/00_getting_started.ipynb

test: lint
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(WORKERS) --dist loadscope $(NBVAL) tests $(NOTEBOOKS)

# Style is enforced, not hoped for: ruff lints and checks formatting (config in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check course_lib tests benchmarks
	$(BIN)/ruff format --check course_lib tests benchmarks

unit: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(WORKERS) tests

notebooks: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadscope $(NBVAL) $(NOTEBOOKS)

exercises: $(STAMP)
	$(BIN)/python -m course_lib.exercises

# No run timestamps (record_timing), then the metadata normaliser (kernelspec, leftover timestamps, widgets).
outputs: $(STAMP)
	TQDM_DISABLE=1 $(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 \
		--ExecutePreprocessor.record_timing=False $(NOTEBOOKS)
	$(BIN)/python -m course_lib._notebooks $(NOTEBOOKS)
	$(BIN)/python -m course_lib.exercises

# Every notebook under SEEDS (default 1-20), WORKERS runs at a time, one thread each; writes
# benchmarks/results/seed_sweep.md (per-assert pass counts, observed ranges next to the bounds).
# SWEEP=notebooks/03_multvae_recommendation.ipynb sweeps only the notebooks named.
SEEDS ?= 1-20
SWEEP ?=
seeds: $(STAMP)
	COURSE_NUM_THREADS=1 $(BIN)/python -m benchmarks.seed_sweep --seeds $(SEEDS) --workers $(WORKERS) $(SWEEP)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The website: stored outputs only (nothing is executed), warnings are errors, works offline.
SITE_OUT ?= site/_build/html
site: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html -c site . $(SITE_OUT)
	@echo "Open $(SITE_OUT)/index.html in a browser, or run: make site-serve"

site-serve: site
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(SITE_OUT) 8000

clean:
	rm -rf $(VENV) .pytest_cache site/_build

# Classroom (nbgrader, from the `instructor` extra): a course directory in $(COURSE), one assignment per chapter.
COURSE ?= classroom
NBGRADER := cd $(COURSE) && PATH="$(abspath $(BIN)):$$PATH" nbgrader

release: $(STAMP)
	$(BIN)/python -m course_lib.exercises --metadata
	for a in $$($(BIN)/python -m course_lib.exercises --course $(COURSE)); do ($(NBGRADER) generate_assignment $$a --force) || exit 1; done

autograde: $(STAMP)
	for d in $(COURSE)/submitted/*/*/; do a=$$(basename $$d); s=$$(basename $$(dirname $$d)); \
	  ($(NBGRADER) autograde $$a --student $$s --force) || exit 1; done

feedback: $(STAMP)
	for d in $(COURSE)/autograded/*/*/; do a=$$(basename $$d); s=$$(basename $$(dirname $$d)); \
	  ($(NBGRADER) generate_feedback $$a --student $$s --force) || exit 1; done
