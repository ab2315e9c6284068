#!/usr/bin/env bash
# Regenerates zz_generated.openapi.go: the OpenAPI definitions of every Go
# type in the packages below, produced by kube-openapi's openapi-gen at the
# kube-openapi version the module requires (so the generated code matches the
# k8s.io/kube-openapi/pkg/common it is compiled against).
#
# Run from anywhere:  go generate ./controlplane/apiserver/openapi
# Needs: go, network access to the Go module proxy on first run (openapi-gen
# and its dependencies, k8s.io/gengo among them, go to the module cache).
set -euo pipefail

pkg_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${pkg_dir}"

version="$(go list -m -f '{{.Version}}' k8s.io/kube-openapi)"
packages=(
	k8s.io/api/core/v1
	k8s.io/api/apps/v1
	k8s.io/api/authentication/v1
	k8s.io/api/autoscaling/v1
	k8s.io/api/batch/v1
	k8s.io/api/coordination/v1
	k8s.io/api/discovery/v1
	k8s.io/api/events/v1
	k8s.io/api/networking/v1
	k8s.io/api/policy/v1
	k8s.io/api/rbac/v1
	k8s.io/api/scheduling/v1alpha3 # batch/v1 JobSpec refers to its types
	k8s.io/apimachinery/pkg/apis/meta/v1
	k8s.io/apimachinery/pkg/runtime
	k8s.io/apimachinery/pkg/util/intstr
	k8s.io/apimachinery/pkg/api/resource
	k8s.io/apimachinery/pkg/version
)

# API-rule violations of upstream types are upstream's business: the report
# goes to /dev/null (a named report file keeps openapi-gen from failing).
go run "k8s.io/kube-openapi/cmd/openapi-gen@${version}" \
	--go-header-file hack/boilerplate.go.txt \
	--output-dir . \
	--output-pkg "$(go list .)" \
	--output-file zz_generated.openapi.go \
	--report-filename /dev/null \
	"${packages[@]}"
