#!/usr/bin/env bash
# Makes sure a Go toolchain new enough for test/kubelet/go.mod is on the PATH for CI (the conformance
# harness, test:node's kubelet/containerd/unit-argv builds and the Go-plugin column of the benchmark).
# Debian's golang is too old for k8s.io/kubernetes, so when `go` is missing or older than go.mod asks,
# the pinned toolchain is fetched from the Go module proxy (the module golang.org/toolchain, which is
# what `go` itself downloads for GOTOOLCHAIN), checked against the SHA-256 pinned below, and unpacked
# into the CI cache (/var/cache/ecr-credential-provider-ci, or ~/.cache/… without root).
#
# Prints the directory to put first on the PATH (empty when the `go` already there will do); logs to
# stderr. Usage in .ci/run:  gobin=$(bash scripts/ci-go.sh); [ -z "$gobin" ] || PATH="$gobin:$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.26.8
declare -A SHA256=(
  [amd64]=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
  [arm64]=02b36b6787b3ac767668f630e2998df45a3b1f9ffee08d1bf3ef6487cd658d99
)
say() { printf 'ci-go: %s\n' "$*" >&2; }

need=$(sed -n 's/^go //p' test/kubelet/go.mod)
# version_ge A B: A >= B for dotted versions (1.26.0 >= 1.26).
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]; }

if [ -z "${ECR_CI_GO_FORCE:-}" ] && command -v go >/dev/null 2>&1; then
  have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  if [ -n "$have" ] && version_ge "$have" "$need"; then
    say "go $have on the PATH ($(command -v go)) satisfies go $need"
    exit 0
  fi
  say "go ${have:-?} on the PATH is older than go $need: using the pinned go $VERSION"
fi

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) say "no pinned Go toolchain for $(uname -m)"; exit 1 ;;
esac
cache=$(bash scripts/ci-cache-dir.sh)
mod="v0.0.1-go$VERSION.linux-$arch"
dest="$cache/go$VERSION.linux-$arch"
if [ -x "$dest/bin/go" ] && [ "$("$dest/bin/go" env GOVERSION 2>/dev/null)" = "go$VERSION" ]; then
  say "using cached go $VERSION ($dest)"
  echo "$dest/bin"
  exit 0
fi

proxy=$(printf '%s' "${GOPROXY:-https://proxy.golang.org}" | cut -d, -f1 | cut -d'|' -f1)
case $proxy in http://* | https://*) ;; *) proxy=https://proxy.golang.org ;; esac
url="$proxy/golang.org/toolchain/@v/$mod.zip"
work=$(mktemp -d "$cache/go-download.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "downloading $url"
curl -fsSL --retry 3 --max-time 600 -o "$work/go.zip" "$url"
got=$(sha256sum "$work/go.zip" | cut -d' ' -f1)
if [ "$got" != "${SHA256[$arch]}" ]; then
  say "checksum mismatch for $mod.zip: got $got, pinned ${SHA256[$arch]}"
  exit 1
fi
unzip -q "$work/go.zip" -d "$work/x"
rm -rf "$dest"
mv "$work/x/golang.org/toolchain@$mod" "$dest"
"$dest/bin/go" version >&2
echo "$dest/bin"
