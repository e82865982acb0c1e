#!/bin/sh
# Packer shell provisioner for an EKS AL2023 (or kubeadm) AMI: bakes the binary, config and kubelet wiring
# into the image. Upload the release tarball and SHA256SUMS to /tmp first (a "file" provisioner), e.g.
#   provisioner "file"  { sources = ["dist/ecr-credential-provider-linux-amd64.tar.gz", "dist/SHA256SUMS"], destination = "/tmp/" }
#   provisioner "shell" { script = "node-config/examples/packer/provision.sh", environment_vars = ["DISTRO=eks-al2023"], execute_command = "sudo sh -c '{{ .Vars }} {{ .Path }}'" }
set -eu
DISTRO=${DISTRO:-eks-al2023}
cd /tmp
tar -xzf ecr-credential-provider-linux-amd64.tar.gz
sh ecr-credential-provider/node-config/install.sh --distro "$DISTRO" --release /tmp/ecr-credential-provider-linux-amd64.tar.gz
# Check the baked files offline; the AWS checks run on a booted node: ecr-credential-provider doctor --image <ecr image>
/opt/ecr-credential-provider/bin/ecr-credential-provider doctor --config /etc/ecr-credential-provider/credential-provider-config.yaml \
  --bin-dir /opt/ecr-credential-provider/bin --offline
rm -rf /tmp/ecr-credential-provider /tmp/ecr-credential-provider-linux-amd64.tar.gz /tmp/SHA256SUMS
