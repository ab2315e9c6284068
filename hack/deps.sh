#!/usr/bin/env bash
# Installs the Debian packages given as arguments when they are missing.
# Idempotent: a second run installs nothing and touches no package state.
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then echo "deps: need root to install ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  # Packages with services (nginx) must not start them in the root
  # namespace: the lab runs them as pods. policy-rc.d 101 = "do not start".
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v go >/dev/null || [[ -x /usr/local/go/bin/go ]] || { echo "deps: Go is missing (expected /usr/local/go)" >&2; exit 1; }
go mod download
