# qbcollect: `make demo` and `make test` are the quick start; both create .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
MANIFEST := dbt_project/target/manifest.json
export UV_COMPILE_BYTECODE := 1
export RUNTIME__DLTHUB_TELEMETRY := false
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := true

.PHONY: install demo test bench dev lint manifest lock clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit("qbcollect needs Python 3.11+") if sys.version_info < (3, 11) else None'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	touch $(STAMP)

# dagster-dbt reads the dbt manifest when definitions are imported.
manifest: $(STAMP)
	cd dbt_project && ../$(VENV)/bin/dbt parse --quiet

demo: manifest
	$(VENV)/bin/qbcollect demo

# Two workers (the machine's cores), a file per worker at a time: module fixtures (one sandbox
# per file) are built once. TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 2
test: manifest
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# BENCH_INVOICES=10000,100000,1000000 adds the million-invoice company (about an hour; not in CI).
BENCH_INVOICES ?= 10000,100000
bench: manifest
	$(PY) benchmarks/run.py
	$(PY) benchmarks/extraction.py --invoices $(BENCH_INVOICES)
	$(PY) benchmarks/sandbox_scale.py

# The venv's bin goes first on PATH: under `dagster dev`, dagster-dbt re-parses with `dbt` from PATH.
dev: manifest
	mkdir -p .dagster_home && cp deploy/dagster.yaml .dagster_home/dagster.yaml
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" DAGSTER_HOME=$(CURDIR)/.dagster_home $(VENV)/bin/dagster dev -w workspace.yaml

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs .dagster_home
