.PHONY: dev test build vet

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
