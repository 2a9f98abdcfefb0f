# augur's container image: a static binary, CA certificates and nothing else
# (no shell, no package manager), running as a non-root user and happy with a
# read-only root filesystem (it writes nothing; /tmp is a volume in the chart).
#
#   docker build -t augur --build-arg VERSION=v0.1.0 --build-arg COMMIT=$(git rev-parse HEAD) .
#
# `make image` builds the same layout offline with umoci from bin/augur
# (scripts/image.sh), with no base image to pull.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/augurproj/augur/internal/version.version=${VERSION} -X github.com/augurproj/augur/internal/version.commit=${COMMIT}" \
      -o /out/augur ./cmd/augur

FROM debian:bookworm-slim AS certs
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*

FROM scratch
ARG VERSION=""
ARG COMMIT=""
LABEL org.opencontainers.image.title="augur" \
      org.opencontainers.image.description="Stateless canary analysis engine (Flagger-compatible)" \
      org.opencontainers.image.source="https://github.com/augurproj/augur" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/augur /usr/local/bin/augur
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/augur"]
CMD ["serve", "--listen=:8080"]
