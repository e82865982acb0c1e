#!/usr/bin/env bash
# Conformance of dist/ecr-credential-provider with real components:
#   part 1  the kubelet's own credential provider package (k8s.io/kubernetes,
#           pinned in test/kubelet/go.mod) registers and runs the executable;
#   part 2  a real registry (Debian docker-registry) pulled from by skopeo
#           with the credentials the executable returned.
# Both parts are Go tests in test/kubelet (TestRegistryPull is part 2).
#
# Assumes `npm run build` ran. Installs docker-registry and skopeo with apt
# when missing; Go modules come through GOPROXY into the default module cache.
# Env: ECR_PROVIDER_BIN (executable under test, default dist/ecr-credential-provider),
#      CONFORMANCE_RUN (go test -run regexp), CONFORMANCE_VERBOSE=1 (kubelet logs).
# See docs/conformance.md.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/test/kubelet"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
say() { printf 'conformance: %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  say "go is not installed (needs Go >= $(sed -n 's/^go //p' go.mod))"
  echo "0 passed, 1 failed"
  exit 1
fi

bin="${ECR_PROVIDER_BIN:-$root/dist/ecr-credential-provider}"
if [ ! -x "$bin" ]; then
  say "$bin is missing or not executable: run 'npm run build' first"
  echo "0 passed, 1 failed"
  exit 1
fi
export ECR_PROVIDER_BIN="$bin"

unformatted=$(gofmt -l . 2>&1)
if [ -n "$unformatted" ]; then
  say "not gofmt-formatted (run gofmt -w on them): $unformatted"
  echo "0 passed, 1 failed"
  exit 1
fi

# The k8s.io/kubernetes compile is the long pole (minutes on a cold build
# cache): start it now, install the registry tools meanwhile. -mod=readonly:
# go.mod/go.sum are committed; nothing is tidied at run time.
say "compiling the kubelet harness (k8s.io/kubernetes $(awk '$1=="k8s.io/kubernetes"{print $2; exit}' go.mod))"
( go test -mod=readonly -c -o "$work/kubelet.test" . >"$work/build.log" 2>&1; echo $? >"$work/build.rc" ) &
build_pid=$!

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  ok=""
  for _ in 1 2 3 4 5 6; do # another apt may hold the dpkg lock
    if $sudo apt-get update -qq >"$work/apt.log" 2>&1 &&
       $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$work/apt.log" 2>&1; then
      ok=1; break
    fi
    sleep 10
  done
  if [ -z "$ok" ]; then
    cat "$work/apt.log" >&2
    say "could not install ${need[*]}"
  fi
fi

wait "$build_pid"
if [ "$(cat "$work/build.rc")" != 0 ]; then
  cat "$work/build.log" >&2
  say "harness build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
say "harness built after $(( $(date +%s) - t0 ))s"

args=(-test.v -test.count=1 -test.timeout=8m)
[ -n "${CONFORMANCE_RUN:-}" ] && args+=(-test.run "$CONFORMANCE_RUN")
[ -n "${CONFORMANCE_VERBOSE:-}" ] && export HARNESS_VERBOSE=1
"$work/kubelet.test" "${args[@]}" 2>&1 | tee "$work/test.log"
rc=${PIPESTATUS[0]}
# The systemd unit expander's own tests (a package of its own: the harness binary above does not hold them).
if [ -z "${CONFORMANCE_RUN:-}" ]; then
  go test -mod=readonly -count=1 -v ./systemdunit/ 2>&1 | tee -a "$work/test.log"
  unit_rc=${PIPESTATUS[0]}
  [ "$rc" != 0 ] || rc=$unit_rc
fi

passed=$(grep -cE '^\s*--- PASS' "$work/test.log")
failed=$(grep -cE '^\s*--- FAIL' "$work/test.log")
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi # crash/timeout without a FAIL line
say "executable under test: $bin; total $(( $(date +%s) - t0 ))s"
echo "$passed passed, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ]
