#!/bin/sh
# Install ecr-credential-provider on a Kubernetes node and wire the kubelet to it (POSIX sh; idempotent).
#
# usage: install.sh [--distro NAME|auto] [--binary PATH | --release TARBALL] [--root DIR] [--dry-run]
#                   [--restart-kubelet] [--uninstall] [--force] [--mode own-dir|in-place] [--service-account]
#                   [--config-file PATH] [--print-config] [plugin flags...]
# distros: kubeadm eks-al2023 eks-hybrid k3s rke2 talos kops generic bottlerocket (auto = detect)
# Plugin flags (any flag of `ecr-credential-provider --help`, e.g. --registry-alias HOST=REGISTRY, --timeout 20s,
#   --roles-anywhere-*) are checked by the executable's own parser before anything changes, then copied into
#   the provider's args; each --registry-alias host is also added to matchImages.
# Every path is taken relative to --root (default /). Each change is printed; a second run prints "nothing to do".
# --uninstall removes what install added (our flags, our files) and keeps everything else.
# exit: 0 ok, 64 usage, 65 plugin flag or config refused, 66 input file missing, 67 checksum, 69 unsupported
#   here (distro or unit), 73 a file was edited since install (rerun with --force); anything else is a bug.
set -eu

# --- exit codes (documented in docs/node-kit.md; distinct from the plugin's 0-5) ---------------------
EX_USAGE=64
EX_INVALID=65
EX_NOINPUT=66
EX_UNVERIFIED=67
EX_UNSUPPORTED=69
EX_EDITED=73

PROG=install.sh
NAME=ecr-credential-provider
KIT_BIN_DIR=/opt/ecr-credential-provider/bin
KIT_CONFIG=/etc/ecr-credential-provider/credential-provider-config.yaml
KIT_NODEADM_ENV=/etc/ecr-credential-provider/nodeadm.env
STATE_DIR=/var/lib/ecr-credential-provider/install
# Where the .deb puts the executable (scripts/release.mjs DEB_BIN_DIR). When the package is installed,
# install.sh links the kit path to it instead of copying, so an apt upgrade updates what the kubelet runs.
DEB_EXE=/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/ecr-credential-provider
NL='
'
TAB=$(printf '\t')
TMP=

say() { printf '%s\n' "$*"; }
die() {
	code=$1
	shift
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit "$code"
}
p() { printf '%s%s' "$ROOT" "$1"; }
cleanup() { if [ -n "$TMP" ]; then rm -rf "$TMP"; fi; }

# kit_file REL: a file shipped next to this script (node-config/ or the release tarball's top level).
kit_file() {
	here=$(cd "$(dirname "$0")" && pwd)
	for c in "$here/$1" "$here/node-config/$1"; do
		if [ -f "$c" ]; then
			say "$c"
			return 0
		fi
	done
	die $EX_NOINPUT "the kit file $1 is missing next to $0 (run install.sh from node-config/ or the release tarball)"
}

# --- arguments ---------------------------------------------------------------------------------------
parse_args() {
	DISTRO=auto BINARY= RELEASE= ROOT= DRY_RUN=0 RESTART=0 UNINSTALL=0 PRINT_CONFIG=0 FORCE=0
	MODE=own-dir SERVICE_ACCOUNT=0 CONFIG_SRC= PLUGIN_RAW=
	while [ $# -gt 0 ]; do
		arg=$1
		shift
		case $arg in
		--distro | --binary | --release | --root | --mode | --config-file)
			[ $# -gt 0 ] || die $EX_USAGE "$arg needs a value"
			val=$1
			shift
			;;
		--distro=* | --binary=* | --release=* | --root=* | --mode=* | --config-file=*)
			val=${arg#*=}
			arg=${arg%%=*}
			;;
		esac
		case $arg in
		--distro) DISTRO=$val ;;
		--binary) BINARY=$val ;;
		--release) RELEASE=$val ;;
		--root) ROOT=${val%/} ;;
		--mode) MODE=$val ;;
		--config-file) CONFIG_SRC=$val ;;
		--dry-run) DRY_RUN=1 ;;
		--restart-kubelet) RESTART=1 ;;
		--uninstall) UNINSTALL=1 ;;
		--force) FORCE=1 ;;
		--print-config) PRINT_CONFIG=1 ;;
		--service-account) SERVICE_ACCOUNT=1 ;;
		-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
		--*)
			# A plugin flag: its value is the next word unless that is another flag (the executable decides).
			if [ "${arg#*=}" = "$arg" ] && [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
				arg="$arg=$1"
				shift
			fi
			PLUGIN_RAW="$PLUGIN_RAW$arg$NL"
			;;
		*) die $EX_USAGE "unexpected argument: $arg (see --help)" ;;
		esac
	done
	case $MODE in own-dir | in-place) ;; *) die $EX_USAGE "--mode must be own-dir or in-place" ;; esac
	[ -z "$BINARY" ] || [ -z "$RELEASE" ] || die $EX_USAGE "use --binary or --release, not both"
}

# --- the config: the shipped YAML, plus mirror hosts and plugin args ---------------------------------
gen_config() {
	if [ "$SERVICE_ACCOUNT" = 1 ]; then src=$(kit_file variants/service-account/credential-provider-config.yaml); else src=$(kit_file credential-provider-config.yaml); fi
	printf '%s' "$PLUGIN_ARGS" | awk -v src="$src" '
		{ args[++n] = $0 }
		END {
			while ((getline line < src) > 0) {
				if (line ~ /^    defaultCacheDuration:/ && !mirrors) {
					# Mirror hosts must be in matchImages too, or the kubelet never asks the plugin about them.
					for (i = 1; i <= n; i++) if (args[i] ~ /^--registry-alias=/) {
						h = substr(args[i], length("--registry-alias=") + 1); sub(/=.*/, "", h)
						printf "      - \"%s\"\n", h
					}
					mirrors = 1
				}
				print line
				if (line ~ /^    apiVersion: credentialprovider/ && n > 0) {
					print "    args:"
					for (i = 1; i <= n; i++) printf "      - \"%s\"\n", args[i]
				}
			}
		}'
}

# --- plugin flags: the executable's own parser decides ----------------------------------------------
validate_plugin_args() {
	PLUGIN_ARGS=
	[ -n "$PLUGIN_RAW" ] || return 0
	set --
	while IFS= read -r a; do if [ -n "$a" ]; then set -- "$@" "$a"; fi; done <<EOF
$PLUGIN_RAW
EOF
	# Parsing stops at --version after the flags before it went through readConfig, as in a kubelet run.
	if ! out=$(env -i PATH="${PATH:-/usr/bin:/bin}" "$BINARY" "$@" --version 2>&1 >/dev/null); then
		die $EX_INVALID "plugin flags refused by $NAME: $(printf '%s' "$out" | head -n 1); nothing was changed"
	fi
	for a in "$@"; do
		case $a in
		*'"'* | *'\'*) die $EX_INVALID "plugin flag may not contain quotes or backslashes: $a; nothing was changed" ;;
		esac
		PLUGIN_ARGS="$PLUGIN_ARGS$a$NL"
	done
}

# --- distro detection --------------------------------------------------------------------------------
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

# --- manifest, backups, atomic writes -----------------------------------------------------------------
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
# put_link TARGET DEST: make DEST (a node path) a symbolic link to TARGET atomically, unless it already is.
put_link() {
	link=$(p "$2")
	if [ -L "$link" ] && [ "$(readlink "$link")" = "$1" ]; then return 0; fi
	CHANGES=$((CHANGES + 1))
	if [ "$DRY_RUN" = 1 ]; then say "would link $2 -> $1"; return 0; fi
	ensure_dir "$(dirname "$2")"
	if ! in_manifest "$2"; then
		if [ -e "$link" ] || [ -L "$link" ]; then
			mkdir -p "$STATE/backup$(dirname "$2")"
			cp -P -p "$link" "$STATE/backup$2"
			record modified "$2"
		else
			record created "$2"
		fi
	fi
	ln -sfn "$1" "$link.ecr-tmp.$$"
	mv -f "$link.ecr-tmp.$$" "$link"
	say "linked $2 -> $1"
}
# packaged: the ecr-credential-provider .deb is installed under the root (dpkg knows it, its executable is there).
packaged() { [ -x "$(p "$DEB_EXE")" ] && [ -f "$(p "/var/lib/dpkg/info/$NAME.list")" ]; }

# --- the binary --------------------------------------------------------------------------------------
sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
	else openssl dgst -sha256 "$1" | sed 's/.*= //'; fi
}
# verify_sum SUMS FILE NAME: SUMS must list NAME with FILE's hash.
verify_sum() {
	want=$(awk -v n="$3" '{ f = $2; sub(/^\*/, "", f); sub(/^\.\//, "", f) } f == n { print $1; exit }' "$1")
	[ -n "$want" ] || return 1
	[ "$want" = "$(sha256_of "$2")" ] || die $EX_UNVERIFIED "checksum mismatch for $3 (SHA256SUMS says $want)"
	say "verified sha256 of $3"
}
resolve_binary() {
	if [ -n "$RELEASE" ]; then
		[ -f "$RELEASE" ] || die $EX_NOINPUT "release tarball not found: $RELEASE"
		verified=0
		beside="$(dirname "$RELEASE")/SHA256SUMS"
		if [ -f "$beside" ] && verify_sum "$beside" "$RELEASE" "$(basename "$RELEASE")"; then verified=1; fi
		mkdir "$TMP/release"
		tar -xzf "$RELEASE" -C "$TMP/release" 2>/dev/null || tar -xf "$RELEASE" -C "$TMP/release"
		BINARY=$(find "$TMP/release" -type f -name "$NAME" | head -n 1)
		[ -n "$BINARY" ] || die $EX_NOINPUT "no $NAME executable inside $RELEASE"
		inner=$(find "$TMP/release" -type f -name SHA256SUMS | head -n 1)
		if [ -n "$inner" ]; then
			rel=${BINARY#"$(dirname "$inner")"/}
			if verify_sum "$inner" "$BINARY" "$rel" || verify_sum "$inner" "$BINARY" "$NAME"; then verified=1; fi
		fi
		[ "$verified" = 1 ] || die $EX_UNVERIFIED "no SHA256SUMS entry for $(basename "$RELEASE") next to it or for $NAME inside it; refusing an unverified binary"
	fi
	[ -n "$BINARY" ] || die $EX_USAGE "pass --binary PATH or --release TARBALL"
	[ -f "$BINARY" ] || die $EX_NOINPUT "binary not found: $BINARY"
	[ -x "$BINARY" ] || die $EX_NOINPUT "binary is not executable: $BINARY"
}

# --- the config, validated by doctor before it replaces anything -----------------------------------
validate_config() {
	mkdir -p "$TMP/bin"
	ln -sf "$(cd "$(dirname "$BINARY")" && pwd)/$(basename "$BINARY")" "$TMP/bin/$NAME"
	set -- doctor --config "$1" --bin-dir "$TMP/bin" --kubelet-flags none --offline
	# Talos runs the plugin in its kubelet image (Debian 12), not on this machine or in the extension tree.
	if [ "$DISTRO" = talos ]; then set -- "$@" --runtime talos; fi
	if "$TMP/bin/$NAME" "$@" >"$TMP/doctor.out" 2>&1; then
		say "validated new config with: $NAME doctor --offline"
		return 0
	else
		rc=$?
	fi
	grep '^fail' "$TMP/doctor.out" >&2 || cat "$TMP/doctor.out" >&2
	die $EX_INVALID "refusing to install $CONFIG_FILE: the kubelet would not start with it (doctor exit $rc); nothing was changed"
}
# prepare_config: the new config in $TMP/config, validated; nothing on the node changes here.
prepare_config() {
	[ -n "$CONFIG_FILE" ] || return 0
	if [ -n "$CONFIG_SRC" ]; then
		[ -f "$CONFIG_SRC" ] || die $EX_NOINPUT "config file not found: $CONFIG_SRC"
		cp "$CONFIG_SRC" "$TMP/config"
	else
		gen_config >"$TMP/config"
	fi
	if [ -f "$(p "$CONFIG_FILE")" ] && cmp -s "$TMP/config" "$(p "$CONFIG_FILE")"; then return 0; fi
	validate_config "$TMP/config"
}
install_config() {
	[ -n "$CONFIG_FILE" ] || return 0
	put_file "$TMP/config" "$CONFIG_FILE" 0644
	case $PLUGIN_ARGS in *--roles-anywhere-private-key=*)
		key=$(printf '%s' "$PLUGIN_ARGS" | sed -n 's/^--roles-anywhere-private-key=//p' | tail -n 1)
		if [ -f "$(p "$key")" ] && [ "$(file_mode "$(p "$key")")" != 600 ] && [ "$(file_mode "$(p "$key")")" != 400 ]; then
			say "warning: $key is mode $(file_mode "$(p "$key")"); run: chmod 0600 $key"
		fi
		;;
	esac
}

# --- systemd wiring helpers ------------------------------------------------------------------------------
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
	[ -n "$exec_line" ] || die $EX_UNSUPPORTED "no kubelet.service with an ExecStart= under ${ROOT:-/}; use --distro kubeadm|k3s|... or write node-config/wiring/systemd/90-image-credential-provider.conf by hand"
	{
		say "# Written by ecr-credential-provider install.sh: the unit's ExecStart plus the two credential-provider flags (last wins)."
		say "[Service]"
		say "ExecStart="
		say "ExecStart=$exec_line $FLAGS"
	} >"$TMP/dropin"
	put_file "$TMP/dropin" "$OUR_DROPIN" 0644
}
restart_units() {
	cmd="systemctl daemon-reload && for u in $*; do if systemctl is-active --quiet \$u; then systemctl restart \$u; fi; done"
	run_or_show "$cmd"
}
run_or_show() {
	if [ -n "$ROOT" ] || [ "$DRY_RUN" = 1 ]; then say "would run: $1"; return 0; fi
	say "running: $1"
	sh -c "$1"
}

# --- one function per distribution: distro_NAME paths|wire|restart -----------------------------------
# paths sets BIN_DIR and CONFIG_FILE (empty: the distro writes the kubelet config itself); wire writes
# whatever makes the kubelet use them; restart applies it.
distro_kubeadm() {
	case $1 in
	paths) ;;
	wire)
		if env_hook >/dev/null; then
			wire_env_or_dropin
		else
			if [ -f "$(p /etc/default/kubelet)" ] || [ -f "$(p /etc/debian_version)" ]; then envf=/etc/default/kubelet; else envf=/etc/sysconfig/kubelet; fi
			edit_env_var "$(p "$envf")" KUBELET_EXTRA_ARGS >"$TMP/env"
			put_file "$TMP/env" "$envf" 0644
		fi
		;;
	restart) restart_units kubelet ;;
	esac
}
distro_generic() {
	case $1 in
	paths) ;;
	wire) wire_env_or_dropin ;;
	restart) restart_units kubelet ;;
	esac
}
distro_kops() { distro_generic "$@"; }
distro_eks_al2023() {
	case $1 in
	paths)
		if [ "$MODE" = in-place ]; then
			BIN_DIR=/etc/eks/image-credential-provider
			CONFIG_FILE=
		fi
		;;
	precheck)
		if [ "$MODE" = in-place ] && [ ! -f "$(p "$BIN_DIR/$NAME")" ]; then
			die $EX_UNSUPPORTED "in-place mode needs the stock $BIN_DIR/$NAME (nodeadm refuses to run without it)"
		fi
		;;
	wire)
		[ "$MODE" = own-dir ] || return 0
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
		;;
	restart)
		if [ "$MODE" = own-dir ]; then
			run_or_show "nodeadm init --config-source imds://user-data --config-source file:///etc/eks/nodeadm.d/"
		else
			restart_units kubelet
		fi
		;;
	esac
}
distro_eks_hybrid() {
	case $1 in
	paths) CONFIG_FILE= ;;
	wire)
		printf '%s\n' "# Written by ecr-credential-provider install.sh; source it before nodeadm init/upgrade." "ECR_CREDENTIAL_PROVIDER_BIN_PATH=$BIN_DIR/$NAME" >"$TMP/hybrid"
		put_file "$TMP/hybrid" "$KIT_NODEADM_ENV" 0644
		;;
	restart) say "eks-hybrid: run: set -a; . $KIT_NODEADM_ENV; set +a; nodeadm init -c file://<nodeConfig.yaml>" ;;
	esac
}
distro_k3s() {
	case $1 in
	paths)
		BIN_DIR=/var/lib/rancher/credentialprovider/bin
		CONFIG_FILE=/var/lib/rancher/credentialprovider/config.yaml
		;;
	wire) ;; # k3s wires both default paths by itself when they exist at start-up
	restart) restart_units k3s k3s-agent ;;
	esac
}
distro_rke2() {
	case $1 in
	restart) restart_units rke2-server rke2-agent ;;
	*) distro_k3s "$1" ;;
	esac
}
distro_talos() {
	case $1 in
	paths)
		[ -n "$ROOT" ] || die $EX_USAGE "--distro talos builds a system-extension tree; pass --root <output dir>"
		BIN_DIR=/rootfs/usr/local/lib/kubelet/credentialproviders
		CONFIG_FILE=/credential-provider-config.yaml
		;;
	wire)
		version=$("$BINARY" --version 2>/dev/null | sed -n 's/^ecr-credential-provider //p')
		{
			say "version: v1alpha1"
			say "metadata:"
			say "  name: ecr-credential-provider-ts"
			say "  version: \"${version:-unknown}\""
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
	restart) say "talos: build the installer image with this extension, then talosctl upgrade --image <installer>" ;;
	esac
}
distro_bottlerocket() {
	case $1 in
	paths)
		say "Bottlerocket: this plugin cannot be installed (read-only root; no supported way to add a provider binary)."
		say "Configure the stock provider instead, e.g. in user data:"
		say "  [settings.kubernetes.credential-providers.ecr-credential-provider]"
		say "  enabled = true"
		say '  cache-duration = "12h"'
		say "See node-config/wiring/bottlerocket/user-data.toml."
		exit $EX_UNSUPPORTED
		;;
	esac
}
# distro ACTION: run ACTION for $DISTRO.
distro() {
	fn=distro_$(printf '%s' "$DISTRO" | tr - _)
	"$fn" "$1"
}

# --- uninstall ---------------------------------------------------------------------------------------
uninstall() {
	if [ ! -f "$MANIFEST" ]; then say "nothing to uninstall under ${ROOT:-/}"; exit 0; fi
	# newest first: files before the directories that hold them
	sed '1!G;h;$!d' "$MANIFEST" | while IFS="$TAB" read -r kind path; do
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
	if [ "$RESTART" = 1 ]; then distro restart; fi
	exit 0
}

# --- main --------------------------------------------------------------------------------------------
main() {
	parse_args "$@"
	trap cleanup EXIT INT TERM
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/ecr-install.XXXXXX")
	PLUGIN_ARGS=
	if [ "$PRINT_CONFIG" = 1 ]; then
		[ -z "$PLUGIN_RAW" ] || { [ -n "$BINARY" ] || [ -n "$RELEASE" ]; } || die $EX_USAGE "plugin flags need --binary or --release (the executable checks them)"
		if [ -n "$PLUGIN_RAW" ]; then resolve_binary && validate_plugin_args; fi
		gen_config
		exit 0
	fi
	if [ "$DISTRO" = auto ]; then
		DISTRO=$(detect_distro)
		[ "$DISTRO" != unknown ] || die $EX_USAGE "cannot detect the distribution under '${ROOT:-/}'; pass --distro"
		say "detected distro: $DISTRO"
	fi
	case $DISTRO in
	kubeadm | eks-al2023 | eks-hybrid | k3s | rke2 | talos | kops | generic | bottlerocket) ;;
	*) die $EX_USAGE "unknown distro '$DISTRO'" ;;
	esac
	BIN_DIR=$KIT_BIN_DIR
	CONFIG_FILE=$KIT_CONFIG
	distro paths
	STATE=$(p "$STATE_DIR")
	MANIFEST=$STATE/manifest
	CHANGES=0
	[ "$UNINSTALL" = 0 ] || uninstall

	if [ -z "$CONFIG_FILE" ] && { [ -n "$PLUGIN_RAW" ] || [ "$SERVICE_ACCOUNT" = 1 ] || [ -n "$CONFIG_SRC" ]; }; then
		die $EX_USAGE "$DISTRO ($MODE): nodeadm writes the kubelet config, so plugin flags, --service-account and --config-file cannot be applied; use --mode own-dir (eks-al2023)"
	fi
	PACKAGED=0
	if packaged; then
		[ -z "$BINARY" ] && [ -z "$RELEASE" ] || die $EX_USAGE "the $NAME package is installed ($DEB_EXE) and apt upgrades only that: run install.sh without --binary/--release to use it, or remove the package first"
		BINARY=$(p "$DEB_EXE")
		PACKAGED=1
		say "using the packaged executable $DEB_EXE (linked, so apt upgrades reach the kubelet)"
	fi
	resolve_binary
	# Everything is checked before the first change: flags, config, the distro's preconditions.
	validate_plugin_args
	prepare_config
	distro precheck
	FLAGS="--image-credential-provider-config=$CONFIG_FILE --image-credential-provider-bin-dir=$BIN_DIR"

	say "installing $NAME for $DISTRO under ${ROOT:-/}$([ "$DRY_RUN" = 1 ] && printf ' (dry run)')"
	init_state
	# The executable first: a new binary without new flags is harmless; the flags come last.
	if [ "$PACKAGED" = 1 ]; then put_link "$DEB_EXE" "$BIN_DIR/$NAME"; else put_file "$BINARY" "$BIN_DIR/$NAME" 0755; fi
	install_config
	distro wire

	if [ "$CHANGES" = 0 ]; then
		say "nothing to do: $NAME is already installed and wired for $DISTRO"
	else
		say "$CHANGES change(s) $([ "$DRY_RUN" = 1 ] && printf 'planned' || printf 'made')"
		if [ "$RESTART" = 1 ]; then distro restart; else say "restart the kubelet to apply (or pass --restart-kubelet)"; fi
	fi
}

main "$@"
