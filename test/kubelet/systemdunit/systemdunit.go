// Package systemdunit computes the argv systemd would execute for a unit found under a root
// directory, independently of node-config/install.sh: the unit search path with masking, drop-ins
// (one per file name, the highest directory winning, applied in name order), the unit-file syntax
// (sections, comments, backslash continuations), ExecStart= resets, the -@:+! prefixes, quoting and
// C escapes, a few specifiers, Environment= and EnvironmentFile= (the env-file syntax), and the
// spawn-time expansion ($VAR as a word splits into words, ${VAR} is one word or spliced verbatim).
//
// It follows systemd's sources as summarised in docs (systemd.unit(5), systemd.service(5),
// systemd.exec(5); src/shared/conf-parser.c, dropin.c, conf-files.c, extract-word.c, env-file.c,
// env-util.c replace_env_argv). Only what kubelet units use is implemented; anything else is an error
// rather than a guess.
package systemdunit

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
)

// SearchPath is the system unit search path, highest priority first. /lib/systemd/system is read
// only when it is not the same directory as /usr/lib/systemd/system (split-usr systems).
var SearchPath = []string{
	"/etc/systemd/system.control", "/run/systemd/system.control", "/run/systemd/transient", "/run/systemd/generator.early",
	"/etc/systemd/system", "/etc/systemd/system.attached", "/run/systemd/system", "/run/systemd/system.attached",
	"/run/systemd/generator", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system",
	"/run/systemd/generator.late",
}

// Command is one ExecStart= (or other Exec*=) command as written: the executable, argv (argv[0]
// first) before variable expansion, and its prefixes.
type Command struct {
	Path     string   `json:"path"`
	Argv     []string `json:"argv"`
	Prefixes string   `json:"prefixes"`
	File     string   `json:"file"` // node path of the unit file or drop-in that set it
}

// Unit is a loaded unit.
type Unit struct {
	Name     string               `json:"name"`
	Fragment string               `json:"fragment"`
	DropIns  []string             `json:"dropIns"`
	Exec     map[string][]Command `json:"exec"` // ExecStart, ExecStartPre, ...
	Env      []string             `json:"environment"`
	EnvFiles []string             `json:"environmentFiles"` // "-" prefix kept
	root     string
}

// Load reads unit name (e.g. "kubelet.service") under root ("" or "/" for the running system).
func Load(root, name string) (*Unit, error) {
	u := &Unit{Name: name, Exec: map[string][]Command{}, root: strings.TrimSuffix(root, "/")}
	dirs := u.searchDirs()
	for _, d := range dirs {
		p := u.host(d + "/" + name)
		if _, err := os.Lstat(p); err == nil {
			if masked(p) {
				return nil, fmt.Errorf("%s is masked (%s)", name, d+"/"+name)
			}
			u.Fragment = d + "/" + name
			break
		}
	}
	if u.Fragment == "" {
		return nil, fmt.Errorf("%s not found under %q", name, root)
	}
	// Drop-in directories: name.d in every directory, the prefix directories of a dashed name, then
	// the top-level type directory (lowest precedence).
	base := strings.TrimSuffix(name, filepath.Ext(name))
	typ := strings.TrimPrefix(filepath.Ext(name), ".")
	var cands []string
	for _, d := range dirs {
		cands = append(cands, d+"/"+name+".d")
		for pre := base; strings.Contains(pre[:len(pre)-1], "-"); {
			pre = pre[:strings.LastIndex(pre[:len(pre)-1], "-")]
			cands = append(cands, d+"/"+pre+"-."+typ+".d")
		}
	}
	for _, d := range dirs {
		cands = append(cands, d+"/"+typ+".d")
	}
	seen := map[string]string{}
	for _, c := range cands {
		entries, err := os.ReadDir(u.host(c))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".conf") {
				continue
			}
			if _, ok := seen[e.Name()]; !ok {
				seen[e.Name()] = c + "/" + e.Name()
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !masked(u.host(seen[n])) {
			u.DropIns = append(u.DropIns, seen[n])
		}
	}
	for _, f := range append([]string{u.Fragment}, u.DropIns...) {
		if err := u.parseFile(f); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (u *Unit) host(p string) string { return u.root + p }

// searchDirs returns SearchPath entries that exist, each real directory once (merged /usr).
func (u *Unit) searchDirs() []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range SearchPath {
		real, err := u.realpath(d)
		if err != nil {
			continue
		}
		if st, err := os.Stat(u.host(real)); err != nil || !st.IsDir() || seen[real] {
			continue
		}
		seen[real] = true
		out = append(out, d)
	}
	return out
}

// maxLinks is how many symbolic links a path may go through, as systemd's chase() (CHASE_MAX = 32):
// past it the path is a loop (a root's /lib -> /lib, copied from a merged-/usr host) and resolves to ELOOP.
const maxLinks = 32

// realpath resolves symlinks inside the root (absolute link targets are taken relative to it).
func (u *Unit) realpath(p string) (string, error) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	cur := ""
	links := 0
	for i := 0; i < len(parts); i++ {
		next := cur + "/" + parts[i]
		target, err := os.Readlink(u.host(next))
		if err != nil {
			if _, serr := os.Lstat(u.host(next)); serr != nil {
				return "", serr
			}
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", &os.PathError{Op: "realpath", Path: p, Err: syscall.ELOOP}
		}
		if !strings.HasPrefix(target, "/") {
			target = cur + "/" + target
		}
		rest := append(strings.Split(strings.Trim(filepath.Clean(target), "/"), "/"), parts[i+1:]...)
		parts, cur, i = rest, "", -1
	}
	return filepath.Clean("/" + cur), nil
}

func masked(p string) bool {
	if t, err := os.Readlink(p); err == nil && t == "/dev/null" {
		return true
	}
	st, err := os.Stat(p)
	return err == nil && st.Size() == 0
}

// parseFile applies one unit file or drop-in like conf-parser.c.
func (u *Unit) parseFile(node string) error {
	raw, err := os.ReadFile(u.host(node))
	if err != nil {
		return err
	}
	section := ""
	cont := ""
	inCont := false
	lines := strings.Split(string(raw), "\n")
	if strings.HasSuffix(string(raw), "\n") {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		if l := strings.TrimLeft(line, " \t"); l != "" && strings.ContainsRune("#;", rune(l[0])) {
			continue // comments, also inside a continuation
		}
		p := line
		if inCont {
			p = cont + line
		}
		escaped := false
		for i := 0; i < len(p); i++ {
			if escaped {
				escaped = false
			} else if p[i] == '\\' {
				escaped = true
			}
		}
		if escaped {
			cont, inCont = p[:len(p)-1]+" ", true
			continue
		}
		cont, inCont = "", false
		if err := u.parseLine(node, &section, p); err != nil {
			return err
		}
	}
	if inCont {
		return u.parseLine(node, &section, cont)
	}
	return nil
}

func (u *Unit) parseLine(node string, section *string, line string) error {
	l := strings.TrimSpace(line)
	if l == "" {
		return nil
	}
	if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
		*section = l[1 : len(l)-1]
		return nil
	}
	eq := strings.IndexByte(l, '=')
	if eq < 0 || *section != "Service" {
		return nil
	}
	key, val := strings.TrimSpace(l[:eq]), strings.TrimSpace(l[eq+1:])
	switch {
	case strings.HasPrefix(key, "Exec"):
		if val == "" {
			delete(u.Exec, key)
			return nil
		}
		cmds, err := u.parseExec(val)
		if err != nil {
			return fmt.Errorf("%s: %s=: %w", node, key, err)
		}
		for i := range cmds {
			cmds[i].File = node
		}
		u.Exec[key] = append(u.Exec[key], cmds...)
	case key == "Environment":
		if val == "" {
			u.Env = nil
			return nil
		}
		words, err := extractWords(val, true)
		if err != nil {
			return fmt.Errorf("%s: Environment=: %w", node, err)
		}
		for _, w := range words {
			w, err = u.specifiers(w.text)
			if err != nil {
				return err
			}
			if i := strings.IndexByte(w.text, '='); i > 0 && validName(w.text[:i]) {
				u.Env = append(u.Env, w.text)
			}
		}
	case key == "EnvironmentFile":
		if val == "" {
			u.EnvFiles = nil
			return nil
		}
		v, err := u.specifiers(val)
		if err != nil {
			return err
		}
		u.EnvFiles = append(u.EnvFiles, v.text)
	}
	return nil
}

type word struct {
	text string
	raw  string // as written, quotes included
}

// parseExec splits an Exec*= value into commands (a lone ";" separates them).
func (u *Unit) parseExec(val string) ([]Command, error) {
	words, err := extractWords(val, true)
	if err != nil {
		return nil, err
	}
	var out []Command
	for len(words) > 0 {
		end := len(words)
		for i, w := range words {
			if w.raw == ";" {
				end = i
				break
			}
		}
		cmdWords := words[:end]
		if end < len(words) {
			words = words[end+1:]
		} else {
			words = nil
		}
		if len(cmdWords) == 0 {
			continue
		}
		first := cmdWords[0].text
		prefixes := ""
		for first != "" && strings.ContainsRune("-@:+!|", rune(first[0])) {
			prefixes += first[:1]
			first = first[1:]
		}
		rest := cmdWords[1:]
		if first == "" { // prefix written apart from the path is not valid systemd syntax
			return nil, fmt.Errorf("empty executable path")
		}
		var argv []string
		for _, w := range rest {
			s, err := u.specifiers(w.text)
			if err != nil {
				return nil, err
			}
			argv = append(argv, s.text)
		}
		path, err := u.specifiers(first)
		if err != nil {
			return nil, err
		}
		if strings.Contains(prefixes, "@") {
			if len(argv) == 0 {
				return nil, fmt.Errorf("@ prefix without argv[0]")
			}
		} else {
			argv = append([]string{path.text}, argv...)
		}
		out = append(out, Command{Path: path.text, Argv: argv, Prefixes: prefixes})
	}
	return out, nil
}

// specifiers resolves %n %N %p %i %% (the ones kubelet units use); an unknown letter is an error.
func (u *Unit) specifiers(s string) (word, error) {
	var b strings.Builder
	base := strings.TrimSuffix(u.Name, filepath.Ext(u.Name))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		c := s[i+1]
		switch {
		case c == '%':
			b.WriteByte('%')
		case c == 'n':
			b.WriteString(u.Name)
		case c == 'N' || c == 'p':
			b.WriteString(base)
		case c == 'i':
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'):
			return word{}, fmt.Errorf("specifier %%%c not supported here", c)
		default:
			b.WriteByte('%')
			b.WriteByte(c)
		}
		i++
	}
	return word{text: b.String()}, nil
}

// extractWords is extract_first_word with EXTRACT_UNQUOTE (and EXTRACT_CUNESCAPE when cunescape):
// whitespace separates words; '…' and "…" group and are removed, also mid-word; with cunescape, C
// escapes are decoded inside and outside quotes (an unknown one is kept as written, as systemd does
// with a warning); without it, a backslash escapes the next character outside single quotes.
func extractWords(s string, cunescape bool) ([]word, error) {
	var out []word
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		start := i
		var b strings.Builder
		var quote byte
		for i < len(s) {
			c := s[i]
			if quote == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
				break
			}
			if quote != 0 && c == quote {
				quote = 0
				i++
				continue
			}
			if quote == 0 && (c == '\'' || c == '"') {
				quote = c
				i++
				continue
			}
			if c == '\\' && (cunescape || quote != '\'') {
				if i+1 >= len(s) {
					// A trailing backslash: kept verbatim when unescaping (systemd retries with
					// EXTRACT_UNESCAPE_RELAX and warns), dropped when splitting a variable's value.
					if cunescape {
						b.WriteByte('\\')
					}
					i++
					continue
				}
				if cunescape {
					r, n, ok := cunescapeOne(s[i+1:])
					if ok {
						b.WriteString(r)
					} else {
						b.WriteByte('\\')
						b.WriteString(s[i+1 : i+1+n])
					}
					i += 1 + n
				} else {
					b.WriteByte(s[i+1])
					i += 2
				}
				continue
			}
			b.WriteByte(c)
			i++
		}
		if quote != 0 {
			if cunescape {
				return nil, fmt.Errorf("unbalanced quotes in %q", s)
			}
		}
		out = append(out, word{text: b.String(), raw: s[start:i]})
	}
}

// cunescapeOne decodes one C escape (after the backslash). ok=false: unknown, keep as written.
func cunescapeOne(s string) (string, int, bool) {
	simple := map[byte]string{'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v", '\\': "\\", '"': "\"", '\'': "'", 's': " "}
	if r, ok := simple[s[0]]; ok {
		return r, 1, true
	}
	switch s[0] {
	case 'x':
		if len(s) >= 3 {
			if v, err := strconv.ParseUint(s[1:3], 16, 8); err == nil && v != 0 {
				return string([]byte{byte(v)}), 3, true
			}
		}
	case 'u', 'U':
		n := 4
		if s[0] == 'U' {
			n = 8
		}
		if len(s) > n {
			if v, err := strconv.ParseUint(s[1:1+n], 16, 32); err == nil && v != 0 && utf8.ValidRune(rune(v)) {
				return string(rune(v)), 1 + n, true
			}
		}
	case '0', '1', '2', '3', '4', '5', '6', '7':
		if len(s) >= 3 {
			if v, err := strconv.ParseUint(s[:3], 8, 8); err == nil && v != 0 {
				return string([]byte{byte(v)}), 3, true
			}
		}
	}
	_, size := utf8.DecodeRuneInString(s)
	return "", size, false
}

func validName(n string) bool {
	if n == "" || (n[0] >= '0' && n[0] <= '9') {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// Environment is what the process would be started with (Environment=, then EnvironmentFile= files
// in order, which override it; later assignments win). A missing file without "-" is an error, as
// the start would fail.
func (u *Unit) Environment() (map[string]string, error) {
	env := map[string]string{}
	for _, a := range u.Env {
		i := strings.IndexByte(a, '=')
		env[a[:i]] = a[i+1:]
	}
	for _, f := range u.EnvFiles {
		optional := strings.HasPrefix(f, "-")
		f = strings.TrimPrefix(f, "-")
		matches := []string{f}
		if strings.ContainsAny(f, "*?[") {
			matches, _ = filepath.Glob(u.host(f))
			for i := range matches {
				matches[i] = strings.TrimPrefix(matches[i], u.root)
			}
		}
		for _, m := range matches {
			raw, err := os.ReadFile(u.host(m))
			if err != nil {
				if optional {
					continue
				}
				return nil, fmt.Errorf("EnvironmentFile=%s: %w", m, err)
			}
			for _, kv := range ParseEnvFile(string(raw)) {
				env[kv[0]] = kv[1]
			}
		}
	}
	return env, nil
}

// ParseEnvFile follows env-file.c parse_env_file_internal: KEY=VALUE lines; '…' verbatim, "…" with
// \" \\ \` \$ unescaped and other \c kept, both may span lines; unquoted values trimmed, \c → c and
// backslash-newline removed; text after a closing quote appended with no separator; lines without
// '=' and comment lines ignored; invalid names (e.g. "export K") dropped.
func ParseEnvFile(s string) [][2]string {
	var out [][2]string
	i := 0
	n := len(s)
	for i < n {
		// key
		for i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
			i++
		}
		if i >= n {
			break
		}
		if s[i] == '#' || s[i] == ';' {
			for i < n && s[i] != '\n' {
				i++
			}
			continue
		}
		ks := i
		for i < n && s[i] != '=' && s[i] != '\n' {
			i++
		}
		if i >= n || s[i] == '\n' {
			continue // no '=': ignored
		}
		key := strings.TrimRight(s[ks:i], " \t")
		i++
		var v strings.Builder
		for i < n && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	value:
		for i < n {
			switch c := s[i]; {
			case c == '\n':
				i++
				break value
			case c == '\'':
				i++
				for i < n && s[i] != '\'' {
					v.WriteByte(s[i])
					i++
				}
				i++
				for i < n && (s[i] == ' ' || s[i] == '\t') {
					i++
				}
			case c == '"':
				i++
				for i < n && s[i] != '"' {
					if s[i] == '\\' && i+1 < n {
						switch s[i+1] {
						case '"', '\\', '`', '$':
							v.WriteByte(s[i+1])
						case '\n':
						default:
							v.WriteByte('\\')
							v.WriteByte(s[i+1])
						}
						i += 2
						continue
					}
					v.WriteByte(s[i])
					i++
				}
				i++
				for i < n && (s[i] == ' ' || s[i] == '\t') {
					i++
				}
			default:
				// unquoted run until newline (trailing blanks dropped)
				var run strings.Builder
				for i < n && s[i] != '\n' {
					if s[i] == '\\' && i+1 < n {
						if s[i+1] != '\n' {
							run.WriteByte(s[i+1])
						}
						i += 2
						continue
					}
					run.WriteByte(s[i])
					i++
				}
				v.WriteString(strings.TrimRight(run.String(), " \t"))
			}
		}
		if validName(key) {
			out = append(out, [2]string{key, v.String()})
		}
	}
	return out
}

// Argv is the argv systemd would execute for the command (spawn-time expansion; the ":" prefix
// turns it off): a word "$VAR" becomes the value split into words (quotes in it group, a backslash
// escapes), or nothing when unset or empty; "${VAR}" elsewhere is spliced in verbatim (an unset one
// is empty, so a word that was only "${VAR}" stays as one empty argument); "$$" is "$".
func (u *Unit) Argv(c Command) ([]string, error) {
	if strings.Contains(c.Prefixes, ":") {
		return append([]string(nil), c.Argv...), nil
	}
	env, err := u.Environment()
	if err != nil {
		return nil, err
	}
	var out []string
	for i, a := range c.Argv {
		if i > 0 && len(a) > 1 && a[0] == '$' && a[1] != '{' && a[1] != '$' {
			if v, ok := env[a[1:]]; ok {
				ws, _ := extractWords(v, false)
				for _, w := range ws {
					out = append(out, w.text)
				}
			}
			continue
		}
		out = append(out, replaceEnv(a, env))
	}
	return out, nil
}

func replaceEnv(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) {
			if s[i+1] == '$' {
				b.WriteByte('$')
				i++
				continue
			}
			if s[i+1] == '{' {
				if end := strings.IndexByte(s[i+2:], '}'); end >= 0 && validName(s[i+2:i+2+end]) {
					b.WriteString(env[s[i+2:i+2+end]])
					i += 2 + end
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ExecStart returns the single ExecStart command after resets (systemd refuses a non-oneshot
// service with none or with several).
func (u *Unit) ExecStart() (Command, error) {
	cmds := u.Exec["ExecStart"]
	if len(cmds) != 1 {
		return Command{}, fmt.Errorf("%s has %d ExecStart= commands after the last reset (systemd refuses it)", u.Name, len(cmds))
	}
	return cmds[0], nil
}
