#!/usr/bin/env bash
# Makes (once) and prints the path of a Debian 13 "trixie" minbase root with wine 10 and an
# initialised 64-bit prefix, for running the Windows executable on this Linux machine.
#
#   bash scripts/wine-root.sh            # prints the root's path on stdout (progress on stderr)
#   bash scripts/wine-root.sh --check    # exit 0 and print the path if a complete root exists
#
# Why a trixie root: Debian 12's wine 8.0 cannot run Node 24 (V8 asks VirtualAlloc2 for
# placeholder reservations wine 8 lacks: "Fatal process out of memory: SegmentedTable::
# InitializeTable"); wine 10 from Debian 13 runs the unmodified node.exe. Debian packages only,
# no display needed (wine runs headless; winemenubuilder and the gecko/mono installers are off).
#
# Where: $ECR_CP_WINE_ROOT if set; else /var/cache/ecr-credential-provider-ci/wine-trixie when
# that is writable (root), so CI's fresh clones reuse it; else .cache/wine-trixie in the clone.
# Made in a temporary sibling directory and renamed into place only when complete, so an
# interrupted run never leaves a half root that later looks usable. About 1.5 GB; ~60-90 s
# cold (debootstrap + apt + first wineboot), instant when cached.
# Needs root (debootstrap, chroot, unshare) and the network to the Debian mirror apt uses.
set -euo pipefail

# Bump when the recipe changes: an older root is rebuilt, not reused.
RECIPE=3
PACKAGES=(wine wine64 ca-certificates)

repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n "${ECR_CP_WINE_ROOT:-}" ]]; then
  root=$ECR_CP_WINE_ROOT
elif mkdir -p /var/cache/ecr-credential-provider-ci 2>/dev/null && [[ -w /var/cache/ecr-credential-provider-ci ]]; then
  root=/var/cache/ecr-credential-provider-ci/wine-trixie
else
  root=$repo/.cache/wine-trixie
fi
stamp="recipe=$RECIPE packages=${PACKAGES[*]}"

complete() { [[ -f "$root/.complete" && "$(cat "$root/.complete")" == "$stamp" ]]; }

if [[ "${1:-}" == "--check" ]]; then
  complete && { echo "$root"; exit 0; }
  exit 1
fi
if complete; then echo "$root"; exit 0; fi

say() { echo "wine-root: $*" >&2; }
[[ $(id -u) -eq 0 ]] || { say "needs root (debootstrap, chroot)"; exit 2; }
command -v debootstrap >/dev/null || { say "debootstrap missing: apt-get install debootstrap (or bash scripts/ci-deps.sh)"; exit 2; }

# The mirror apt uses here (deb822 or one-line format); deb.debian.org otherwise.
mirror=$(sed -n 's/^URIs:[[:space:]]*\(http[^[:space:]]*debian\)[[:space:]]*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[[ -n "$mirror" ]] || mirror=$(sed -n 's/^deb[[:space:]]\+\(http[^[:space:]]*debian\)[[:space:]].*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)
[[ -n "$mirror" ]] || mirror=http://deb.debian.org/debian

mkdir -p "$(dirname "$root")"
# One builder at a time (two CI jobs or test runs on one machine).
exec 9>"$root.lock"
flock 9
if complete; then echo "$root"; exit 0; fi

tmp="$root.tmp.$$"
rm -rf "$root".tmp.* "$root"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

t0=$(date +%s)
say "debootstrap --variant=minbase trixie from $mirror into $tmp"
if ! debootstrap --variant=minbase --arch=amd64 trixie "$tmp" "$mirror" >"$tmp.log" 2>&1; then
  say "debootstrap failed; last lines:"; tail -15 "$tmp.log" >&2
  say "DNS: $(getent hosts "$(echo "$mirror" | sed 's#^[a-z]*://##; s#/.*##')" || echo 'lookup failed')"
  rm -f "$tmp.log"; exit 1
fi
rm -f "$tmp.log"

# Inside a private mount namespace, so no mount outlives this script even if it is killed.
in_root() {
  unshare --mount --propagation private -- sh -c '
    r=$1; shift
    mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"; mount --rbind /sys "$r/sys"
    exec chroot "$r" "$@"' sh "$tmp" "$@"
}
cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
say "apt-get install ${PACKAGES[*]} ($(( $(date +%s) - t0 ))s)"
in_root env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 install -y -qq \
  --no-install-recommends "${PACKAGES[@]}" >/dev/null
in_root apt-get clean

# A 64-bit prefix, initialised now so test runs start in ~0.2 s. No gecko/mono prompts,
# no desktop menu entries, no display.
say "wineboot ($(( $(date +%s) - t0 ))s)"
in_root env HOME=/root WINEPREFIX=/root/.wine WINEARCH=win64 WINEDEBUG=-all \
  WINEDLLOVERRIDES="mscoree,mshtml,winemenubuilder.exe=" DISPLAY= sh -c 'wineboot --init && wineserver --wait'
in_root sh -c 'wine --version' >&2

echo "$stamp" >"$tmp/.complete"
mv "$tmp" "$root"
trap - EXIT
say "ready in $(( $(date +%s) - t0 ))s: $root ($(du -sh "$root" | cut -f1))"
echo "$root"
