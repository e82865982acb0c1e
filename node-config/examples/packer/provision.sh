#!/bin/sh
# Packer shell provisioner for an EKS AL2023 (or kubeadm) AMI: bakes the binary, config and kubelet wiring
# into the image. Upload the release tarball and SHA256SUMS to /tmp first (a "file" provisioner), e.g.
#   provisioner "file"  { sources = ["dist/release/ecr-credential-provider-0.1.0-linux-amd64.tar.gz", "dist/release/SHA256SUMS"], destination = "/tmp/" }
#   provisioner "shell" { script = "node-config/examples/packer/provision.sh", environment_vars = ["DISTRO=eks-al2023"], execute_command = "sudo sh -c '{{ .Vars }} {{ .Path }}'" }
set -eu
DISTRO=${DISTRO:-eks-al2023}
VERSION=0.1.0
ARCH=$(uname -m | sed -e s/x86_64/amd64/ -e s/aarch64/arm64/)
PKG=ecr-credential-provider-$VERSION-linux-$ARCH
cd /tmp
tar -xzf "$PKG.tar.gz"
sh "$PKG/install.sh" --distro "$DISTRO" --release "/tmp/$PKG.tar.gz"
# Check the baked files offline; the AWS checks run on a booted node: ecr-credential-provider doctor --image <ecr image>
/opt/ecr-credential-provider/bin/ecr-credential-provider doctor --config /etc/ecr-credential-provider/credential-provider-config.yaml \
  --bin-dir /opt/ecr-credential-provider/bin --offline
rm -rf "/tmp/$PKG" "/tmp/$PKG.tar.gz" /tmp/SHA256SUMS
