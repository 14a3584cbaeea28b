# The two commands (see README.md):
#   make run   — the demo shop with its worker at http://127.0.0.1:8000 (embedded PostgreSQL + Redis), stocked in the background
#   make test  — lint, then every test against real PostgreSQL/pgvector, Redis and a Celery worker
#   make deploy-check — the production topology on 127.0.0.1 (docs/DEPLOY.md): smoke flow and faults, one JSON line last
# .ci/run calls `make test`.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run first-page test check lint format browser web worker demo clean-var fuzz gpu-packs pseudo-labels deploy-check deploy-benchmark

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# Debian's Chromium for the one browser test (Playwright drives it; nothing is downloaded by Playwright).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) for the browser test."; exit 1; fi; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: $(STAMP) browser lint
	$(PY) -m pytest --create-db

# The quick loop: ruff, then mypy beside every test but the worker, browser, fuzz, load and deploy
# ones (two processes, one per core); it fails if either does.
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy > .mypy.out 2>&1 & mypy=$$!; \
	  $(PY) -m pytest -q -m "not (worker or browser or fuzz or load or deploy)"; tests=$$?; \
	  wait $$mypy; types=$$?; cat .mypy.out; rm -f .mypy.out; \
	  test $$tests -eq 0 -a $$types -eq 0

# The long schemathesis run (docs/SECURITY.md): FUZZ_EXAMPLES per operation and phase, FUZZ_SECONDS per run.
FUZZ_EXAMPLES ?= 1000
FUZZ_SECONDS ?= 1800
fuzz: $(STAMP)
	$(PY) -m tests.test_schema_fuzz $(FUZZ_EXAMPLES) $(FUZZ_SECONDS)

# The demo catalog without a worker: products, street outfits behind the pairings, indexing (idempotent).
demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py stock_demo --index here

web: $(STAMP)
	$(PY) manage.py runserver 127.0.0.1:8000

worker: $(STAMP)
	RECOMMENDER_TORCH_THREADS=1 $(VENV)/bin/celery -A config worker -B -l info -c 2

# Migrate, then the shop, its worker and the demo catalog's stocking (in the background, progress on
# the home page); Ctrl-C stops them all and the embedded PostgreSQL and Redis it started (config/run.py).
RUN_PORT ?= 8000
run: $(STAMP)
	$(PY) -m config.run --port $(RUN_PORT)

# A fresh clone's `make run` timed to its first page and to a stocked shop, then Ctrl-C and nothing left running.
first-page: $(STAMP)
	$(PY) -m deploy.first_page

# The production topology for real (docs/DEPLOY.md): PostgreSQL, Redis and SeaweedFS S3 over TCP with passwords,
# gunicorn, an indexing worker, a photo-search worker, celery beat; a smoke flow, then four faults. Last line: JSON.
deploy-check: $(STAMP)
	nice -n 10 $(PY) -m deploy.check

# Indexing throughput with 1 and 2 indexing workers, page throughput with gunicorn at 2 and 4 processes (docs/BENCHMARKS.md).
deploy-benchmark: $(STAMP)
	nice -n 10 $(PY) -m deploy.benchmark

# Training packs for the GPU runs (docs/models/GPU.md), git-ignored; the pseudo-labels of ccp-tagged go
# into the segmentation pack.
DATASETS ?= ../shared/datasets
PSEUDO := runs/pseudo/ccp-tagged.npz

$(PSEUDO): $(STAMP)
	$(PY) -m training.segmentation.pseudo_labels --tagged $(DATASETS)/ccp-tagged --out $(PSEUDO) \
	  --tta --size 384x256 --cache-scale 1 --threads 2 --no-progress

pseudo-labels: $(PSEUDO)

gpu-packs: $(PSEUDO)
	$(PY) -m training.gpu.packs --ccp $(DATASETS)/ccp --catalog $(DATASETS)/clothing-small \
	  --pseudo $(PSEUDO) --out gpu/packs --no-progress

clean-var:
	rm -rf var media staticfiles
