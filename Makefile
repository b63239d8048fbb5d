# The front door. `make run` and `make test` install what they need and build.
SWIFT_BUILD_FLAGS ?=
.DEFAULT_GOAL := help

.PHONY: help deps build release run campaign million restart-drill autopilot webhooks test check-deploy fuzz loadtest chaos bench migrate lint screenshots clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

deps: ## Install missing system packages (librdkafka-dev, kcat, libpq-dev, libcurl, PostgreSQL)
	@scripts/ensure-deps.sh

build: deps ## Debug build of every target
	swift build $(SWIFT_BUILD_FLAGS)

release: deps ## Release build of the API and Workers
	swift build -c release $(SWIFT_BUILD_FLAGS)

run: release ## Run the whole system locally (PostgreSQL, broker, API on :3000)
	@scripts/run.sh

campaign: ## Against a running `make run`: a whole campaign (CONTACTS=10000, RATE=200), checked in the provider's ledger
	@scripts/campaign.py --contacts $(or $(CONTACTS),10000) --rate $(or $(RATE),200)

million: ## Against a `PUBLIC_BASE_URL=http://127.0.0.1:9 make run`: one PhoneCallQueue of CONTACTS=1000000 calls at RATE=1500, each dialled once
	@scripts/million.py --contacts $(or $(CONTACTS),1000000) --rate $(or $(RATE),1500)

restart-drill: release ## Ctrl-C make run in the middle of a campaign and start it again: every queued call dialled once after the start
	@scripts/restart-drill.py

autopilot: ## Against a running `make run`: a callout (CONTACTS=20000, RATE=100) that dials itself, retries, pauses, resumes
	@scripts/autopilot.py --contacts $(or $(CONTACTS),20000) --rate $(or $(RATE),100)

webhooks: ## Against a running `make run`: signed, forged and inbound provider callbacks
	@scripts/webhooks.py

test: deps ## Run the test suites against a throwaway PostgreSQL
	@scripts/test.sh $(SWIFT_BUILD_FLAGS)

check-deploy: ## Check docker-compose.yml, deploy/k8s and the dashboards against their schemas and the code (part of `make test`)
	@"$$(scripts/python-venv.sh)" scripts/check-deploy.py

screenshots: deps ## The operator console's main pages at desktop and phone width, into docs/console/ (Chromium)
	@scripts/screenshots.sh

fuzz: deps ## schemathesis against the API and its OpenAPI document: no 5xx, nothing that contradicts it (CI runs it)
	@scripts/fuzz.sh

loadtest: deps ## HTTP throughput and latency under wrk: contacts index and create (targets in docs/benchmarks.md)
	@scripts/loadtest.sh

chaos: release ## A 100,000-call campaign through worker kills, a PostgreSQL crash and a frozen broker, checked call by call (docs/reliability.md)
	@python3 scripts/chaos.py

bench: deps ## Print performance figures (see docs/benchmarks.md)
	@scripts/bench.sh

migrate: release ## Apply pending migrations to DATABASE_URL
	.build/release/API migrate

lint: ## Check formatting with swift-format
	swift format lint --recursive --strict Sources Tests

clean: ## Remove build products (keeps .scfm data)
	rm -rf .build
