#!/bin/sh
# Install ecr-credential-provider on a Kubernetes node and wire the kubelet to it (POSIX sh; idempotent; --uninstall restores).
#
# usage: install.sh [--distro NAME|auto] [--binary PATH | --release TARBALL] [--root DIR] [--dry-run]
#                   [--restart-kubelet] [--uninstall] [--mode own-dir|in-place] [--service-account]
#                   [--config-file PATH] [--print-config] [plugin flags...]
# distros: kubeadm eks-al2023 eks-hybrid k3s rke2 talos kops generic bottlerocket (auto = detect)
# plugin flags copied into the provider's args: --log-level V --log-format V --registry-alias HOST[:PORT]=REGISTRY
#   (repeatable) --cache-dir DIR --no-cache --roles-anywhere-{certificate,private-key,intermediates,trust-anchor-arn,
#   profile-arn,role-arn,session-duration,role-session-name,private-key-passphrase-file} V
# Every path is taken relative to --root (default /). Each change is printed; a second run prints "nothing to do".
# The new config is checked with `<binary> doctor --offline` BEFORE it replaces the old one.
# Backups and the manifest used by --uninstall live in <root>/var/lib/ecr-credential-provider/install/.
set -eu

PROG=install.sh
DISTRO=auto
BINARY=
RELEASE=
ROOT=
DRY_RUN=0
RESTART=0
UNINSTALL=0
PRINT_CONFIG=0
MODE=own-dir
SERVICE_ACCOUNT=0
CONFIG_SRC=
PLUGIN_ARGS=
CHANGES=0
TMP=

NAME=ecr-credential-provider
KIT_BIN_DIR=/opt/ecr-credential-provider/bin
KIT_CONFIG=/etc/ecr-credential-provider/credential-provider-config.yaml
STATE_DIR=/var/lib/ecr-credential-provider/install
NL='
'

say() { printf '%s\n' "$*"; }
die() {
	code=$1
	shift
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit "$code"
}
p() { printf '%s%s' "$ROOT" "$1"; }
cleanup() { if [ -n "$TMP" ]; then rm -rf "$TMP"; fi; }
trap cleanup EXIT INT TERM

add_plugin_arg() {
	case $1 in
	*'"'* | *'\'* | *"$NL"*) die 2 "plugin flag value may not contain quotes, backslashes or newlines: $1" ;;
	esac
	PLUGIN_ARGS="$PLUGIN_ARGS$1$NL"
}

while [ $# -gt 0 ]; do
	arg=$1
	shift
	val=
	case $arg in
	--*=*)
		val=${arg#*=}
		arg=${arg%%=*}
		set -- "$val" "$@"
		;;
	esac
	need() { [ $# -gt 0 ] || die 2 "$arg needs a value"; }
	case $arg in
	--distro) need "$@"; DISTRO=$1; shift ;;
	--binary) need "$@"; BINARY=$1; shift ;;
	--release) need "$@"; RELEASE=$1; shift ;;
	--root) need "$@"; ROOT=${1%/}; shift ;;
	--mode) need "$@"; MODE=$1; shift ;;
	--config-file) need "$@"; CONFIG_SRC=$1; shift ;;
	--dry-run) DRY_RUN=1 ;;
	--restart-kubelet) RESTART=1 ;;
	--uninstall) UNINSTALL=1 ;;
	--print-config) PRINT_CONFIG=1 ;;
	--service-account) SERVICE_ACCOUNT=1 ;;
	--no-cache) add_plugin_arg --no-cache ;;
	--log-level | --log-format | --registry-alias | --cache-dir | --roles-anywhere-certificate | --roles-anywhere-private-key | \
		--roles-anywhere-intermediates | --roles-anywhere-trust-anchor-arn | --roles-anywhere-profile-arn | --roles-anywhere-role-arn | \
		--roles-anywhere-session-duration | --roles-anywhere-role-session-name | --roles-anywhere-private-key-passphrase-file)
		need "$@"
		add_plugin_arg "$arg=$1"
		shift
		;;
	-h | --help) sed -n '2,13p' "$0"; exit 0 ;;
	*) die 2 "unknown argument: $arg (see --help)" ;;
	esac
done

case $MODE in own-dir | in-place) ;; *) die 2 "--mode must be own-dir or in-place" ;; esac
[ -z "$BINARY" ] || [ -z "$RELEASE" ] || die 2 "use --binary or --release, not both"

# --- the config ------------------------------------------------------------------------------------
gen_config() {
	cat <<'EOF'
# Kubelet CredentialProviderConfig for ecr-credential-provider (kubelet >= 1.26).
# Pass it with --image-credential-provider-config=<this file> and
# --image-credential-provider-bin-dir=<dir holding an executable named ecr-credential-provider>.
# matchImages: the union of the EKS AL2023 (nodeadm) and Bottlerocket lists, 18 patterns.
# A "*" spans exactly one host label; never put a scheme (https://) in these entries.
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
      - "*.dkr-ecr.*.on.aws"
      - "*.dkr.ecr.*.amazonaws.com.cn"
      - "*.dkr-ecr.*.on.amazonwebservices.com.cn"
      - "*.dkr.ecr-fips.*.amazonaws.com"
      - "*.dkr-ecr-fips.*.on.aws"
      - "*.dkr.ecr.*.c2s.ic.gov"
      - "*.dkr.ecr-fips.*.c2s.ic.gov"
      - "*.dkr.ecr.*.sc2s.sgov.gov"
      - "*.dkr.ecr-fips.*.sc2s.sgov.gov"
      - "*.dkr.ecr.*.cloud.adc-e.uk"
      - "*.dkr.ecr-fips.*.cloud.adc-e.uk"
      - "*.dkr.ecr.*.csp.hci.ic.gov"
      - "*.dkr.ecr-fips.*.csp.hci.ic.gov"
      - "*.dkr.ecr.*.amazonaws.eu"
      - "*.dkr.ecr-fips.*.amazonaws.eu"
      - "public.ecr.aws"
      - "ecr-public.aws.com"
      # Beyond the stock 18: hosts this plugin serves that no stock pattern reaches
      # (hybrid labels, an explicit :443, an upper-case host); see node-config/README.md.
      - "*.dkr.ecr.*.on.amazonwebservices.com.cn"
      - "*.dkr-ecr.*.amazonaws.com"
      - "*.dkr.ecr.*.amazonaws.com:443"
      - "*.DKR.ECR.*.AMAZONAWS.COM"
EOF
	# Mirror hosts must be in matchImages too, or the kubelet never asks the plugin about them.
	printf '%s' "$PLUGIN_ARGS" | while IFS= read -r a; do
		case $a in --registry-alias=*)
			h=${a#--registry-alias=}
			printf '      - "%s"\n' "${h%%=*}"
			;;
		esac
	done
	cat <<'EOF'
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
EOF
	if [ -n "$PLUGIN_ARGS" ]; then
		say "    args:"
		printf '%s' "$PLUGIN_ARGS" | while IFS= read -r a; do printf '      - "%s"\n' "$a"; done
	fi
	if [ "$SERVICE_ACCOUNT" = 1 ]; then
		cat <<'EOF'
    tokenAttributes:
      serviceAccountTokenAudience: sts.amazonaws.com
      cacheType: ServiceAccount
      requireServiceAccount: false
      optionalServiceAccountAnnotationKeys:
        - eks.amazonaws.com/ecr-role-arn
        - eks.amazonaws.com/role-arn
EOF
	fi
}

if [ "$PRINT_CONFIG" = 1 ]; then
	gen_config
	exit 0
fi

# --- distro detection ------------------------------------------------------------------------------
os_id() { sed -n 's/^ID=//p' "$(p /etc/os-release)" 2>/dev/null | tr -d '"' | head -n 1; }
detect_distro() {
	id=$(os_id || true)
	if [ "$id" = bottlerocket ]; then say bottlerocket; return; fi
	if [ "$id" = talos ]; then say talos; return; fi
	if [ -d "$(p /etc/rancher/rke2)" ] || [ -x "$(p /usr/local/bin/rke2)" ] || [ -x "$(p /usr/bin/rke2)" ]; then say rke2; return; fi
	if [ -d "$(p /etc/rancher/k3s)" ] || [ -x "$(p /usr/local/bin/k3s)" ]; then say k3s; return; fi
	if [ -d "$(p /etc/aws/hybrid)" ] || [ -f "$(p /etc/systemd/system/aws_signing_helper_update.service)" ]; then say eks-hybrid; return; fi
	if [ -d "$(p /etc/eks/nodeadm.d)" ] || [ -f "$(p /etc/eks/kubelet/environment)" ] || [ -x "$(p /usr/bin/nodeadm)" ]; then say eks-al2023; return; fi
	if grep -qs '^DAEMON_ARGS=' "$(p /etc/sysconfig/kubelet)"; then say kops; return; fi
	for d in /usr/lib/systemd/system /lib/systemd/system /etc/systemd/system; do
		if [ -f "$(p "$d/kubelet.service.d/10-kubeadm.conf")" ]; then say kubeadm; return; fi
	done
	for d in /etc/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
		if [ -f "$(p "$d/kubelet.service")" ]; then say generic; return; fi
	done
	say unknown
}

if [ "$DISTRO" = auto ]; then
	DISTRO=$(detect_distro)
	[ "$DISTRO" != unknown ] || die 2 "cannot detect the distribution under '${ROOT:-/}'; pass --distro"
	say "detected distro: $DISTRO"
fi

BIN_DIR=$KIT_BIN_DIR
CONFIG_FILE=$KIT_CONFIG
case $DISTRO in
kubeadm | generic | kops) ;;
eks-al2023) if [ "$MODE" = in-place ]; then BIN_DIR=/etc/eks/image-credential-provider; CONFIG_FILE=; fi ;;
eks-hybrid) CONFIG_FILE= ;;
k3s | rke2)
	BIN_DIR=/var/lib/rancher/credentialprovider/bin
	CONFIG_FILE=/var/lib/rancher/credentialprovider/config.yaml
	;;
talos)
	[ -n "$ROOT" ] || die 2 "--distro talos builds a system-extension tree; pass --root <output dir>"
	BIN_DIR=/rootfs/usr/local/lib/kubelet/credentialproviders
	CONFIG_FILE=/credential-provider-config.yaml
	;;
bottlerocket)
	say "Bottlerocket: this plugin cannot be installed (read-only root; no supported way to add a provider binary)."
	say "Configure the stock provider instead, e.g. in user data:"
	say "  [settings.kubernetes.credential-providers.ecr-credential-provider]"
	say "  enabled = true"
	say '  cache-duration = "12h"'
	say "See node-config/wiring/bottlerocket/user-data.toml."
	exit 3
	;;
*) die 2 "unknown distro '$DISTRO'" ;;
esac
if [ -z "$CONFIG_FILE" ] && { [ -n "$PLUGIN_ARGS" ] || [ "$SERVICE_ACCOUNT" = 1 ] || [ -n "$CONFIG_SRC" ]; }; then
	die 2 "$DISTRO${MODE:+ ($MODE)}: nodeadm writes the kubelet config, so plugin flags, --service-account and --config-file cannot be applied; use --mode own-dir (eks-al2023)"
fi

# --- manifest, backups, atomic writes ---------------------------------------------------------------
STATE=$(p "$STATE_DIR")
MANIFEST=$STATE/manifest

in_manifest() { [ -f "$MANIFEST" ] && cut -f2 "$MANIFEST" | grep -qxF "$1"; }
record() {
	[ "$DRY_RUN" = 1 ] && return 0
	in_manifest "$2" && return 0
	printf '%s\t%s\n' "$1" "$2" >>"$MANIFEST"
}
# init_state: create the state dir, remembering which of its ancestors were missing (innermost first) for --uninstall.
init_state() {
	[ "$DRY_RUN" = 1 ] && return 0
	[ -d "$STATE" ] && return 0
	missing=
	d=$STATE_DIR
	while [ "$d" != / ] && [ ! -d "$(p "$d")" ]; do
		missing="$missing$d$NL"
		d=$(dirname "$d")
	done
	mkdir -p "$STATE"
	chmod 0700 "$STATE"
	printf '%s' "$missing" >"$STATE/created-dirs"
	: >"$MANIFEST"
}
ensure_dir() {
	[ -d "$(p "$1")" ] && return 0
	parent=$(dirname "$1")
	[ "$parent" = "$1" ] || ensure_dir "$parent"
	if [ "$DRY_RUN" = 1 ]; then say "would create $1/"; return 0; fi
	mkdir "$(p "$1")"
	record dir "$1"
	say "created $1/"
}
file_mode() { stat -c %a "$1" 2>/dev/null || echo unknown; }
# put_file SRC DEST MODE: replace DEST (a node path) with SRC atomically unless identical.
put_file() {
	src=$1
	dest=$2
	mode=$3
	target=$(p "$dest")
	if [ -f "$target" ] && cmp -s "$src" "$target" && [ "$(file_mode "$target")" = "${mode#0}" ]; then
		return 0
	fi
	CHANGES=$((CHANGES + 1))
	if [ "$DRY_RUN" = 1 ]; then say "would write $dest (mode $mode)"; return 0; fi
	ensure_dir "$(dirname "$dest")"
	if ! in_manifest "$dest"; then
		if [ -e "$target" ]; then
			mkdir -p "$STATE/backup$(dirname "$dest")"
			cp -p "$target" "$STATE/backup$dest"
			record modified "$dest"
		else
			record created "$dest"
		fi
	fi
	tmp="$target.ecr-tmp.$$"
	cp "$src" "$tmp"
	chmod "$mode" "$tmp"
	mv -f "$tmp" "$target"
	say "wrote $dest (mode $mode)"
}

# --- uninstall -------------------------------------------------------------------------------------
restart_kubelet() {
	case $DISTRO in
	k3s) units="k3s k3s-agent" ;;
	rke2) units="rke2-server rke2-agent" ;;
	talos) say "talos: build the installer image with this extension, then talosctl upgrade --image <installer>"; return 0 ;;
	eks-hybrid) say "eks-hybrid: run: set -a; . $KIT_CONFIG_DIR_ENV; set +a; nodeadm init -c file://<nodeConfig.yaml>"; return 0 ;;
	*) units=kubelet ;;
	esac
	if [ "$DISTRO" = eks-al2023 ] && [ "$MODE" = own-dir ]; then
		cmd="nodeadm init --config-source imds://user-data --config-source file:///etc/eks/nodeadm.d/"
	else
		cmd="systemctl daemon-reload && for u in $units; do if systemctl is-active --quiet \$u; then systemctl restart \$u; fi; done"
	fi
	if [ -n "$ROOT" ] || [ "$DRY_RUN" = 1 ]; then say "would run: $cmd"; return 0; fi
	say "running: $cmd"
	sh -c "$cmd"
}
KIT_CONFIG_DIR_ENV=/etc/ecr-credential-provider/nodeadm.env

if [ "$UNINSTALL" = 1 ]; then
	if [ ! -f "$MANIFEST" ]; then say "nothing to uninstall under ${ROOT:-/}"; exit 0; fi
	# newest first: files before the directories that hold them
	sed '1!G;h;$!d' "$MANIFEST" | while IFS="$(printf '\t')" read -r kind path; do
		case $kind in
		created)
			if [ "$DRY_RUN" = 1 ]; then say "would remove $path"; else rm -f "$(p "$path")" && say "removed $path"; fi
			;;
		modified)
			if [ "$DRY_RUN" = 1 ]; then say "would restore $path"; else mv -f "$STATE/backup$path" "$(p "$path")" && say "restored $path"; fi
			;;
		dir)
			if [ "$DRY_RUN" = 1 ]; then say "would remove $path/ if empty"; else rmdir "$(p "$path")" 2>/dev/null && say "removed $path/" || true; fi
			;;
		esac
	done
	if [ "$DRY_RUN" = 0 ]; then
		state_dirs=$(cat "$STATE/created-dirs" 2>/dev/null || true)
		rm -rf "$STATE"
		for d in $state_dirs; do rmdir "$(p "$d")" 2>/dev/null || true; done
	fi
	[ "$RESTART" = 1 ] && restart_kubelet
	exit 0
fi

# --- the binary ------------------------------------------------------------------------------------
sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
	else openssl dgst -sha256 "$1" | sed 's/.*= //'; fi
}
# verify_sum SUMS FILE NAME: SUMS must list NAME with FILE's hash.
verify_sum() {
	want=$(awk -v n="$3" '{ f = $2; sub(/^\*/, "", f); sub(/^\.\//, "", f) } f == n { print $1; exit }' "$1")
	[ -n "$want" ] || return 1
	[ "$want" = "$(sha256_of "$2")" ] || die 5 "checksum mismatch for $3 (SHA256SUMS says $want)"
	say "verified sha256 of $3"
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ecr-install.XXXXXX")
if [ -n "$RELEASE" ]; then
	[ -f "$RELEASE" ] || die 2 "release tarball not found: $RELEASE"
	verified=0
	beside="$(dirname "$RELEASE")/SHA256SUMS"
	if [ -f "$beside" ] && verify_sum "$beside" "$RELEASE" "$(basename "$RELEASE")"; then verified=1; fi
	mkdir "$TMP/release"
	tar -xzf "$RELEASE" -C "$TMP/release" 2>/dev/null || tar -xf "$RELEASE" -C "$TMP/release"
	BINARY=$(find "$TMP/release" -type f -name "$NAME" | head -n 1)
	[ -n "$BINARY" ] || die 2 "no $NAME executable inside $RELEASE"
	inner=$(find "$TMP/release" -type f -name SHA256SUMS | head -n 1)
	if [ -n "$inner" ]; then
		rel=${BINARY#"$(dirname "$inner")"/}
		if verify_sum "$inner" "$BINARY" "$rel" || verify_sum "$inner" "$BINARY" "$NAME"; then verified=1; fi
	fi
	[ "$verified" = 1 ] || die 5 "no SHA256SUMS entry for $(basename "$RELEASE") next to it or for $NAME inside it; refusing an unverified binary"
fi
[ -n "$BINARY" ] || die 2 "pass --binary PATH or --release TARBALL"
[ -f "$BINARY" ] || die 2 "binary not found: $BINARY"
[ -x "$BINARY" ] || die 2 "binary is not executable: $BINARY"

say "installing $NAME for $DISTRO under ${ROOT:-/}${DRY_RUN:+}$( [ "$DRY_RUN" = 1 ] && printf ' (dry run)')"

init_state

# 1. The executable. A new binary without new flags is harmless; the flags come last.
if [ "$DISTRO" = eks-al2023 ] && [ "$MODE" = in-place ] && [ ! -f "$(p "$BIN_DIR/$NAME")" ]; then
	die 2 "in-place mode needs the stock $BIN_DIR/$NAME (nodeadm refuses to run without it)"
fi
put_file "$BINARY" "$BIN_DIR/$NAME" 0755

# 2. The config, validated by doctor before it replaces anything.
validate() {
	newcfg=$1
	if [ "$DRY_RUN" = 1 ] || [ ! -x "$(p "$BIN_DIR/$NAME")" ]; then
		mkdir -p "$TMP/bin"
		ln -sf "$(cd "$(dirname "$BINARY")" && pwd)/$(basename "$BINARY")" "$TMP/bin/$NAME"
		set -- "$TMP/bin/$NAME" doctor --config "$newcfg" --bin-dir "$TMP/bin" --kubelet-flags none --offline
	else
		cp "$newcfg" "$(p "$(dirname "$CONFIG_FILE")")/.$(basename "$CONFIG_FILE").new"
		if [ -n "$ROOT" ]; then
			set -- "$(p "$BIN_DIR/$NAME")" doctor --root "$ROOT" --config "$(dirname "$CONFIG_FILE")/.$(basename "$CONFIG_FILE").new" --bin-dir "$BIN_DIR" --kubelet-flags none --offline
		else
			set -- "$BIN_DIR/$NAME" doctor --config "$(dirname "$CONFIG_FILE")/.$(basename "$CONFIG_FILE").new" --bin-dir "$BIN_DIR" --kubelet-flags none --offline
		fi
	fi
	# Talos runs the plugin in its kubelet image (Debian 12), never in the extension tree: check against that.
	if [ "$DISTRO" = talos ]; then set -- "$@" --runtime talos; fi
	if "$@" >"$TMP/doctor.out" 2>&1; then
		rc=0
	else
		rc=$?
	fi
	rm -f "$(p "$(dirname "$CONFIG_FILE")")/.$(basename "$CONFIG_FILE").new"
	if [ "$rc" != 0 ]; then
		grep '^fail' "$TMP/doctor.out" >&2 || cat "$TMP/doctor.out" >&2
		die 4 "refusing to install $CONFIG_FILE: the kubelet would not start with it (doctor exit $rc); nothing was changed there"
	fi
	say "validated new config with: $NAME doctor --offline"
}
if [ -n "$CONFIG_FILE" ]; then
	if [ -n "$CONFIG_SRC" ]; then cp "$CONFIG_SRC" "$TMP/config"; else gen_config >"$TMP/config"; fi
	if [ "$DRY_RUN" = 0 ]; then ensure_dir "$(dirname "$CONFIG_FILE")"; fi
	if [ -f "$(p "$CONFIG_FILE")" ] && cmp -s "$TMP/config" "$(p "$CONFIG_FILE")"; then :; else validate "$TMP/config"; fi
	put_file "$TMP/config" "$CONFIG_FILE" 0644
	case $PLUGIN_ARGS in *--roles-anywhere-private-key=*)
		key=$(printf '%s' "$PLUGIN_ARGS" | sed -n 's/^--roles-anywhere-private-key=//p' | tail -n 1)
		if [ -f "$(p "$key")" ] && [ "$(file_mode "$(p "$key")")" != 600 ] && [ "$(file_mode "$(p "$key")")" != 400 ]; then
			say "warning: $key is mode $(file_mode "$(p "$key")"); run: chmod 0600 $key"
		fi
		;;
	esac
fi

# 3. Wiring, per distro.
FLAGS="--image-credential-provider-config=$CONFIG_FILE --image-credential-provider-bin-dir=$BIN_DIR"

# edit_env_var FILE VAR: drop old credential-provider flags from VAR and append ours (to stdout).
edit_env_var() {
	src=$1
	[ -f "$src" ] || src=/dev/null
	awk -v var="$2" -v add="$FLAGS" '
		function clean(v,   n, i, out, t, skip) {
			n = split(v, t, /[ \t]+/); out = ""; skip = 0
			for (i = 1; i <= n; i++) {
				if (skip) { skip = 0; continue }
				if (t[i] == "") continue
				if (t[i] ~ /^--image-credential-provider-(config|bin-dir)=/) continue
				if (t[i] ~ /^--image-credential-provider-(config|bin-dir)$/) { skip = 1; continue }
				out = out (out == "" ? "" : " ") t[i]
			}
			return out
		}
		!done && $0 ~ "^[ \t]*" var "=" {
			line = $0; sub("^[ \t]*" var "=", "", line); q = ""
			if (line ~ /^".*"[ \t]*$/) { q = "\""; sub(/^"/, "", line); sub(/"[ \t]*$/, "", line) }
			v = clean(line)
			print var "=" q v (v == "" ? "" : " ") add q
			done = 1
			next
		}
		{ print }
		END { if (!done) print var "=" add }
	' "$src"
}

UNIT_DIRS="/etc/systemd/system /usr/lib/systemd/system /lib/systemd/system"
OUR_DROPIN=/etc/systemd/system/kubelet.service.d/90-ecr-credential-provider.conf
# kubelet_unit_text: the unit followed by its drop-ins (ours excluded), like `systemctl cat kubelet`.
kubelet_unit_text() {
	for d in $UNIT_DIRS; do
		if [ -f "$(p "$d/kubelet.service")" ]; then cat "$(p "$d/kubelet.service")"; break; fi
	done
	for d in $UNIT_DIRS; do
		for f in "$(p "$d/kubelet.service.d")"/*.conf; do
			[ -f "$f" ] || continue
			[ "$f" = "$(p "$OUR_DROPIN")" ] && continue
			cat "$f"
		done
	done
}
# env_hook: print "VAR FILE" when ExecStart expands VAR and an EnvironmentFile can carry it.
env_hook() {
	text=$(kubelet_unit_text)
	exec_line=$(printf '%s\n' "$text" | sed -n 's/^ExecStart=\(..*\)$/\1/p' | tail -n 1)
	for var in KUBELET_EXTRA_ARGS KUBELET_ARGS; do
		case $exec_line in *"\$$var"* | *"\${$var}"*) ;; *) continue ;; esac
		files=$(printf '%s\n' "$text" | sed -n 's/^EnvironmentFile=-\{0,1\}//p')
		chosen=
		for f in $files; do
			case $f in */kubeadm-flags.env) continue ;; esac
			if grep -qs "^$var=" "$(p "$f")"; then chosen=$f; fi
		done
		if [ -z "$chosen" ]; then
			for f in $files; do case $f in */kubeadm-flags.env) ;; *) chosen=$f ;; esac; done
		fi
		if [ -n "$chosen" ]; then say "$var $chosen"; return 0; fi
	done
	return 1
}
wire_env_or_dropin() {
	if hook=$(env_hook); then
		var=${hook%% *}
		file=${hook#* }
		edit_env_var "$(p "$file")" "$var" >"$TMP/env"
		put_file "$TMP/env" "$file" "$(file_mode "$(p "$file")" | sed 's/unknown/644/')"
		return 0
	fi
	exec_line=$(kubelet_unit_text | sed -n 's/^ExecStart=\(..*\)$/\1/p' | tail -n 1)
	[ -n "$exec_line" ] || die 2 "no kubelet.service with an ExecStart= under ${ROOT:-/}; use --distro kubeadm|k3s|... or write node-config/wiring/systemd/90-image-credential-provider.conf by hand"
	{
		say "# Written by ecr-credential-provider install.sh: the unit's ExecStart plus the two credential-provider flags (last wins)."
		say "[Service]"
		say "ExecStart="
		say "ExecStart=$exec_line $FLAGS"
	} >"$TMP/dropin"
	put_file "$TMP/dropin" "$OUR_DROPIN" 0644
}

case $DISTRO in
kubeadm)
	if ! env_hook >/dev/null; then
		if [ -f "$(p /etc/default/kubelet)" ] || [ -f "$(p /etc/debian_version)" ]; then envf=/etc/default/kubelet; else envf=/etc/sysconfig/kubelet; fi
		edit_env_var "$(p "$envf")" KUBELET_EXTRA_ARGS >"$TMP/env"
		put_file "$TMP/env" "$envf" 0644
	else
		wire_env_or_dropin
	fi
	;;
generic | kops) wire_env_or_dropin ;;
eks-al2023)
	if [ "$MODE" = own-dir ]; then
		{
			say "# Written by ecr-credential-provider install.sh. nodeadm appends these flags after its own, so they win."
			say "apiVersion: node.eks.aws/v1alpha1"
			say "kind: NodeConfig"
			say "spec:"
			say "  kubelet:"
			say "    flags:"
			say "      - --image-credential-provider-config=$CONFIG_FILE"
			say "      - --image-credential-provider-bin-dir=$BIN_DIR"
		} >"$TMP/nodeconfig"
		put_file "$TMP/nodeconfig" /etc/eks/nodeadm.d/50-ecr-credential-provider.yaml 0644
	fi
	;;
eks-hybrid)
	printf '%s\n' "# Written by ecr-credential-provider install.sh; source it before nodeadm init/upgrade." "ECR_CREDENTIAL_PROVIDER_BIN_PATH=$BIN_DIR/$NAME" >"$TMP/hybrid"
	put_file "$TMP/hybrid" "$KIT_CONFIG_DIR_ENV" 0644
	;;
talos)
	{
		say "version: v1alpha1"
		say "metadata:"
		say "  name: ecr-credential-provider-ts"
		say '  version: "0.1.0"'
		say "  author: ecr-credential-provider maintainers"
		say "  description: Kubelet image credential provider for Amazon ECR (TypeScript implementation)"
		say "  compatibility:"
		say "    talos:"
		say '      version: ">= v1.6.0"'
	} >"$TMP/manifest"
	put_file "$TMP/manifest" /manifest.yaml 0644
	{
		say "machine:"
		say "  kubelet:"
		say "    credentialProviderConfig:"
		sed -e '/^#/d' -e 's/^/      /' "$TMP/config"
	} >"$TMP/patch"
	put_file "$TMP/patch" /machine-config-patch.yaml 0644
	;;
esac

if [ "$CHANGES" = 0 ]; then
	say "nothing to do: $NAME is already installed and wired for $DISTRO"
else
	say "$CHANGES change(s) $( [ "$DRY_RUN" = 1 ] && printf 'planned' || printf 'made')"
	if [ "$RESTART" = 1 ]; then restart_kubelet; else say "restart the kubelet to apply (or pass --restart-kubelet)"; fi
fi
