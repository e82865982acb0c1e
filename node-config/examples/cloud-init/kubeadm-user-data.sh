#!/bin/sh
# cloud-init user data for a kubeadm node: install before `kubeadm join`, which then starts the kubelet
# with KUBELET_EXTRA_ARGS from /etc/default/kubelet (or /etc/sysconfig/kubelet).
# RELEASE_URL: where you uploaded dist/release/ (the tarballs and SHA256SUMS sit at its top).
set -eu
VERSION=0.1.0
ARCH=$(uname -m | sed -e s/x86_64/amd64/ -e s/aarch64/arm64/)
RELEASE_URL=${RELEASE_URL:-https://example.com/releases}
PKG=ecr-credential-provider-$VERSION-linux-$ARCH
cd /tmp
curl -fsSLO "$RELEASE_URL/$PKG.tar.gz"
curl -fsSLO "$RELEASE_URL/SHA256SUMS"
tar -xzf "$PKG.tar.gz"
sh "$PKG/install.sh" --distro kubeadm --release "/tmp/$PKG.tar.gz"
rm -rf "/tmp/$PKG" "/tmp/$PKG.tar.gz" /tmp/SHA256SUMS
# kubeadm join ... (or use wiring/kubeadm/join-configuration-v1beta4.yaml instead of KUBELET_EXTRA_ARGS)
