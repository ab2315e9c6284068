#!/usr/bin/env bash
# make bench: runs `rudder bench` (every packet path against the raw veth
# limit, with charts), then the component benchmarks of the other issues
# (storage, apiserver, scheduler, CNI, proxy backends in process, DNS,
# ingress), and gathers everything into bench/results/<date>/REPORT.md,
# with results.json and the raw `go test -bench` output next to it. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BENCH_OUT:-bench/results/$(date +%Y-%m-%d)}
mkdir -p "$OUT"
RAW=$OUT/go-bench.txt
: >"$RAW"
bin/rudder bench --out "$OUT" ${BENCH_ARGS:-}
step() { printf '\r\033[K[bench] %s' "$*"; }
step "storage: creates/s with 8 writers (bbolt, etcd)"
go test -run '^$' -bench 'CreateParallel' -benchtime 10000x ./controlplane/storage/... >>"$RAW" 2>&1
step "apiserver: 10,000 pods from client-go, 8 workers (bbolt, etcd)"
RUDDER_BIN=$PWD/bin/rudder go test -run '^$' -bench 'PodCreates' -benchtime 1x -timeout 30m ./bench/apiserver/ >>"$RAW" 2>&1
step "scheduler: 5,000 nodes, 10,000 pending pods against the real apiserver code"
go test -run '^$' -bench 'ScheduleAPIServer' -benchtime 1x -timeout 20m ./controlplane/scheduler/ 2>/dev/null | grep -E '^(Benchmark|pkg:|ok|FAIL)' >>"$RAW"
step "CNI: ADD and DEL latency through libcni (300 pods)"
go test -run '^$' -bench 'AddDel' -benchtime 300x ./cni/plugin/ >>"$RAW" 2>&1
step "service proxy: sync times at 10/1k/10k services, CRR through a ClusterIP, ClusterIP stream vs direct"
go test -run '^$' -bench . -benchtime 1x -timeout 20m ./bench/proxypath/ 2>/dev/null | grep -E '^(Benchmark|pkg:|ok|FAIL)' >>"$RAW"
step "DNS: rudder dns against CoreDNS 1.14 (built into the cache on first use), 10,000 services, dnsperf"
printf '\n'
# bench-dns prints its own [dns] progress lines; a failure leaves a note in
# the report instead of stopping the other sections.
DNS_OK=1
rm -f "$OUT/DNS.md"
bin/rudder bench-dns --out "$OUT" ${BENCH_DNS_ARGS:-} >>"$RAW" || DNS_OK=0
printf '\r\033[K'
step "ingress: rudder ingress against nginx and the direct path, wrk, 1 KiB responses"
printf '\n'
# bench-ingress prints its own [ingress] progress lines; a failure leaves a
# note in the report instead of stopping the other sections.
INGRESS_OK=1
rm -f "$OUT/INGRESS.md"
bin/rudder bench-ingress --out "$OUT" ${BENCH_INGRESS_ARGS:-} >>"$RAW" || INGRESS_OK=0
printf '\r\033[K'
{
  echo
  echo "# Component benchmarks"
  echo
  echo "Run by \`make bench\` after \`rudder bench\`, $(date -u +%Y-%m-%dT%H:%MZ), same machine."
  echo
  echo "## API server (bin/rudder server as a process, client-go, 8 workers, 10,000 pods)"
  echo
  echo "| backend | creates/s | watch p50 ms | watch p99 ms | server RSS MiB |"
  echo "| --- | --- | --- | --- | --- |"
  grep -E '^BenchmarkPodCreates/' "$RAW" | while read -r name _ rest; do
    be=${name#BenchmarkPodCreates/}; be=${be%%-*}
    get() { echo "$rest" | grep -oE "[0-9.]+ $1" | cut -d' ' -f1; }
    echo "| $be | $(get creates/s) | $(get watch-p50-ms) | $(get watch-p99-ms) | $(get rss-MiB) |"
  done
  echo
  echo "Watch latency is measured from the client sending the create to the ADDED event arriving at a watcher of all pods."
  echo
  metric() { echo "$line" | grep -oE "[0-9.]+ $1" | cut -d' ' -f1; }
  line=$(grep -E '^BenchmarkScheduleAPIServer' "$RAW" || true)
  echo "## Scheduler (5,000 nodes, 10,000 pending pods, in process against the real apiserver code over HTTP)"
  echo
  echo "$(metric pods/s) pods/s (aim ≥ 1,000)."
  echo
  echo "## CNI plugin (ADD then DEL through libcni in a node namespace)"
  echo
  line=$(grep -E '^BenchmarkAddDel' "$RAW" || true)
  echo "| | p50 ms | p99 ms |"
  echo "| --- | --- | --- |"
  echo "| ADD | $(metric add-p50-ms) | $(metric add-p99-ms) |"
  echo "| DEL | $(metric del-p50-ms) | $(metric del-p99-ms) |"
  echo
  echo "## Service proxy backends (one node namespace; the measured service sorts last)"
  echo
  line=$(grep -E '^BenchmarkBackends' "$RAW" || true)
  echo "| backend | full 10 | full 1k | full 10k | one change at 10k | CRR p50 at 10 | CRR p50 at 10k | CRR 10k/10 |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  for be in nftables iptables-legacy iptables-nft; do
    echo "| $be | $(metric $be-10-full-ms) ms | $(metric $be-1000-full-ms) ms | $(metric $be-10000-full-ms) ms | $(metric $be-10000-change-ms) ms | $(metric $be-10-crr-p50-ms) ms | $(metric $be-10000-crr-p50-ms) ms | $(metric "$be-crr-ratio-10k/10") |"
  done
  line=$(grep -E '^BenchmarkClusterIPStream' "$RAW" || true)
  echo
  echo "ClusterIP stream (nftables): $(metric clusterip-Gbit/s) Gbit/s against $(metric direct-Gbit/s) direct to the pod: ratio $(metric clusterip-ratio)."
  echo
  echo "## Storage alone (8 concurrent writers, fsync on)"
  echo
  echo "| store | creates/s |"
  echo "| --- | --- |"
  awk '/^pkg:/ {pkg=$2} /^BenchmarkCreateParallel/ {for (i=1;i<=NF;i++) if ($(i+1)=="creates/s") print "| " pkg " | " $i " |"}' "$RAW"
  echo
  if [ "$DNS_OK" = 1 ] && [ -f "$OUT/DNS.md" ]; then
    cat "$OUT/DNS.md"
  else
    echo "## Cluster DNS"
    echo
    echo "\`rudder bench-dns\` failed; see its output above and $OUT/dns/ for the server logs."
  fi
  echo
  if [ "$INGRESS_OK" = 1 ] && [ -f "$OUT/INGRESS.md" ]; then
    cat "$OUT/INGRESS.md"
  else
    echo "## Ingress"
    echo
    echo "\`rudder bench-ingress\` failed; see its output above and $OUT/ingress/ for the logs."
  fi
} >>"$OUT/REPORT.md"
printf '\r\033[K'
echo "report: $OUT/REPORT.md"
