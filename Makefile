# LinkFM: the two set-up commands are `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -q --disable-pip-version-check
# Debian packages the tests and the demo use (real servers on loopback, headless browser).
DEB_PACKAGES ?= victoria-metrics chromium
PYTEST_ARGS ?=
STAMP := $(VENV)/.install-stamp

.PHONY: test demo install deb schemas lint typecheck bench clean checkpoint

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/linkfm demo

install: deb $(STAMP)

# Re-installs only when the project's dependency files change (idempotent).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -c constraints.txt torch==2.13.0
	$(PIP) install -c constraints.txt -e '.[dev,sim,ric]'
	@# ricxappframe 3.2.2 pins protobuf<3.21 (unused by the parts we import): no deps.
	$(PIP) install --no-deps ricxappframe==3.2.2
	@touch $(STAMP)

deb:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "missing Debian packages; run as root: apt-get update && apt-get install -y$$missing"; \
	  if [ "$$CI" = true ]; then exit 1; fi; \
	fi

# Regenerate the protobuf/gRPC Python and the compiled KPM ASN.1 module from schemas/.
schemas: install
	$(PY) -m schemas.build

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy xapp model e2sim bench

# Retrain the shipped checkpoint from scratch (datasets, pretraining, fine-tuning, the
# from-scratch and few-shot comparisons, evaluation). About 75 min on 2 dedicated cores;
# see README "The model". Outputs under $(WORK); the result is copied to $(CKPT_DEST).
WORK ?= runs/checkpoint
CKPT_DEST ?= model/checkpoints/linkfm-v1
PRETRAIN_STEPS ?= 1500
FINETUNE_STEPS ?= 1200
FEWSHOT_STEPS ?= 300
LINKFM := $(VENV)/bin/linkfm
DATASET := --ues 16 --reports 80 --window 8 --stride 2 --channel-estimate --workers 2 --quiet
FINETUNE := --mode full --horizons 5,10,20 --batch 256 --lr 2e-3 --threads 1 --seed 0
checkpoint: install
	$(LINKFM) dataset --out $(WORK)/data/train --shards 140 --seed 1000 $(DATASET)
	$(LINKFM) dataset --out $(WORK)/data/test --shards 28 --seed 5000 $(DATASET)
	$(LINKFM) dataset --out $(WORK)/data/ood --families held-out --shards 12 --seed 7000 $(DATASET)
	$(LINKFM) train pretrain --data $(WORK)/data/train --out $(WORK)/pretrain \
	  --steps $(PRETRAIN_STEPS) --batch 256 --lr 2e-3 --threads 1 --seed 0
	$(LINKFM) train finetune --init $(WORK)/pretrain --data $(WORK)/data/train \
	  --out $(WORK)/finetune-100 --label-fraction 1.0 --steps $(FINETUNE_STEPS) $(FINETUNE)
	$(LINKFM) train finetune --scratch --data $(WORK)/data/train \
	  --out $(WORK)/scratch-100 --label-fraction 1.0 --steps $(FINETUNE_STEPS) $(FINETUNE)
	for f in 0.1 0.05 0.01; do \
	  $(LINKFM) train finetune --init $(WORK)/pretrain --data $(WORK)/data/train \
	    --out $(WORK)/finetune-$$f --label-fraction $$f --steps $(FEWSHOT_STEPS) $(FINETUNE) && \
	  $(LINKFM) train finetune --scratch --data $(WORK)/data/train \
	    --out $(WORK)/scratch-$$f --label-fraction $$f --steps $(FEWSHOT_STEPS) $(FINETUNE) || exit 1; \
	done
	$(LINKFM) evaluate --checkpoint $(WORK)/finetune-100 --scratch $(WORK)/scratch-100 --fit-snr $(WORK)/data/train \
	  --fewshot 1=$(WORK)/finetune-0.01,5=$(WORK)/finetune-0.05,10=$(WORK)/finetune-0.1,100=$(WORK)/finetune-100 \
	  --fewshot-scratch 1=$(WORK)/scratch-0.01,5=$(WORK)/scratch-0.05,10=$(WORK)/scratch-0.1,100=$(WORK)/scratch-100 \
	  --data $(WORK)/data/test --ood $(WORK)/data/ood --out $(WORK)/eval
	$(PY) -m model.ship --checkpoint $(WORK)/finetune-100 --eval $(WORK)/eval --out $(CKPT_DEST)
	mkdir -p $(CKPT_DEST)/logs && cp $(WORK)/pretrain/log.jsonl $(CKPT_DEST)/logs/pretrain.jsonl \
	  && cp $(WORK)/finetune-100/log.jsonl $(CKPT_DEST)/logs/finetune.jsonl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis runs
