#!/usr/bin/env bash
# Builds the executable of the commit issue #14 measured when it set the cold-path target ("about 60 ms
# today"), for `npm run bench`'s BENCH_BASELINE: the bench runs it cold in the same interleaved rounds
# as today's build, so README.md's "0.73-0.75 of the filing-time build" is re-measured on every CI run.
# Built once per machine (its own `npm ci` from its own lock file, then `node build.mjs --host-only`)
# into the CI cache (/var/cache/ecr-credential-provider-ci, or ~/.cache/… without root).
#
# Prints the executable's path; prints nothing (exit 0) when that commit is not in this clone's history
# (a shallow checkout) or it cannot be built here, with the reason on stderr: the bench then runs
# without the baseline column. Usage in .ci/run:  BENCH_BASELINE=$(bash scripts/bench-baseline.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

COMMIT=1b683bd8e5234a666de065b6d30b8626411a18f2
say() { printf 'bench-baseline: %s\n' "$*" >&2; }

if ! git cat-file -e "$COMMIT^{commit}" 2>/dev/null; then
  say "commit ${COMMIT:0:7} is not in this clone (shallow?): no baseline column"
  exit 0
fi
cache=$(bash scripts/ci-cache-dir.sh)
dest="$cache/bench-baseline-${COMMIT:0:12}-$(uname -m)"
exe="$dest/dist/ecr-credential-provider"
if [ -x "$exe" ]; then
  say "using the cached build of ${COMMIT:0:7} ($exe)"
  echo "$exe"
  exit 0
fi
work=$(mktemp -d "$cache/bench-baseline.XXXXXX")
trap 'rm -rf "$work"' EXIT
git archive "$COMMIT" | tar -x -C "$work"
if ! (cd "$work" && npm ci --no-audit --no-fund >&2 && node build.mjs --host-only --skip-smoke >&2); then
  say "building ${COMMIT:0:7} failed: no baseline column"
  exit 0
fi
rm -rf "$dest"
mkdir -p "$dest/dist"
cp "$work/dist/ecr-credential-provider" "$exe"
say "built ${COMMIT:0:7} ($exe)"
echo "$exe"
