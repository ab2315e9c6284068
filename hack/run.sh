#!/usr/bin/env bash
# make run: brings up a 3-node lab cluster (network namespaces on this
# machine) and shows it working: a netexec Deployment behind a Service,
# answered through the ClusterIP from a pod on another node.
# RUDDER_RUN_ONCE=1 takes the lab down again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${RUDDER_LAB_DIR:-$PWD/rudder-lab}
NODES=${RUDDER_LAB_NODES:-3}
if [[ -f $DIR/state.json ]]; then
  echo "a lab is already up in $DIR; taking it down first"
  bin/rudder lab down --dir "$DIR"
fi
bin/rudder lab up --nodes "$NODES" --dir "$DIR" ${RUDDER_LAB_ARGS:-}
export KUBECONFIG=$DIR/kubeconfig
if [[ ${RUDDER_RUN_ONCE:-0} == 1 ]]; then trap 'bin/rudder lab down --dir "$DIR" >/dev/null' EXIT; fi
run() { echo; echo "\$ $*"; "$@"; }
run kubectl get nodes -o wide
run kubectl -n kube-system rollout status deployment/rudder-dns --timeout=60s
run kubectl apply -f examples/netexec.yaml
run kubectl -n demo rollout status deployment/web --timeout=60s
run kubectl -n demo get pods -o wide
last=$(kubectl get nodes -o jsonpath='{.items[-1:].metadata.name}')
echo
echo "# a client pod on $last asks the Service web by name (the cluster DNS at"
echo "# 10.96.0.10 resolves it through the pod's search path to its ClusterIP) for"
echo "# the name of the pod that answers:"
run kubectl -n demo run client --image=busybox --restart=Never \
  --overrides="{\"apiVersion\":\"v1\",\"spec\":{\"nodeName\":\"$last\"}}" -- \
  sh -c 'for i in 1 2 3 4 5 6 7 8 9; do echo "request $i -> served by $(wget -q -O - http://web/hostname)"; done'
kubectl -n demo wait --for=jsonpath='{.status.phase}'=Succeeded pod/client --timeout=60s >/dev/null
run kubectl -n demo logs client
ip=$(kubectl get node "$last" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')
echo
echo "# the ingress controller (a DaemonSet on every node's port 80 and 443) routes"
echo "# the host name web.demo.example to the same pods:"
run kubectl -n rudder-ingress rollout status daemonset/rudder-ingress --timeout=60s
run kubectl apply -f examples/ingress.yaml
for i in $(seq 1 50); do
  [[ -n $(kubectl -n demo get ingress web -o jsonpath='{.status.loadBalancer.ingress[*].ip}') ]] && break
  sleep 0.2
done
run kubectl -n demo get ingress web
for i in 1 2 3; do
  run curl -sS --resolve "web.demo.example:80:$ip" http://web.demo.example/hostname; echo
done
cat <<MSG

The lab is running: export KUBECONFIG=$KUBECONFIG
Try next:
  kubectl get pods -A -o wide
  kubectl -n demo exec deploy/web -- $PWD/bin/rudder dig +search web      # the cluster DNS
  kubectl -n demo exec deploy/web -- hostname; kubectl -n demo logs deploy/web
  curl --resolve web.demo.example:80:$ip http://web.demo.example/hostname   # the ingress
  kubectl create deployment nginx --image=nginx && kubectl expose deployment nginx --port=80 --type=NodePort
  bin/rudder lab status --dir $DIR
  make stop          # removes every namespace, link, process and file of the lab
MSG
