# rudder — see README.md. Every target works on a fresh Debian machine as root.
SHELL := /bin/bash
GO ?= go
BIN := bin
export GOFLAGS ?= -mod=mod
export PATH := /usr/local/go/bin:$(PATH)

# Debian packages the project needs (tests and the lab).
# nginx and busybox back the lab's default images of the same names.
# dnsperf drives the DNS benchmark, wrk the ingress benchmark (their smoke
# tests run in make test); curl is make run's ingress demo.
DEB_PACKAGES := ca-certificates iproute2 procps iptables nftables iperf3 util-linux nginx busybox dnsperf wrk curl

# Packages whose tests need no root and no kernel: run with -race.
PURE_PKGS := ./controlplane/catalog/... ./controlplane/registry/... ./ipam/... \
	./controlplane/apiserver/tables/... ./controlplane/apiserver/authn/... ./controlplane/pki/... \
	./controlplane/apiserver/objectstore/... ./cni/plugin/... ./cni/netd/... ./proxy/... \
	./controlplane/scheduler/... ./controlplane/controllers/... ./controlplane/kubelet \
	./controlplane/kubelet/podenv/... ./controlplane/kubelet/prober/... ./controlplane/kubelet/volumes/... \
	./controlplane/kubelet/server/crilog/... ./netexec/... ./bench/report/... ./bench/sysinfo/... ./bench/loadgen/... \
	./dns/plugin/... ./dns/kubernetes/... ./dns/autopath/... ./dns/cache/... ./dns/forward/... ./dns/hosts/... \
	./dns/server/... ./dns/metrics/... ./dns/log/... ./dns/stack/... ./dns/dnstest/... ./controlplane/apiserver/serviceaccount/... \
	./ingress/... ./bench/benchout/...

.PHONY: all build deps test unit race e2e lint run stop bench clean fmt

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/rudder ./cmd/rudder
	@if [ -d cmd/rudder-cni ]; then $(GO) build -o $(BIN)/rudder-cni ./cmd/rudder-cni; fi

deps:
	@hack/deps.sh $(DEB_PACKAGES)

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

# unit: every package's tests (storage conformance on bbolt and etcd included).
unit:
	$(GO) test -count=1 -timeout 15m $$($(GO) list ./... | grep -v /test/e2e)

race:
	$(GO) test -count=1 -race -timeout 10m $(PURE_PKGS)

# e2e: bin/rudder server driven by the real kubectl binaries and client-go.
e2e: build
	RUDDER_BIN=$(CURDIR)/$(BIN)/rudder $(GO) test -count=1 -timeout 15m -v ./test/e2e/... 2>&1 | tee /tmp/rudder-e2e.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)' ; exit $${PIPESTATUS[0]}

test: deps lint unit race e2e

run: deps build
	@hack/run.sh

stop: build
	bin/rudder lab down --dir $${RUDDER_LAB_DIR:-$(CURDIR)/rudder-lab}

bench: deps build
	@hack/bench.sh

clean:
	rm -rf $(BIN)
