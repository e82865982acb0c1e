#!/usr/bin/env bash
# Prints what test/node/run.sh compares before and after a run: the host must be as it was found.
# usage: host-state.sh SCRATCH_DIR CGROUP_ROOT_NAME
# Deliberately scoped to what a node run could change, so other work on a shared machine (apt,
# other test suites) does not make it flap: everything our kubelet/containerd/registries/plugin
# could touch is listed; a generic "newer than the run" scan covers /etc /run /opt and /var.
scratch=$1
cgroot=$2
marker="$scratch/.host-state-marker"
[ -e "$marker" ] || touch "$marker"

echo "## processes started from the scratch dir or our builds in the cache (other users of the shared cache dir excluded), or named like a node's"
for p in /proc/[0-9]*; do
  { cmd=$(tr '\0' ' ' <"$p/cmdline") && comm=$(cat "$p/comm"); } 2>/dev/null || continue
  case "$cmd" in *"$scratch/"* | *ecr-credential-provider-ci/kubelet-* | *ecr-credential-provider-ci/containerd-* | *ecr-credential-provider-ci/pause-*) echo "${p#/proc/} $comm $cmd" ;; esac
  case "$comm" in containerd* | pause | runc | kubelet) echo "${p#/proc/} $comm $cmd" ;; esac
done | sort -u

echo "## mounts (mount point, fs type, source)"
awk '{ for (i = 7; $i != "-"; i++); print $5, $(i+1), $(i+2) }' /proc/self/mountinfo | sort

echo "## cgroups (each hierarchy and its top level; deeper levels belong to whoever made the top level)"
find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d 2>/dev/null | sort
ls -d /sys/fs/cgroup/*/"$cgroot" 2>/dev/null

echo "## sysctls the kubelet sets"
for s in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes \
  net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables net/ipv4/conf/all/route_localnet; do
  [ -r "/proc/sys/$s" ] && echo "$s = $(cat "/proc/sys/$s")"
done

echo "## iptables / nftables"
for t in iptables-save ip6tables-save iptables-legacy-save ip6tables-legacy-save; do
  command -v "$t" >/dev/null 2>&1 && "$t" 2>&1 | grep -v '^#' | sed "s/^/$t: /"
done
command -v nft >/dev/null 2>&1 && nft list ruleset 2>&1 | sed 's/^/nft: /'
ip -o link 2>/dev/null | awk '{print "link:", $2}'
ip -o addr 2>/dev/null | awk '{print "addr:", $2, $4}'

echo "## /etc/hosts, /etc/resolv.conf"
sha256sum /etc/hosts /etc/resolv.conf 2>/dev/null

echo "## paths a node writes (must stay as they were)"
for f in /var/lib/kubelet /var/log/pods /var/log/containers /usr/libexec/kubernetes /etc/kubernetes \
  /var/lib/containerd /run/containerd /etc/containerd /opt/containerd /etc/cni /opt/cni /var/lib/cni /run/netns /var/run/netns \
  /run/runc /var/lib/registry /var/lib/docker-registry /var/cache/ecr-credential-provider /etc/ecr-credential-provider \
  /opt/ecr-credential-provider /var/lib/ecr-credential-provider /etc/systemd/system/kubelet.service.d \
  /etc/systemd/system/kubelet.service /lib/systemd/system/kubelet.service /etc/default/kubelet /etc/sysconfig/kubelet \
  /usr/bin/kubelet /usr/local/bin/kubelet /usr/local/bin/ecr-credential-provider; do
  [ -e "$f" ] && find "$f" -printf '%p %y %m %s %T@\n' 2>/dev/null | sort
done

echo "## anything under /etc /run /opt /var /usr/local /srv changed since the run began"
find /etc /run /opt /var /usr/local /srv -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache/apt -o -path /var/log/apt -o -path /var/cache/debconf \
  -o -path /var/cache/man -o -path /var/cache/ldconfig -o -path /var/log/dpkg.log -o -path /var/cache/ecr-credential-provider-ci \
  -o -path /var/tmp -o -path /run/user -o -path /var/lib/systemd -o -path /run/mount \) -prune -o -newer "$marker" -print 2>/dev/null | sort

echo "## entries in /tmp named like a runtime's"
ls -d /tmp/containerd* /tmp/runc* /tmp/kubelet* /tmp/ctd-* 2>/dev/null
