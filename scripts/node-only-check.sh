#!/usr/bin/env bash
# The README's two commands on a machine that has Node and npm and an ordinary userland, but none
# of binutils (strip, readelf…), patchelf, qemu, debootstrap, Go or a C compiler: a fresh clone of
# this checkout, a PATH of symlinks with those tools left out, a fresh TMPDIR that must be empty
# afterwards. Suites that need a missing tool skip with a reason.
#   bash scripts/node-only-check.sh [demo|test|all]   (default all)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
what="${1:-all}"
work="$(mktemp -d "${TMPDIR:-/tmp}/node-only.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Tools a Node-only machine lacks. Anything else the base system has stays (a node:24-slim image
# has coreutils, bash, tar, gzip, grep, sed, mount; it has no compiler, binutils or patchelf).
excluded() {
  case "$1" in
    strip | *-strip | objcopy | *-objcopy | objdump | *-objdump | readelf | *-readelf | ld | ld.* | *-ld | *-ld.* | \
    as | *-as | ar | *-ar | nm | *-nm | ranlib | *-ranlib | size | strings | elfedit | addr2line | c++filt | gprof | \
    patchelf | qemu-* | debootstrap | go | gofmt | gcc* | *-gcc* | g++* | *-g++* | cc | c++ | cpp | *-cpp* | c89* | c99* | \
    clang* | tcc | make | gmake | skopeo | docker-registry | containerd | kubelet)
      return 0 ;;
  esac
  return 1
}

bin="$work/bin"
mkdir -p "$bin"
# node and npm from wherever this machine has them (first on PATH), nothing else from their dir.
node_dir="$(dirname "$(command -v node)")"
for t in node npm npx; do ln -s "$node_dir/$t" "$bin/$t"; done
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    n="$(basename "$f")"
    [ -x "$f" ] && [ ! -d "$f" ] || continue
    [ -e "$bin/$n" ] && continue
    excluded "$n" && continue
    ln -s "$f" "$bin/$n"
  done
done
for t in strip patchelf readelf qemu-aarch64-static debootstrap go gcc cc; do
  if PATH="$bin" command -v "$t" >/dev/null 2>&1; then echo "node-only: $t is still on the PATH" >&2; exit 1; fi
done

git clone -q "$root" "$work/clone"
tmp="$work/tmp"
mkdir "$tmp"
check_tmp() {
  local left
  left="$(find "$tmp" -mindepth 1 -maxdepth 2 | head -20)"
  if [ -n "$left" ]; then
    echo "node-only: '$1' left files in TMPDIR:" >&2
    echo "$left" >&2
    exit 1
  fi
}
cd "$work/clone"
# The caller's environment (npm's registry, proxy and CA settings) with this PATH and TMPDIR; nothing
# that points the tests at another executable.
run() { env -u ECR_CREDENTIAL_PROVIDER_BIN -u GOROOT -u GOPATH -u CC PATH="$bin" TMPDIR="$tmp" bash -c "$1"; }

if [ "$what" = demo ] || [ "$what" = all ]; then
  echo "node-only: npm ci && npm run demo (PATH without binutils, patchelf, qemu, debootstrap, Go, C compiler)"
  run "npm ci --no-audit --no-fund && npm run demo" >"$work/demo.log" 2>&1 || { cat "$work/demo.log"; exit 1; }
  tail -n 5 "$work/demo.log"
  if grep -q $'\x1b' "$work/demo.log"; then echo "node-only: the demo wrote escape codes to a pipe" >&2; exit 1; fi
  if [ -e dist/bench/trivial-sea ]; then echo "node-only: the demo built the benchmark's trivial SEA" >&2; exit 1; fi
  check_tmp "npm run demo"
fi
if [ "$what" = test ] || [ "$what" = all ]; then
  echo "node-only: npm ci && npm test"
  run "npm ci --no-audit --no-fund && npm test" >"$work/test.log" 2>&1 || { tail -n 80 "$work/test.log"; exit 1; }
  grep -E '^(ℹ|#) (tests|pass|fail|skipped|todo|duration_ms)' "$work/test.log" || true
  echo "node-only: skipped, with reasons:"
  grep -E '﹣ .* # |# SKIP' "$work/test.log" | sed -E 's/^ +//; s/^.*\) # //' | sort | uniq -c | sort -rn | head -20 || true
  check_tmp "npm test"
fi
echo "node-only: ok"
