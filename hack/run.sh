#!/usr/bin/env bash
# make run: starts rudder's control plane and shows the real kubectl using it.
# The server keeps running until Ctrl-C (RUDDER_RUN_ONCE=1: stop after the demo).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${RUDDER_DATA_DIR:-/var/lib/rudder/server}
PORT=${RUDDER_PORT:-6443}
KUBECONFIG_OUT=${RUDDER_KUBECONFIG:-$DATA/admin.kubeconfig}
LOG=$DATA/server.log
mkdir -p "$DATA"

bin/rudder server --data-dir "$DATA" --secure-port "$PORT" --write-kubeconfig "$KUBECONFIG_OUT" >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
printf 'starting rudder server (pid %d, log %s) ' "$PID" "$LOG"
for i in $(seq 1 100); do
  if [[ -s $KUBECONFIG_OUT ]] && kubectl --kubeconfig "$KUBECONFIG_OUT" get --raw /readyz >/dev/null 2>&1; then break; fi
  kill -0 $PID 2>/dev/null || { echo; echo "server exited:"; tail -20 "$LOG"; exit 1; }
  printf '.'; sleep 0.2
done
echo " ready"
export KUBECONFIG=$KUBECONFIG_OUT
run() { echo; echo "\$ $*"; "$@"; }
run kubectl version
run kubectl get namespaces
run kubectl get services -A -o wide
run kubectl apply -f hack/demo.yaml
run kubectl get deployments,services,configmaps -n demo -o wide
run kubectl scale deployment web -n demo --replicas=3
run kubectl get deployment web -n demo -o jsonpath='{.spec.replicas}{"\n"}'
run kubectl api-resources
echo
echo "rudder server is running: export KUBECONFIG=$KUBECONFIG_OUT"
if [[ ${RUDDER_RUN_ONCE:-0} == 1 ]]; then exit 0; fi
echo "Ctrl-C stops it."
wait $PID
