# Build, test and run the SP-API seller authorization functions.
# `sam build` calls the build-<LogicalId> targets with ARTIFACTS_DIR set; `make build` calls the
# same targets for every function, so what we test is what SAM packages.

SHELL := /bin/bash
GO ?= go
GOARCH_LAMBDA ?= arm64
BUILD_DIR ?= $(CURDIR)/.build
# An execution count, not a duration: a -fuzztime duration races the fuzzing coordinator's own deadline
# and fails with a bare "context deadline exceeded" on a loaded machine (golang/go#75804).
FUZZTIME ?= 200000x

# The flags of every Lambda binary: static, no RPC shim (provided.al2023 speaks the Runtime API),
# reproducible paths, no symbol tables.
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w'

.PHONY: help build test test-go lint fuzz tools measure sizes clean $(addprefix build-,AuthorizeFunction LoginFunction CallbackFunction ConnectApiFunction EventsFunction RefreshFunction RotateSecretFunction) bench-refresh dev e2e bench-coldstart test-under-load

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-22s %s\n", $$1, $$2}'

build-AuthorizeFunction: ## (sam build) the authorize function's bootstrap into ARTIFACTS_DIR
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/authorize
build-LoginFunction: ## (sam build) the login function's bootstrap into ARTIFACTS_DIR
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/login
build-CallbackFunction: ## (sam build) the callback function's bootstrap into ARTIFACTS_DIR
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/callback
build-ConnectApiFunction: ## (sam build) the connect-api function's bootstrap into ARTIFACTS_DIR
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/connectapi
build-EventsFunction: ## (sam build) the events function's bootstrap into ARTIFACTS_DIR
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/events
build-RefreshFunction: ## (sam build) the refresh function's bootstrap into ARTIFACTS_DIR
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/refresh
build-RotateSecretFunction: ## (sam build) the rotate-secret function's bootstrap into ARTIFACTS_DIR
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/rotatesecret
# Not a function: the hello-world baseline of bench-coldstart, with the same flags.
build-ColdstartHello:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./cmd/coldstart/hello

build: ## build every function as sam build does, into .build/<LogicalId>/bootstrap
	@for f in AuthorizeFunction LoginFunction CallbackFunction ConnectApiFunction EventsFunction RefreshFunction RotateSecretFunction; do \
		$(MAKE) --no-print-directory build-$$f ARTIFACTS_DIR=$(BUILD_DIR)/$$f || exit 1; \
	done

sizes: build ## print each bootstrap's size and architecture
	@for f in $(BUILD_DIR)/*/bootstrap; do \
		printf '%-22s %6d KiB  %s\n' "$$(basename $$(dirname $$f))" "$$(( $$(stat -c %s $$f) / 1024 ))" "$$(file -b $$f 2>/dev/null | cut -d, -f1-2)"; \
	done

tools: ## install what the tests need (moto_server, cfn-lint) when missing
	@./.ci/tools

test: tools lint test-go fuzz ## everything CI runs: lint, go vet, gofmt, go mod tidy, go test -race, short fuzzing
	@echo "make test: all passed"

lint: ## gofmt, go vet, deadcode, go mod tidy and cfn-lint leave nothing to change
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# A function nothing reaches from a main or a test is code to read and keep for nobody. The
	@# version is pinned and go run fetches it, so a clean machine needs nothing installed. An
	@# example without an Output comment is compiled, not run, and deadcode counts it unreachable:
	@# those are documentation (they need AWS), so they are let through.
	@out=$$(set -o pipefail; $(GO) run golang.org/x/tools/cmd/deadcode@v0.52.0 -test ./... | \
		{ grep -v '_test.go:[0-9:]*: unreachable func: Example' || true; }) || exit 1; \
		if [ -n "$$out" ]; then echo "deadcode: unreachable functions (delete them, or use them):"; echo "$$out"; exit 1; fi
	@cp go.mod /tmp/go.mod.bak && cp go.sum /tmp/go.sum.bak && $(GO) mod tidy && \
		if ! diff -q go.mod /tmp/go.mod.bak >/dev/null || ! diff -q go.sum /tmp/go.sum.bak >/dev/null; then \
			echo "go mod tidy changed go.mod/go.sum"; exit 1; fi
	cfn-lint template.yaml

test-go: ## go test -race ./... (starts its own moto_server)
	$(GO) test -race -count=1 ./...

# The packages whose tests run under a CPU hog in CI: the refresh job's deadlines, the
# secret's single-flight fetch and the LWA client's retries are where timing could creep in.
LOAD_PACKAGES ?= ./internal/refresh/ ./internal/flight/ ./internal/lwasecret/ ./tokens/ ./internal/lwa/
test-under-load: tools ## go test -race LOAD_PACKAGES while a busy loop holds every core: no test may depend on the machine's speed
	@set -euo pipefail; \
	$(GO) test -race -count=1 -run '^$$' $(LOAD_PACKAGES) >/dev/null; \
	hogs=(); \
	trap 'kill "$${hogs[@]}" 2>/dev/null || true' EXIT; \
	trap 'exit 130' INT TERM; \
	for _ in $$(seq "$$(nproc)"); do ( while :; do :; done ) & hogs+=($$!); done; \
	echo "test-under-load: $${#hogs[@]} busy loops hold the $$(nproc) cores"; \
	$(GO) test -race -count=1 $(LOAD_PACKAGES)

fuzz: ## run each fuzz target for FUZZTIME executions
	$(GO) test -run '^$$' -fuzz '^FuzzCallbackQuery$$' -fuzztime $(FUZZTIME) ./internal/httpapi/
	$(GO) test -run '^$$' -fuzz '^FuzzResolveCallbackURI$$' -fuzztime $(FUZZTIME) ./internal/amazon/
	$(GO) test -run '^$$' -fuzz '^FuzzReturnURLAllowed$$' -fuzztime $(FUZZTIME) ./internal/authflow/

measure: tools sizes ## AWS calls per request, events per authorization and per 1,000 refreshes, network calls during init, bootstrap sizes
	EVENTS_BUDGET_REFRESHES=1000 $(GO) test -count=1 -run '^TestCallBudget' -v ./internal/fn/ | grep -E '^(=== RUN|--- |    |ok|FAIL|PASS)'

BENCH_REFRESH_SIZES ?= 1000,10000,100000
bench-refresh: tools ## refresh run at N = BENCH_REFRESH_SIZES sellers (10% due): items read per due item, rate vs the ideal 160/s
	BENCH_REFRESH_SIZES=$(BENCH_REFRESH_SIZES) $(GO) test -count=1 -run '^$$' -bench '^BenchmarkRefresh' -benchtime 1x -timeout 60m ./internal/refresh/

dev: ## the whole system on loopback: sandbox Amazon, functions under the Lambda emulator, local API Gateway; its environment in .dev/env (VERBOSE=1: moto's request log too; Ctrl-C stops it)
	@if [ -z "$$AWS_ENDPOINT_URL" ]; then ./.ci/tools moto; fi
	@$(GO) build -o $(BUILD_DIR)/devstack ./cmd/devstack
	@$(BUILD_DIR)/devstack $(if $(VERBOSE),-verbose) $(DEV_FLAGS)

e2e: tools ## the end-to-end browser test alone (headless Chromium), without the stack's log lines; screenshots kept under .build/e2e
	@mkdir -p $(BUILD_DIR)/e2e
	set -o pipefail; $(GO) test -count=1 -run '^TestEndToEnd$$' -v -artifacts -outputdir $(BUILD_DIR)/e2e ./internal/devstack/ | grep -v 'e2e_test.go:27: '

BENCH_COLDSTART_RUNS ?= 61
bench-coldstart: ## median init duration of each function vs a hello-world Go Lambda under the Runtime Interface Emulator
	$(GO) run ./cmd/coldstart -runs $(BENCH_COLDSTART_RUNS)

clean: ## remove build output
	rm -rf $(BUILD_DIR) .aws-sam
