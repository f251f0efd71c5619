# syntax=docker/dockerfile:1

# The one contractd binary; its subcommand picks the role (api, worker,
# migrate, tenant). docker-compose.yml runs the production-like stack.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
# Modules first, so editing code does not refetch them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The caches keep modules and compiled packages across builds; the Temporal
# server packages take minutes to compile from nothing. No cgo: the binary is
# static and runs on any base.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/contractd ./cmd/contractd

# Alpine rather than distroless: compose health checks need busybox's wget.
FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
    && addgroup -S -g 10001 contractd \
    && adduser -S -D -H -u 10001 -G contractd contractd \
    && mkdir /state && chown 10001:10001 /state
COPY --from=build /out/contractd /usr/local/bin/contractd
# Numeric, so orchestrators can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["contractd"]
CMD ["api"]
