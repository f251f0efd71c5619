.PHONY: dev test build vet fuzz

# Run everything in one process: embedded Temporal + UI, worker, API, demo tenant.
dev:
	go run ./cmd/contractd dev

# The test command CI runs (.ci/run).
test:
	go test -race ./...

build:
	go build -o contractd ./cmd/contractd

vet:
	gofmt -l . && go vet ./...

# Fuzz every request decoder and the approval-rule compiler, FUZZTIME each.
FUZZTIME ?= 10m
API_FUZZ = FuzzContractActionsBody FuzzSelfServiceBody FuzzCrossgradeBody FuzzTerminationPatchBody FuzzCatalogDocument FuzzDDCMSPathParams
fuzz:
	@for f in $(API_FUZZ); do go test ./api/ -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; done
	go test ./internal/rules/ -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME)
