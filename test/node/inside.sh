#!/usr/bin/env bash
# PID 1 of the node's namespaces (see run.sh): private mounts, network and pids. Sets up the
# node's file system view, then runs the scenarios (test/node/node.test.ts). Nothing here is
# visible outside: mounts are private and vanish with the namespace; the loopback is our own.
set -euo pipefail
S=$ECR_NODE_SCRATCH
say() { printf 'node-test: %s\n' "$*" >&2; }

mount --make-rprivate /
ip link set lo up

# Overlays: the host's /etc /usr /var /run /opt below, the scratch dir above. Whatever a kubelet,
# containerd, runc, the installer or the plugin writes outside the paths we give them (defaults
# such as /var/lib/kubelet/device-plugins, /run/containerd/s, /var/cache/ecr-credential-provider)
# lands in $S/overlay, never on the host.
for d in /etc /usr /var /run /opt; do
  [ -d "$d" ] || continue
  up="$S/overlay${d}"
  mkdir -p "$up/upper" "$up/work"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$up/upper,workdir=$up/work" "$d"
done

# The kubelet hard-codes /var/lib/kubelet/device-plugins: a tmpfs, as on the issue's measured setup.
mkdir -p /var/lib/kubelet/device-plugins
mount -t tmpfs -o mode=0750 tmpfs /var/lib/kubelet/device-plugins

# The sysctls the kubelet writes at start (setupKernelTunables): files over them, seeded with the
# host's values, so the kubelet reads and rewrites copies.
mkdir -p "$S/sysctl"
for s in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
  [ -e "/proc/sys/$s" ] || continue
  f="$S/sysctl/${s//\//.}"
  cat "/proc/sys/$s" >"$f"
  mount --bind "$f" "/proc/sys/$s"
done

# A private /etc/hosts: the ECR, ECR Public, mirror and foreign registry names on our loopback.
cat >"$S/hosts" <<'HOSTS'
127.0.0.1 localhost node-test
127.0.0.10 123456789012.dkr.ecr.us-east-1.amazonaws.com
127.0.0.11 public.ecr.aws
127.0.0.12 mirror.example.internal
127.0.0.13 quay.io
HOSTS
mount --bind "$S/hosts" /etc/hosts

mkdir -p "$S/tmp"
export TMPDIR="$S/tmp"
cd "$ECR_NODE_REPO"
args=(--import tsx --test --test-reporter=spec --test-timeout=600000)
[ -n "${NODE_TEST_ONLY:-}" ] && args+=(--test-name-pattern "$NODE_TEST_ONLY")
rc=0
node "${args[@]}" test/node/node.test.ts || rc=$?
# PID 1 leaving takes every process of the namespace with it (kubelet, containerd, shims, pods).
exit $rc
