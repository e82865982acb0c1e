#!/usr/bin/env bash
# Prints (and creates) the directory CI and the heavier test suites cache their downloads and builds in,
# across clones: /var/cache/ecr-credential-provider-ci when it can be made writable (root, as in CI),
# else ~/.cache/ecr-credential-provider-ci (XDG_CACHE_HOME honoured). Used by scripts/ci-go.sh,
# scripts/bench-baseline.sh and test/node/run.sh. (scripts/wine-root.sh falls back to the clone's
# .cache/ instead: a 1.5 GB root is kept out of the home directory.)
set -euo pipefail
if mkdir -p /var/cache/ecr-credential-provider-ci 2>/dev/null && [ -w /var/cache/ecr-credential-provider-ci ]; then
  echo /var/cache/ecr-credential-provider-ci
else
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/ecr-credential-provider-ci"
  mkdir -p "$dir"
  echo "$dir"
fi
