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
# The flags go into the provider's args as --name=value; `doctor` then runs the generated config's args
# through the plugin's own parser and alias checks (check plugin-args) before anything is written.
collect_plugin_args() {
	PLUGIN_ARGS=
	while IFS= read -r a; do
		[ -n "$a" ] || continue
		case $a in
		*'"'* | *'\'*) die $EX_INVALID "plugin flag may not contain quotes or backslashes: $a; nothing was changed" ;;
		esac
		PLUGIN_ARGS="$PLUGIN_ARGS$a$NL"
	done <<EOF
$PLUGIN_RAW
EOF
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

# --- manifest, plan, atomic writes -------------------------------------------------------------------
# The manifest (state dir) lists what install added, one line each, TAB-separated:
#   dir PATH                 a directory install created (removed on --uninstall when empty)
#   created PATH SHA256      a file install created; removed on --uninstall while it still has that hash
#   modified PATH SHA256     a file install replaced (backup in the state dir); restored likewise
#   env PATH VAR HOW         our two flags appended to VAR in PATH; HOW: edited | added-line | created-file
# A run first builds every new file in $TMP and a plan ($TMP/plan), checks it, and only then writes.
in_manifest() { [ -f "$MANIFEST" ] && awk -F "$TAB" -v k="$1" -v f="$2" '$1 == k && $2 == f { found = 1 } END { exit !found }' "$MANIFEST"; }
manifest_field() {
	[ -f "$MANIFEST" ] || return 0
	awk -F "$TAB" -v f="$1" -v n="$2" '$2 == f && $1 != "dir" { v = $n } END { print v }' "$MANIFEST"
}
# record_line KIND PATH [FIELDS...]: replace PATH's KIND line in the manifest.
record_line() {
	[ "$DRY_RUN" = 1 ] && return 0
	kind=$1
	path=$2
	shift 2
	awk -F "$TAB" -v k="$kind" -v f="$path" '!($1 == k && $2 == f)' "$MANIFEST" >"$MANIFEST.new"
	line="$kind$TAB$path"
	for x in "$@"; do line="$line$TAB$x"; done
	printf '%s\n' "$line" >>"$MANIFEST.new"
	mv -f "$MANIFEST.new" "$MANIFEST"
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
	in_manifest dir "$1" || printf 'dir%s%s\n' "$TAB" "$1" >>"$MANIFEST"
	say "created $1/"
}
file_mode() { stat -c %a "$1" 2>/dev/null || echo unknown; }
same_file() { [ -f "$2" ] && [ ! -L "$2" ] && cmp -s "$1" "$2" && [ "$(file_mode "$2")" = "${3#0}" ]; }
# fingerprint PATH: what the manifest records for a file: its sha256, or link:TARGET for a symbolic
# link (the packaged executable behind it changes with every apt upgrade; the link does not).
fingerprint() { if [ -L "$1" ]; then printf 'link:%s\n' "$(readlink "$1")"; else sha256_of "$1"; fi; }
# plan KIND DEST SRC MODE [VAR HOW]: queue a write. KIND: bin (replaced, backed up), link (DEST becomes a
# symbolic link to the node path SRC, backed up like bin), file (ours: never overwrites an operator's
# file without --force), env (an edit of a file that is not ours).
plan() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" "${6:-}" >>"$TMP/plan"; }
# check_plan: refuse before any write when one of our files was edited since install (or was never ours).
check_plan() {
	[ -f "$TMP/plan" ] || return 0
	while IFS="$TAB" read -r kind dest src mode var how; do
		[ "$kind" = file ] || continue
		target=$(p "$dest")
		[ -f "$target" ] || continue
		cmp -s "$src" "$target" && continue
		was=$(manifest_field "$dest" 3)
		if [ -n "$was" ] && [ "$was" = "$(sha256_of "$target")" ]; then continue; fi
		[ "$FORCE" = 1 ] && continue
		if [ -n "$was" ]; then why="was edited after install.sh wrote it"; else why="exists and was not written by install.sh"; fi
		# Only the credential provider config can be printed for comparison; other files (drop-ins, manifests) are named.
		if [ "$dest" = "$CONFIG_FILE" ]; then compare="compare with: $(basename "$0") --print-config; "; else compare=; fi
		die $EX_EDITED "$dest $why; kept it and changed nothing (${compare}pass --force to replace it with install.sh's version, a backup is kept)"
	done <"$TMP/plan"
}
apply_plan() {
	[ -f "$TMP/plan" ] || return 0
	while IFS="$TAB" read -r kind dest src mode var how; do
		target=$(p "$dest")
		if [ "$mode" = link ]; then
			if [ -L "$target" ] && [ "$(readlink "$target")" = "$src" ]; then continue; fi
		elif same_file "$src" "$target" "$mode"; then
			continue
		fi
		CHANGES=$((CHANGES + 1))
		if [ "$DRY_RUN" = 1 ]; then
			if [ "$mode" = link ]; then say "would link $dest -> $src"; else say "would write $dest (mode $mode)"; fi
			continue
		fi
		ensure_dir "$(dirname "$dest")"
		case $kind in
		env)
			in_manifest env "$dest" || record_line env "$dest" "$var" "$how" "$CONFIG_FILE" "$BIN_DIR"
			;;
		*)
			if in_manifest created "$dest"; then
				kind=created
			elif in_manifest modified "$dest" || [ -e "$target" ]; then
				if ! in_manifest modified "$dest"; then
					mkdir -p "$STATE/backup$(dirname "$dest")"
					cp -P -p "$target" "$STATE/backup$dest"
				fi
				kind=modified
			else
				kind=created
			fi
			if [ "$mode" = link ]; then sum="link:$src"; else sum=$(sha256_of "$src"); fi
			record_line "$kind" "$dest" "$sum"
			;;
		esac
		tmp="$target.ecr-tmp.$$"
		if [ "$mode" = link ]; then
			ln -sfn "$src" "$tmp"
			mv -f "$tmp" "$target"
			say "linked $dest -> $src"
			continue
		fi
		cp "$src" "$tmp"
		chmod "$mode" "$tmp"
		mv -f "$tmp" "$target"
		say "wrote $dest (mode $mode)"
	done <"$TMP/plan"
}

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
# validate_config FILE: refuse a config (args included) that the kubelet or the plugin would refuse.
# Checks of node state (the key file, the cache dir, this host's C runtime) only warn here: the files
# may come later, and the node may not be this host.
validate_config() {
	mkdir -p "$TMP/bin"
	ln -sf "$(cd "$(dirname "$BINARY")" && pwd)/$(basename "$BINARY")" "$TMP/bin/$NAME"
	set -- doctor --config "$1" --bin-dir "$TMP/bin" --kubelet-flags none --offline
	# Talos runs the plugin in its kubelet image (Debian 12), not on this machine or in the extension tree.
	if [ "$DISTRO" = talos ]; then set -- "$@" --runtime talos; fi
	rc=0
	"$TMP/bin/$NAME" "$@" >"$TMP/doctor.out" 2>&1 || rc=$?
	grep '^fail' "$TMP/doctor.out" | sed 's/^fail[ 	]*//' >"$TMP/doctor.fail" || true
	why=$(grep -v -e '^roles-anywhere-key:' -e '^cache-dir:' -e '^runtime:' "$TMP/doctor.fail" | head -n 1)
	if [ -n "$why" ] || { [ "$rc" != 0 ] && [ ! -s "$TMP/doctor.fail" ]; }; then
		die $EX_INVALID "refusing ${CONFIG_FILE:-the config}: ${why:-doctor exit $rc: $(head -n 1 "$TMP/doctor.out")}; nothing was changed"
	fi
	while IFS= read -r w; do say "warning: $w"; done <"$TMP/doctor.fail"
	say "validated new config with: $NAME doctor --offline"
}
# plan_config: the new config in $TMP/config, validated, queued.
plan_config() {
	[ -n "$CONFIG_FILE" ] || return 0
	if [ -n "$CONFIG_SRC" ]; then
		[ -f "$CONFIG_SRC" ] || die $EX_NOINPUT "config file not found: $CONFIG_SRC"
		cp "$CONFIG_SRC" "$TMP/config"
	else
		gen_config >"$TMP/config"
	fi
	if ! cmp -s "$TMP/config" "$(p "$CONFIG_FILE")" 2>/dev/null; then validate_config "$TMP/config"; fi
	plan file "$CONFIG_FILE" "$TMP/config" 0644
}
warn_key_mode() {
	case $PLUGIN_ARGS in *--roles-anywhere-private-key=*)
		key=$(printf '%s' "$PLUGIN_ARGS" | sed -n 's/^--roles-anywhere-private-key=//p' | tail -n 1)
		if [ -f "$(p "$key")" ] && [ "$(file_mode "$(p "$key")")" != 600 ] && [ "$(file_mode "$(p "$key")")" != 400 ]; then
			say "warning: $key is mode $(file_mode "$(p "$key")"); run: chmod 0600 $key"
		fi
		;;
	esac
}

# --- systemd: the unit as systemd reads it ---------------------------------------------------------
# Search path, highest priority first (systemd.unit(5); /lib only on split-usr systems, where it is a
# directory of its own; on merged /usr it is /usr/lib and is read once).
UNIT_PATH="/etc/systemd/system.control /run/systemd/system.control /run/systemd/transient /run/systemd/generator.early
/etc/systemd/system /etc/systemd/system.attached /run/systemd/system /run/systemd/system.attached /run/systemd/generator
/usr/local/lib/systemd/system /usr/lib/systemd/system /lib/systemd/system /run/systemd/generator.late"
OUR_DROPIN_NAME=zz-ecr-credential-provider.conf
KUBELET_UNIT=kubelet.service

# unit_dirs: the search path, each real directory once.
unit_dirs() {
	seen=
	for d in $UNIT_PATH; do
		[ -d "$(p "$d")" ] || continue
		real=$(cd "$(p "$d")" && pwd -P)
		case " $seen " in *" $real "*) continue ;; esac
		seen="$seen $real"
		say "$d"
	done
}
# masked FILE: an empty file or a link to /dev/null masks a unit or a drop-in of that name.
masked() { [ ! -s "$1" ] || [ "$(readlink "$1" 2>/dev/null)" = /dev/null ]; }
# unit_files UNIT: the fragment, then the drop-ins in the order systemd applies them (one per file
# name, the highest directory winning; sorted by name whatever the directory; masked ones left out).
# Ours is left out too: the result is what the kubelet runs without this kit.
unit_files() {
	dirs=$(unit_dirs)
	frag=
	for d in $dirs; do
		if [ -e "$(p "$d/$1")" ] || [ -L "$(p "$d/$1")" ]; then frag=$d/$1; break; fi
	done
	[ -n "$frag" ] || return 0
	masked "$(p "$frag")" && die $EX_UNSUPPORTED "$1 is masked ($frag); unmask it first"
	say "$frag"
	# unit.d in every directory, then the prefix dirs of a dashed name (rke2-.service.d), then service.d.
	base=${1%.*}
	type=${1##*.}
	cands=
	for d in $dirs; do
		cands="$cands $d/$1.d"
		pre=$base
		while case $pre in *-?*) true ;; *) false ;; esac do
			pre=${pre%-*}
			cands="$cands $d/$pre-.$type.d"
		done
	done
	for d in $dirs; do cands="$cands $d/$type.d"; done
	for dd in $cands; do
		for f in "$(p "$dd")"/*.conf; do
			[ -e "$f" ] || [ -L "$f" ] || continue
			printf '%s\t%s\n' "${f##*/}" "$dd/${f##*/}"
		done
	done | awk -F "$TAB" '!seen[$1]++' | LC_ALL=C sort -t "$TAB" -k1,1 | while IFS="$TAB" read -r n f; do
		[ "$n" = "$OUR_DROPIN_NAME" ] && continue
		masked "$(p "$f")" && continue
		say "$f"
	done
}
# unit_state UNIT: read the unit like systemd's parser (continuations, comments, sections, resets) and print
#   exec FILE RAW         the effective ExecStart (raw, continuation lines joined) and the file that set it
#   execs N               how many commands ExecStart= holds after the last reset
#   envfile PATH          each EnvironmentFile= after the last reset, in order (specifiers %n %N %p %i %% done)
#   env ASSIGNMENTS       each Environment= after the last reset
#   execafter FILE        a drop-in sorting after ours that sets ExecStart= (ours would not win)
unit_state() {
	files=$(unit_files "$1")
	[ -n "$files" ] || return 0
	printf '%s\n' "$files" | while IFS= read -r f; do printf '%s\t%s\n' "$f" "$(p "$f")"; done | LC_ALL=C awk -F "$TAB" -v unit="$1" -v ours="$OUR_DROPIN_NAME" '
		function spec(s,   out, c) {
			out = ""
			while ((i = index(s, "%")) > 0) {
				c = substr(s, i + 1, 1); out = out substr(s, 1, i - 1)
				if (c == "n") out = out unit; else if (c == "N" || c == "p") { u = unit; sub(/\.[^.]*$/, "", u); out = out u }
				else if (c == "i") out = out ""; else if (c == "%") out = out "%"; else out = out "%" c
				s = substr(s, i + 2)
			}
			return out s
		}
		function setting(file, key, val,   name) {
			if (section != "Service") return
			name = file; sub(/.*\//, "", name)
			if (key == "ExecStart") {
				if (name > ours && file != first) after = after "execafter\t" file "\n"
				if (val == "") { nexec = 0; return }
				nexec++; execfile = file; execraw = val
			} else if (key == "EnvironmentFile") {
				if (val == "") { nef = 0; return }
				ef[++nef] = spec(val)
			} else if (key == "Environment") {
				if (val == "") { nen = 0; return }
				en[++nen] = val
			}
		}
		{
			file = $1; path = $2; section = ""; cont = ""
			if (first == "") first = file
			while ((getline line < path) > 0) {
				l = line; sub(/^[ \t]+/, "", l)
				if (l ~ /^[#;]/) continue
				p = cont line
				# an unescaped trailing backslash joins the next line (and becomes a space)
				n = length(p); bs = 0
				while (n > 0 && substr(p, n, 1) == "\\") { bs++; n-- }
				if (bs % 2 == 1) { cont = substr(p, 1, length(p) - 1) " "; continue }
				cont = ""
				sub(/^[ \t]+/, "", p); sub(/[ \t]+$/, "", p)
				if (p == "") continue
				if (p ~ /^\[.*\]$/) { section = substr(p, 2, length(p) - 2); continue }
				eq = index(p, "="); if (eq == 0) continue
				key = substr(p, 1, eq - 1); sub(/[ \t]+$/, "", key)
				val = substr(p, eq + 1); sub(/^[ \t]+/, "", val)
				setting(file, key, val)
			}
			if (cont != "") { p = cont; sub(/^[ \t]+/, "", p); sub(/[ \t]+$/, "", p); eq = index(p, "="); if (eq) { key = substr(p, 1, eq - 1); val = substr(p, eq + 1); sub(/^[ \t]+/, "", val); sub(/[ \t]+$/, "", key); setting(file, key, val) } }
			close(path)
		}
		END {
			if (nexec > 0) printf "exec\t%s\t%s\n", execfile, execraw
			printf "execs\t%d\n", nexec
			for (i = 1; i <= nef; i++) printf "envfile\t%s\n", ef[i]
			for (i = 1; i <= nen; i++) printf "env\t%s\n", en[i]
			printf "%s", after
		}'
}
# exec_words RAW: the command's words as systemd splits them (quotes removed, C escapes kept as written),
# one per line, with a first line "prefix<TAB>CHARS". Enough to see the executable and the last word.
exec_words() {
	printf '%s\n' "$1" | awk '
		{
			s = $0; n = 0; w = ""; inw = 0; q = ""
			for (i = 1; i <= length(s); i++) {
				c = substr(s, i, 1)
				if (q != "") { if (c == q) q = ""; else if (c == "\\" && q == "\"") { w = w c substr(s, i + 1, 1); i++ } else w = w c; continue }
				if (c == " " || c == "\t") { if (inw) { word[++n] = w; raw[n] = r; w = ""; r = ""; inw = 0 } continue }
				inw = 1; r = r c
				if (c == "\"" || c == "\047") { q = c; continue }
				if (c == "\\") { w = w c substr(s, i + 1, 1); i++; continue }
				w = w c
			}
			if (inw) { word[++n] = w; raw[n] = r }
			pre = word[1]; match(pre, /^[-@:+!|]*/); prefix = substr(pre, 1, RLENGTH); word[1] = substr(pre, RLENGTH + 1)
			if (word[1] == "" && n > 1) { for (i = 1; i < n; i++) word[i] = word[i + 1]; n-- }
			printf "prefix\t%s\n", prefix
			for (i = 1; i <= n; i++) print word[i]
		}'
}
# kubelet_exec: sets EXEC_RAW, EXEC_FILE, EXEC_WORDS, ENV_FILES, ENV_ASSIGN for $KUBELET_UNIT.
kubelet_exec() {
	state=$(unit_state "$KUBELET_UNIT")
	[ -n "$state" ] || die $EX_UNSUPPORTED "no $KUBELET_UNIT under ${ROOT:-/}; the kubelet is not a systemd unit here: use the --distro for this node (k3s, rke2, ...)"
	EXEC_RAW=$(printf '%s\n' "$state" | awk -F "$TAB" '$1 == "exec" { sub(/^exec\t[^\t]*\t/, ""); print }')
	EXEC_FILE=$(printf '%s\n' "$state" | awk -F "$TAB" '$1 == "exec" { print $2 }')
	execs=$(printf '%s\n' "$state" | awk -F "$TAB" '$1 == "execs" { print $2 }')
	ENV_FILES=$(printf '%s\n' "$state" | awk -F "$TAB" '$1 == "envfile" { print $2 }')
	ENV_ASSIGN=$(printf '%s\n' "$state" | awk -F "$TAB" '$1 == "env" { print $2 }')
	EXEC_AFTER=$(printf '%s\n' "$state" | awk -F "$TAB" '$1 == "execafter" { print $2 }')
	[ "$execs" -gt 0 ] || die $EX_UNSUPPORTED "$KUBELET_UNIT has no ExecStart= (systemd would refuse it)"
	[ "$execs" -eq 1 ] || die $EX_UNSUPPORTED "$KUBELET_UNIT has $execs ExecStart= commands after the last reset (systemd refuses that unit: bad-setting); fix the unit first"
	EXEC_WORDS=$(exec_words "$EXEC_RAW")
	prefix=$(printf '%s\n' "$EXEC_WORDS" | sed -n '1s/^prefix\t//p')
	exe=$(printf '%s\n' "$EXEC_WORDS" | sed -n 2p)
	printf '%s\n' "$EXEC_WORDS" | sed 1d | grep -qx ';' && die $EX_UNSUPPORTED "the kubelet's ExecStart= (in $EXEC_FILE) runs several commands separated by ';'; wire it by hand"
	case ${exe##*/} in
	kubelet) ;;
	docker | podman | nerdctl | ctr | runc | crictl)
		die $EX_UNSUPPORTED "$KUBELET_UNIT runs the kubelet in a container ($exe, from $EXEC_FILE): the executable and config must be mounted into that container; wire it where the unit is generated (Typhoon/Flatcar: Butane snippets), see docs/node-kit.md"
		;;
	*) die $EX_UNSUPPORTED "$KUBELET_UNIT's ExecStart= (in $EXEC_FILE) runs $exe, not a kubelet; wire it by hand" ;;
	esac
	if [ -n "$EXEC_AFTER" ]; then
		die $EX_UNSUPPORTED "$(printf '%s' "$EXEC_AFTER" | head -n 1) sets ExecStart= and sorts after $OUR_DROPIN_NAME, so our flags would not win; rename it or wire by hand"
	fi
	case $prefix in *:*) EXEC_NOENV=1 ;; *) EXEC_NOENV=0 ;; esac
}

# env_hook: print "VAR FILE HOW" when the effective ExecStart ends with $VAR (KUBELET_EXTRA_ARGS or
# KUBELET_ARGS, split into words by systemd) and FILE is the EnvironmentFile whose value of VAR wins,
# or where VAR can be added without overriding an Environment= value. Files that a node agent rewrites
# (kubeadm-flags.env, nodeadm's environment) are never chosen.
env_hook() {
	[ "$EXEC_NOENV" = 0 ] || return 1
	last=$(printf '%s\n' "$EXEC_WORDS" | tail -n 1)
	case $last in '$KUBELET_EXTRA_ARGS') var=KUBELET_EXTRA_ARGS ;; '$KUBELET_ARGS') var=KUBELET_ARGS ;; *) return 1 ;; esac
	chosen=
	winner=
	for f in $ENV_FILES; do
		node=${f#-}
		case $node in */kubeadm-flags.env | /etc/eks/kubelet/environment) regen=1 ;; *) regen=0 ;; esac
		if grep -qs "^[ 	]*$var[ 	]*=" "$(p "$node")"; then winner=$node; wregen=$regen; fi
		[ "$regen" = 1 ] || chosen=$node
	done
	if [ -n "$winner" ]; then
		[ "$wregen" = 0 ] || return 1
		say "$var $winner edited"
		return 0
	fi
	[ -n "$chosen" ] || return 1
	# Environment= values lose to any file that sets the variable: adding it there would drop them.
	printf '%s\n' "$ENV_ASSIGN" | grep -q "\(^\|[ \"']\)$var=" && return 1
	if [ -f "$(p "$chosen")" ]; then say "$var $chosen added-line"; else say "$var $chosen created-file"; fi
}
# AWK_CUT: an awk function removing every occurrence of the string f from s, with one blank beside it.
AWK_CUT='function cut(s, f,   i, b, a) {
	while ((i = index(s, f)) > 0) {
		b = substr(s, 1, i - 1); a = substr(s, i + length(f))
		if (b ~ /[ \t]$/) sub(/[ \t]$/, "", b); else if (a ~ /^[ \t]/) sub(/^[ \t]/, "", a)
		s = b a
	}
	return s
}'
# env_edit FILE VAR: FILE with our two flags appended to the value of VAR's last assignment (stdout);
# exit 3 when that assignment is not a single-line value we can append to safely.
env_edit() {
	src=$(p "$1")
	[ -f "$src" ] || src=/dev/null
	awk -v var="$2" -v f1="$FLAG_CONFIG" -v f2="$FLAG_BIN_DIR" "$AWK_CUT"'
		{ line[NR] = $0; if ($0 ~ "^[ \t]*" var "[ \t]*=") last = NR }
		END {
			if (!last) { for (i = 1; i <= NR; i++) print line[i]; print var "=" f1 " " f2; exit }
			for (i = 1; i <= NR; i++) {
				if (i != last) { print line[i]; continue }
				l = line[i]; eq = index(l, "="); head = substr(l, 1, eq); v = substr(l, eq + 1); sub(/^[ \t]+/, "", v)
				q = substr(v, 1, 1)
				if (q == "\"" || q == "\047") {
					rest = substr(v, 2); close_at = 0
					for (j = 1; j <= length(rest); j++) { c = substr(rest, j, 1); if (c == "\\" && q == "\"") { j++; continue } if (c == q) { close_at = j; break } }
					if (!close_at || substr(rest, close_at + 1) !~ /^[ \t]*$/) exit 3
					inner = substr(rest, 1, close_at - 1)
				} else {
					if (v ~ /\\$/) exit 3
					q = ""; inner = v; sub(/[ \t]+$/, "", inner)
				}
				ours = f1 " " f2
				if (inner == ours || substr(inner, length(inner) - length(ours)) == " " ours) { print l; continue }
				inner = cut(cut(inner, f1), f2)
				print head q inner (inner == "" ? "" : " ") f1 " " f2 q
			}
		}' "$src"
}
# env_unedit FILE VAR: FILE without our two flags in any assignment of VAR (stdout).
env_unedit() {
	awk -v var="$2" -v f1="$3" -v f2="$4" "$AWK_CUT"'
		$0 ~ "^[ \t]*" var "[ \t]*=" { $0 = cut(cut($0, f1), f2) }
		{ print }' "$(p "$1")"
}
# plan_kubelet_flags: our two flags into the kubelet's command line, the way this unit allows.
plan_kubelet_flags() {
	kubelet_exec
	if hook=$(env_hook); then
		set -- $hook
		if env_edit "$2" "$1" >"$TMP/env"; then
			mode=$(file_mode "$(p "$2")" | sed 's/unknown/644/')
			plan env "$2" "$TMP/env" "$mode" "$1" "$3"
			say "wiring: $1 in $2 (an EnvironmentFile of $KUBELET_UNIT; its ExecStart ends with \$$1)"
			return 0
		fi
	fi
	# A drop-in that resets ExecStart and re-states the effective command as written, plus our flags.
	# systemd parses the same text in the same unit, so every argument reaches the kubelet unchanged.
	{
		say "# Written by ecr-credential-provider install.sh (removed by install.sh --uninstall)."
		say "# The effective ExecStart of $KUBELET_UNIT (from $EXEC_FILE) plus the two credential-provider"
		say "# flags, last so that they win. Re-run install.sh after that ExecStart changes."
		say "[Service]"
		say "ExecStart="
		say "ExecStart=$EXEC_RAW $FLAG_CONFIG $FLAG_BIN_DIR"
	} >"$TMP/dropin"
	plan file "/etc/systemd/system/$KUBELET_UNIT.d/$OUR_DROPIN_NAME" "$TMP/dropin" 0644
	say "wiring: drop-in /etc/systemd/system/$KUBELET_UNIT.d/$OUR_DROPIN_NAME (ExecStart from $EXEC_FILE)"
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

# --- one function per distribution: distro_NAME paths|precheck|wire|restart ------------------------
# paths sets BIN_DIR and CONFIG_FILE (empty: the distro writes the kubelet config itself); precheck
# refuses what cannot work; wire plans whatever makes the kubelet use them; restart applies it.
distro_kubeadm() {
	case $1 in
	wire) plan_kubelet_flags ;;
	restart) restart_units kubelet ;;
	esac
}
distro_generic() { distro_kubeadm "$@"; }
distro_kops() { distro_kubeadm "$@"; }
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
			say "      - $FLAG_CONFIG"
			say "      - $FLAG_BIN_DIR"
		} >"$TMP/nodeconfig"
		plan file /etc/eks/nodeadm.d/50-ecr-credential-provider.yaml "$TMP/nodeconfig" 0644
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
		plan file "$KIT_NODEADM_ENV" "$TMP/hybrid" 0644
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
		plan file /manifest.yaml "$TMP/manifest" 0644
		{
			say "machine:"
			say "  kubelet:"
			say "    credentialProviderConfig:"
			sed -e '/^#/d' -e 's/^/      /' "$TMP/config"
		} >"$TMP/patch"
		plan file /machine-config-patch.yaml "$TMP/patch" 0644
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
# packaged: the ecr-credential-provider .deb is installed under the root (dpkg knows it, its executable is there).
packaged() { [ -x "$(p "$DEB_EXE")" ] && [ -f "$(p "/var/lib/dpkg/info/$NAME.list")" ]; }

# distro ACTION: run ACTION for $DISTRO.
distro() {
	fn=distro_$(printf '%s' "$DISTRO" | tr - _)
	"$fn" "$1"
}

# --- uninstall: exactly what install added -------------------------------------------------------------
uninstall_one() {
	kind=$1
	path=$2
	target=$(p "$path")
	case $kind in
	created | modified)
		if [ ! -e "$target" ] && [ ! -L "$target" ]; then return 0; fi
		if [ "$(fingerprint "$target")" != "$3" ] && [ "$FORCE" = 0 ]; then
			say "kept $path: changed since install.sh wrote it (remove it by hand, or pass --force)"
			return 0
		fi
		if [ "$DRY_RUN" = 1 ]; then say "would $([ "$kind" = created ] && printf remove || printf restore) $path"; return 0; fi
		if [ "$kind" = created ]; then
			rm -f "$target" && say "removed $path"
		else
			mv -f "$STATE/backup$path" "$target" && say "restored $path"
		fi
		;;
	env)
		[ -f "$target" ] || return 0
		var=$3
		how=$4
		env_unedit "$path" "$var" "--image-credential-provider-config=$5" "--image-credential-provider-bin-dir=$6" >"$TMP/unenv"
		# A line or file that only install added goes again once it holds nothing else.
		if [ "$how" != edited ]; then
			awk -v var="$var" '!($0 ~ "^[ \t]*" var "[ \t]*=[ \t]*(\"\"|\047\047)?[ \t]*$")' "$TMP/unenv" >"$TMP/unenv2"
			mv -f "$TMP/unenv2" "$TMP/unenv"
		fi
		if cmp -s "$TMP/unenv" "$target"; then return 0; fi
		if [ "$DRY_RUN" = 1 ]; then say "would remove our flags from $var in $path"; return 0; fi
		if [ "$how" = created-file ] && [ ! -s "$TMP/unenv" ]; then
			rm -f "$target" && say "removed $path"
			return 0
		fi
		cp "$TMP/unenv" "$target.ecr-tmp.$$" && chmod "$(file_mode "$target")" "$target.ecr-tmp.$$" && mv -f "$target.ecr-tmp.$$" "$target"
		say "removed our flags from $var in $path"
		;;
	dir)
		if [ "$DRY_RUN" = 1 ]; then say "would remove $path/ if empty"; else rmdir "$target" 2>/dev/null && say "removed $path/" || true; fi
		;;
	esac
}
uninstall() {
	if [ ! -f "$MANIFEST" ]; then say "nothing to uninstall under ${ROOT:-/}"; exit 0; fi
	# newest first: files before the directories that hold them
	sed '1!G;h;$!d' "$MANIFEST" >"$TMP/manifest.rev"
	while IFS="$TAB" read -r kind path a b c d; do
		uninstall_one "$kind" "$path" "$a" "$b" "$c" "$d"
	done <"$TMP/manifest.rev"
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
		collect_plugin_args
		gen_config >"$TMP/config"
		if [ -n "$BINARY$RELEASE" ]; then resolve_binary && validate_config "$TMP/config" >/dev/null; fi
		cat "$TMP/config"
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
	FLAG_CONFIG="--image-credential-provider-config=$CONFIG_FILE"
	FLAG_BIN_DIR="--image-credential-provider-bin-dir=$BIN_DIR"
	# Everything is decided and checked before the first change: flags, config, wiring, operator edits.
	collect_plugin_args
	distro precheck
	if [ "$PACKAGED" = 1 ]; then plan link "$BIN_DIR/$NAME" "$DEB_EXE" link; else plan bin "$BIN_DIR/$NAME" "$BINARY" 0755; fi
	plan_config
	distro wire
	check_plan

	say "installing $NAME for $DISTRO under ${ROOT:-/}$([ "$DRY_RUN" = 1 ] && printf ' (dry run)')"
	init_state
	# The executable first: a new binary without new flags is harmless; the flags come last.
	apply_plan
	warn_key_mode

	if [ "$CHANGES" = 0 ]; then
		say "nothing to do: $NAME is already installed and wired for $DISTRO"
	else
		say "$CHANGES change(s) $([ "$DRY_RUN" = 1 ] && printf 'planned' || printf 'made')"
		if [ "$RESTART" = 1 ]; then distro restart; else say "restart the kubelet to apply (or pass --restart-kubelet)"; fi
	fi
}

main "$@"
