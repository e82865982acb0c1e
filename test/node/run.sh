#!/usr/bin/env bash
# npm run test:node: a real node. A real kubelet (k8s.io/kubernetes, the version test/kubelet pins)
# runs dist/ecr-credential-provider for static pods' images and hands the credentials over CRI to
# a real containerd (Debian 12's 1.6 and v2.x built from the module proxy), which pulls from real
# registries (Debian's docker-registry, TLS from a test CA, htpasswd user AWS with the password the
# fake AWS issues) and runs the containers. See docs/conformance.md ("A real node").
#
# Everything runs inside `unshare --mount --net --pid`: a private loopback (registries on
# 127.0.0.x:443 under ECR host names from a private /etc/hosts), overlays over /etc /usr /var /run
# /opt so whatever the kubelet or containerd write lands in the scratch directory, files over the
# /proc/sys entries the kubelet rewrites, a PATH without /usr/sbin (no iptables). When the
# namespace's first process exits the kernel kills every process left in it. Afterwards this script
# removes the kubelet's cgroups and checks that the host is as it found it.
#
# Builds (kubelet, containerd v2, pause, test/kubelet's unit-argv) are cached in $ECR_NODE_CACHE (default
# /var/cache/ecr-credential-provider-ci, or ~/.cache/ecr-credential-provider-ci without root),
# which survives fresh clones; .cache/node links to it. Cold: ~4-6 min (the kubelet); warm: seconds.
#
# Env: ECR_PROVIDER_BIN (executable under test, default dist/ecr-credential-provider),
#      ECR_NODE_CACHE (build cache), NODE_TEST_ONLY=regexp (scenario names, node --test-name-pattern),
#      NODE_TEST_KEEP=1 (keep the scratch directory for a post-mortem; the host check still runs).
# Skips (exit 0, "SKIP: reason") without root, unshare or cgroup v1 controllers.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
t0=$(date +%s)
say() { printf 'node-test: %s\n' "$*" >&2; }
skip() { say "SKIP: $*"; echo "0 passed, 0 failed (skipped: $*)"; exit 0; }
fail() { say "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

K8S_VERSION=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' test/kubelet/go.mod)
CONTAINERD_V2=v2.4.2
PAUSE_TAG=3.10.2 # kubeadm's constants.PauseVersion in the pinned release

# --- can this machine run a node? -------------------------------------------------------------
[ "$(uname -s)" = Linux ] || skip "needs Linux"
[ "$(id -u)" = 0 ] || skip "needs root (a kubelet, containerd and mount/net/pid namespaces)"
command -v unshare >/dev/null 2>&1 || skip "unshare (util-linux) is not installed"
unshare --mount --net --pid --fork true 2>/dev/null || skip "cannot create mount+net+pid namespaces here (unshare failed)"
[ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/cpu ] && [ -d /sys/fs/cgroup/pids ] ||
  skip "needs cgroup v1 controllers at /sys/fs/cgroup/{cpu,memory,pids} (this harness configures the kubelet for cgroup v1 + cgroupfs)"
command -v go >/dev/null 2>&1 || fail "go is not installed (needs Go >= $(sed -n 's/^go //p' test/kubelet/go.mod))"

# --- Debian packages --------------------------------------------------------------------------
pkgs=(containerd runc docker-registry skopeo apache2-utils busybox-static openssl curl gcc libc6-dev iproute2 util-linux mount tar gzip)
missing=()
for p in "${pkgs[@]}"; do
  [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" == ii* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null &&
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    fail "apt-get install ${missing[*]} failed"
fi

# --- builds, cached across clones -------------------------------------------------------------
if [ -z "${ECR_NODE_CACHE:-}" ]; then
  ECR_NODE_CACHE=$(bash scripts/ci-cache-dir.sh)
fi
mkdir -p "$ECR_NODE_CACHE" .cache
ln -sfn "$ECR_NODE_CACHE" .cache/node
modsum=$(cat test/kubelet/go.mod test/kubelet/go.sum | sha256sum | cut -c1-12)
KUBELET="$ECR_NODE_CACHE/kubelet-$K8S_VERSION-$modsum/kubelet"
CTD2="$ECR_NODE_CACHE/containerd-$CONTAINERD_V2/bin"
# test/kubelet's unit-argv (systemd's argv for a unit under a root), keyed by its sources.
unitsum=$(cat test/kubelet/go.mod test/kubelet/go.sum test/kubelet/cmd/unit-argv/*.go test/kubelet/systemdunit/*.go | sha256sum | cut -c1-12)
UNIT_ARGV="$ECR_NODE_CACHE/unit-argv-$unitsum/unit-argv"
pause_src="$(go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/build/pause/linux/pause.c"

# build NAME DEST_DIR FUNCTION: unless DEST_DIR exists, FUNCTION OUT builds into OUT, renamed to DEST_DIR.
build() {
  local name=$1 dest=$2 fn=$3
  [ -d "$dest" ] && return 0
  local out="$dest.tmp.$$" b0
  b0=$(date +%s)
  rm -rf "$out" && mkdir -p "$out"
  if ! ("$fn" "$out") >"$out.log" 2>&1; then
    cat "$out.log" >&2
    rm -rf "$out" "$out.log"
    return 1
  fi
  rm -f "$out.log"
  mv -T "$out" "$dest" 2>/dev/null || rm -rf "$out" # another run won the race: keep theirs
  say "built $name in $(($(date +%s) - b0))s -> $dest"
}
# The module's own cmd/kubelet (test/kubelet/go.mod lists it as a tool, so go.sum covers it).
build_kubelet() { cd test/kubelet && CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$1/kubelet" k8s.io/kubernetes/cmd/kubelet; }
build_containerd() {
  GOBIN="$1/bin" GOFLAGS=-buildvcs=false go install -tags "no_btrfs no_devmapper no_zfs" \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_V2" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_V2" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_V2"
}
build_unit_argv() { cd test/kubelet && CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$1/unit-argv" ./cmd/unit-argv; }
build_pause() {
  # The kubernetes module's own pause.c, built the way build/pause/Makefile does (static).
  [ -f "$pause_src" ] || (cd test/kubelet && go mod download k8s.io/kubernetes) || return 1
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG" -o "$1/pause" "$pause_src"
}

exec 9>"$ECR_NODE_CACHE/node-build.lock"
flock 9 # one builder per machine; other runs wait and then find the result
say "builds: kubelet $K8S_VERSION, containerd $CONTAINERD_V2, pause $PAUSE_TAG, unit-argv (cache $ECR_NODE_CACHE)"
build kubelet "$(dirname "$KUBELET")" build_kubelet & kb=$!
build "containerd $CONTAINERD_V2" "$(dirname "$CTD2")" build_containerd & cb=$!
build pause "$ECR_NODE_CACHE/pause-$PAUSE_TAG" build_pause || fail "pause build failed"
build unit-argv "$(dirname "$UNIT_ARGV")" build_unit_argv || fail "unit-argv build failed"
wait $kb || fail "kubelet build failed"
wait $cb || fail "containerd $CONTAINERD_V2 build failed"
flock -u 9
node scripts/ensure-built.mjs >&2 || fail "could not build dist/ecr-credential-provider"
bin="${ECR_PROVIDER_BIN:-$root/dist/ecr-credential-provider}"
[ -x "$bin" ] || fail "$bin is missing or not executable"
say "ready after $(($(date +%s) - t0))s"

# --- scratch, cgroup root, host snapshot ------------------------------------------------------
scratch=$(mktemp -d /tmp/ecr-node.XXXXXX)
chmod 0755 "$scratch"
cgroot="ecr-node-${scratch##*.}"
snap() { bash "$root/test/node/host-state.sh" "$scratch" "$cgroot"; }
cleanup() {
  local rc=$?
  # The pid namespace is gone once unshare returned; kill stragglers defensively anyway (by cgroup).
  for c in /sys/fs/cgroup/*/"$cgroot"; do
    [ -d "$c" ] || continue
    find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | while read -r pid; do kill -9 "$pid" 2>/dev/null; done
  done
  sleep 0.2
  for c in /sys/fs/cgroup/*/"$cgroot"; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  if [ -z "${NODE_TEST_KEEP:-}" ]; then rm -rf "$scratch"; else say "kept $scratch"; fi
  rm -f "$before" "$before.after"
  exit $rc
}
before=$(mktemp /tmp/ecr-node-host.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM
snap >"$before"
for c in /sys/fs/cgroup/*/; do
  case $c in */unified/) continue ;; esac
  mkdir "$c$cgroot" # the kubelet's cgroupRoot must exist; removed in cleanup
done

# --- the node -------------------------------------------------------------------------------------
say "scratch $scratch, cgroup root /$cgroot"
ECR_NODE_SCRATCH="$scratch" ECR_NODE_CGROUP_ROOT="/$cgroot" ECR_NODE_KUBELET="$KUBELET" ECR_NODE_CONTAINERD2="$CTD2" ECR_NODE_UNIT_ARGV="$UNIT_ARGV" \
  ECR_NODE_PAUSE="$ECR_NODE_CACHE/pause-$PAUSE_TAG/pause" ECR_NODE_PAUSE_TAG="$PAUSE_TAG" ECR_PROVIDER_BIN="$bin" \
  ECR_NODE_REPO="$root" \
  unshare --mount --net --pid --fork --mount-proc --propagation private --kill-child \
  bash "$root/test/node/inside.sh" 2>&1 | tee "$scratch/test.log"
rc=${PIPESTATUS[0]}
passed=$(sed -n 's/^ℹ pass //p' "$scratch/test.log" | tail -1)
failed=$(sed -n 's/^ℹ fail //p' "$scratch/test.log" | tail -1)

# --- the host as found? -------------------------------------------------------------------------
for c in /sys/fs/cgroup/*/"$cgroot"; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done
snap >"$before.after"
if ! diff -u "$before" "$before.after" >&2; then
  say "FAIL: the host changed (diff above: - before, + after)"
  rc=1
  failed=$((${failed:-0} + 1))
else
  say "host unchanged: processes, mounts, cgroups, sysctls, iptables, /etc/hosts, files outside $scratch"
fi
say "total $(($(date +%s) - t0))s"
echo "${passed:-0} passed, ${failed:-1} failed"
exit "$rc"
