.PHONY: dev tour test build vet fuzz sweep faults faults-short model

# Run everything in one process: embedded Temporal + UI, worker, API, demo tenant.
# The binary runs itself rather than through `go run`, which exits 1 after a
# Ctrl-C even when the program it ran stopped cleanly.
dev: build
	./contractd dev

# Walk every example of the README's Endpoints section against a running
# `make dev` (TOUR_URL to point it elsewhere); see scripts/tour.sh.
tour:
	scripts/tour.sh

# The test command CI runs (.ci/run).
test:
	go test -race -timeout 45m ./...

build:
	go build -o contractd ./cmd/contractd

vet:
	gofmt -l . && go vet ./...

# Fuzz every surface's body through the router (real database and Temporal) and the
# approval-rule compiler, FUZZTIME each.
FUZZTIME ?= 10m
API_FUZZ = FuzzContractActionsBody FuzzSelfServiceBody FuzzCrossgradeBody FuzzTerminationPatchBody FuzzCatalogDocument FuzzDDCMSPathParams
# The input sweep in full: every hostile value in every input of every route (go test runs a short form).
sweep:
	INPUT_SWEEP=full go test ./api/ -count=1 -run '^TestInputSweep$$' -v

fuzz:
	@for f in $(API_FUZZ); do go test ./api/ -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; done
	go test ./internal/rules/ -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME)

# Fault injection with the real processes (kill -9, Postgres and Temporal
# outages); see faultinject/. faults-short is the form CI runs.
faults:
	go test -tags faultinject -count=1 -timeout 60m -v ./faultinject/

faults-short:
	go test -tags faultinject -count=1 -timeout 40m -short -v ./faultinject/

# The model-based test's long form: random operations from concurrent
# clients, then the invariant check (see modeltest/). `go test ./...` runs
# its short form. MODEL_SEED=0 picks a seed and prints it.
MODEL_OPS ?= 2000
MODEL_CLIENTS ?= 8
MODEL_SEED ?= 0
model:
	go test -count=1 -timeout 60m -run '^TestModel$$' -v ./modeltest/ -args -model.ops=$(MODEL_OPS) -model.clients=$(MODEL_CLIENTS) -model.seed=$(MODEL_SEED)
