#!/usr/bin/env bash
# Installs the Debian packages that `npm run build`, `npm run release` and the e2e tests need:
#   qemu-user-static            run the arm64 node (blob creation, smoke test) on x64
#   libc6/libstdc++6/libgcc-s1 -arm64-cross   the arm64 runtime for qemu (-L /usr/aarch64-linux-gnu)
#   binutils-aarch64-linux-gnu  aarch64-linux-gnu-strip (and readelf/objdump for arm64)
#   binutils                    strip, readelf, objdump for the host
#   debootstrap                 the minbase chroots of test/e2e/{portability,deb,talos}.test.ts
#   curl                        the node-config examples, run as written in test/e2e/release-examples.test.ts
#   patchelf                    set the $ORIGIN run path of the bundled libstdc++/libgcc_s
#   dpkg-dev                    dpkg-architecture etc. (dpkg-deb itself is in dpkg)
#   xz-utils, gzip, tar, file   archive tools used by scripts/release.mjs and the tests
#   osslsigncode                removes node.exe's Authenticode signature before postject (Windows target)
#   zip, unzip                  the Windows release zip (and its test)
# Idempotent and quiet: packages already installed are skipped; `apt-get update` runs only if
# something is missing. Needs root (CI runs as root); otherwise prints the command to run.
set -euo pipefail

pkgs=(
  qemu-user-static
  libc6-arm64-cross
  libstdc++6-arm64-cross
  libgcc-s1-arm64-cross
  binutils
  binutils-aarch64-linux-gnu
  debootstrap
  patchelf
  dpkg-dev
  xz-utils
  gzip
  tar
  file
  osslsigncode
  zip
  unzip
  curl
)

# On an arm64 host the roles swap: the x64 node runs under qemu-x86_64-static with the amd64
# cross runtime. Keep the list right for either host.
case "$(uname -m)" in
  aarch64|arm64)
    pkgs=(qemu-user-static libc6-amd64-cross libstdc++6-amd64-cross libgcc-s1-amd64-cross
          binutils binutils-x86-64-linux-gnu debootstrap patchelf dpkg-dev xz-utils gzip tar file curl osslsigncode zip unzip)
    ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "ci-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "ci-deps: missing: ${missing[*]}" >&2
  echo "ci-deps: run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "ci-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci-deps: done"
