package kubelet

// The node kit judged by the kubelet's own flag parser. For every unit fixture in
// test/fixtures/units (what distributions ship) and every distro profile that could meet it:
// install.sh runs into a scratch root; the argv systemd would execute before and after is expanded
// by the systemdunit package (not by install.sh); the kubelet's flag set
// (cmd/kubelet/app/options: NewKubeletFlags, NewKubeletConfiguration, their AddFlags, the global
// flags, as NewKubeletCommand builds it) parses both; every flag but our two keeps its value, ours
// point at the installed files, and the kubelet's plugin code registers the providers from them.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/kubernetes/cmd/kubelet/app/options"

	"github.com/ecr-credential-provider/test/kubelet/systemdunit"
)

const (
	flagConfig = "image-credential-provider-config"
	flagBinDir = "image-credential-provider-bin-dir"
	kitConfig  = "/etc/ecr-credential-provider/credential-provider-config.yaml"
	kitBinDir  = "/opt/ecr-credential-provider/bin"
)

// parseKubeletArgs parses args (argv[1:]) the way the kubelet's NewKubeletCommand does before it
// loads any file: the clean flag set with word-separator normalisation, no positional arguments,
// and ValidateKubeletFlags.
func parseKubeletArgs(args []string) (*pflag.FlagSet, *options.KubeletFlags, error) {
	fs := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetNormalizeFunc(cliflag.WordSepNormalizeFunc)
	kf := options.NewKubeletFlags()
	kc, err := options.NewKubeletConfiguration()
	if err != nil {
		return nil, nil, err
	}
	kf.AddFlags(fs)
	options.AddKubeletConfigFlags(fs, kc)
	options.AddGlobalFlags(fs)
	fs.BoolP("help", "h", false, "help for kubelet")
	if err := fs.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("failed to parse kubelet flag: %w", err)
	}
	if cmds := fs.Args(); len(cmds) > 0 {
		return nil, nil, fmt.Errorf("unknown command %+s", cmds[0])
	}
	if err := options.ValidateKubeletFlags(kf); err != nil {
		return nil, nil, fmt.Errorf("failed to validate kubelet flags: %w", err)
	}
	return fs, kf, nil
}

// flagValues: every flag the command line set, by name, with its parsed value.
func flagValues(fs *pflag.FlagSet) map[string]string {
	out := map[string]string{}
	fs.Visit(func(f *pflag.Flag) { out[f.Name] = f.Value.String() })
	return out
}

type unitScenario struct {
	Name    string                     `json:"name"`
	Unit    string                     `json:"unit"`
	Kubelet bool                       `json:"kubelet"`
	Files   map[string]json.RawMessage `json:"files"`
	Expect  map[string]string          `json:"expect"`
}

func unitScenarios(t *testing.T) []unitScenario {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "fixtures", "units", "scenarios.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Scenarios []unitScenario }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Scenarios
}

func buildUnitRoot(t *testing.T, s unitScenario) string {
	root := t.TempDir()
	for path, spec := range s.Files {
		dest := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			t.Fatal(err)
		}
		var from string
		var inline struct {
			Text string `json:"text"`
			Mode string `json:"mode"`
		}
		mode := os.FileMode(0o644)
		var data []byte
		if json.Unmarshal(spec, &from) == nil {
			b, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "fixtures", "units", "files", from))
			if err != nil {
				t.Fatal(err)
			}
			data = b
		} else if err := json.Unmarshal(spec, &inline); err == nil {
			data = []byte(inline.Text)
			if inline.Mode != "" {
				m, _ := strconv.ParseUint(inline.Mode, 8, 32)
				mode = os.FileMode(m)
			}
		} else {
			t.Fatalf("%s: bad file spec %s", path, spec)
		}
		if err := os.WriteFile(dest, data, mode); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(dest, mode)
	}
	return root
}

// unitArgv: the kubelet's arguments (argv[1:]) as systemd would start them from root.
func unitArgv(t *testing.T, root, unit string) []string {
	u, err := systemdunit.Load(root, unit)
	if err != nil {
		t.Fatal(err)
	}
	c, err := u.ExecStart()
	if err != nil {
		t.Fatal(err)
	}
	argv, err := u.Argv(c)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(c.Path) != "kubelet" {
		t.Fatalf("ExecStart runs %s, not the kubelet", c.Path)
	}
	return argv[1:]
}

func runInstall(t *testing.T, args ...string) (string, int) {
	cmd := exec.Command("sh", append([]string{filepath.Join(repoRoot(t), "node-config", "install.sh")}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// assertOnlyKitFlagsChanged: the kubelet parses both command lines (argv[1:]); every flag of before but
// our two keeps its value and none appears; ours point at the kit's files; and the kubelet's plugin
// code registers the providers from those files under root.
func assertOnlyKitFlagsChanged(t *testing.T, root string, before, after []string) {
	t.Helper()
	fsBefore, _, err := parseKubeletArgs(before)
	if err != nil {
		t.Fatalf("the kubelet refuses the command line before install %q: %v", before, err)
	}
	fsAfter, kf, err := parseKubeletArgs(after)
	if err != nil {
		t.Fatalf("the kubelet refuses the installed command line %q: %v", after, err)
	}
	vb, va := flagValues(fsBefore), flagValues(fsAfter)
	for name, v := range vb {
		if name == flagConfig || name == flagBinDir {
			continue
		}
		if va[name] != v {
			t.Errorf("--%s changed: %q → %q", name, v, va[name])
		}
	}
	for name := range va {
		if _, ok := vb[name]; !ok && name != flagConfig && name != flagBinDir {
			t.Errorf("--%s appeared: %q", name, va[name])
		}
	}
	if kf.ImageCredentialProviderConfigPath != kitConfig || kf.ImageCredentialProviderBinDir != kitBinDir {
		t.Fatalf("credential provider flags: config %q, bin dir %q", kf.ImageCredentialProviderConfigPath, kf.ImageCredentialProviderBinDir)
	}
	// The kubelet's plugin code registers the providers from the installed files.
	res := runKubelet(t, childSpec{ConfigPath: root + kf.ImageCredentialProviderConfigPath, BinDir: root + kf.ImageCredentialProviderBinDir})
	if res.RegisterError != "" {
		t.Fatalf("RegisterCredentialProviderPlugins: %s", res.RegisterError)
	}
}

func TestUnitFixturesThroughKubeletFlagParser(t *testing.T) {
	bin := pluginBinary(t)
	checked := 0
	for _, s := range unitScenarios(t) {
		for profile, want := range s.Expect {
			if !s.Kubelet || strings.HasPrefix(want, "refuse:") {
				continue
			}
			t.Run(s.Name+"/"+profile, func(t *testing.T) {
				root := buildUnitRoot(t, s)
				before := unitArgv(t, root, s.Unit)
				if _, _, err := parseKubeletArgs(before); err != nil {
					t.Fatalf("the kubelet refuses the fixture's own command line %q: %v", before, err)
				}
				fields := strings.Fields(profile)
				out, code := runInstall(t, append([]string{"--distro", fields[0], "--root", root, "--binary", bin}, fields[1:]...)...)
				if code != 0 {
					t.Fatalf("install.sh exit %d:\n%s", code, out)
				}
				after := unitArgv(t, root, s.Unit)
				if want != "env:" && !strings.HasPrefix(want, "env:") && want != "dropin" {
					// nodeadm or the distro wires the flags itself; the unit's command is untouched.
					if !reflect.DeepEqual(before, after) {
						t.Fatalf("%s changed the kubelet's command line:\n%q\n%q", want, before, after)
					}
					return
				}
				assertOnlyKitFlagsChanged(t, root, before, after)
			})
			checked++
		}
	}
	if checked < 15 {
		t.Fatalf("only %d fixture/profile pairs checked", checked)
	}
}

// Containerised kubelets (Typhoon): install.sh refuses them, but the multi-line command still has to
// expand to a command line the kubelet accepts (the part after the image), which checks the
// expansion against those units.
func TestContainerisedUnitsExpandToKubeletFlags(t *testing.T) {
	for _, s := range unitScenarios(t) {
		if s.Kubelet || s.Unit != "kubelet.service" {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			root := buildUnitRoot(t, s)
			u, err := systemdunit.Load(root, s.Unit)
			if err != nil {
				t.Fatal(err)
			}
			env, err := u.Environment()
			if err != nil {
				t.Fatal(err)
			}
			image := env["KUBELET_IMAGE"]
			found := false
			for _, c := range append(u.Exec["ExecStartPre"], u.Exec["ExecStart"]...) {
				argv, err := u.Argv(c)
				if err != nil {
					t.Fatal(err)
				}
				for i, a := range argv {
					if a == image && image != "" {
						found = true
						if _, _, err := parseKubeletArgs(argv[i+1:]); err != nil {
							t.Fatalf("%q: %v", argv[i+1:], err)
						}
						if got := argv[len(argv)-1]; !strings.HasPrefix(got, "--provider-id=aws:///us-east-1a/i-0123456789abcdef0") {
							t.Fatalf("provider-id not expanded from the metadata env file: %q", got)
						}
					}
				}
			}
			if !found {
				t.Fatalf("no command runs %q", image)
			}
		})
	}
}

// The expansion rules themselves, each on a small unit.
func TestSystemdExpansionRules(t *testing.T) {
	write := func(t *testing.T, root string, files map[string]string) {
		for p, c := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"continuations, comments inside them, quotes, C escapes", map[string]string{
			"/etc/systemd/system/kubelet.service": "[Service]\nExecStart=/usr/bin/kubelet \\\n  --a=1 \\\n# a comment line is skipped\n  \"--b=two words\" \\\n  '--c=x\\ty' --d=\\x41\n",
		}, []string{"--a=1", "--b=two words", "--c=x\ty", "--d=A"}},
		{"a backslash followed by a space is no continuation", map[string]string{
			"/etc/systemd/system/kubelet.service": "[Service]\nExecStart=/usr/bin/kubelet --a=1 \\ \n--b=2\n",
		}, []string{"--a=1", "\\"}},
		{"resets, drop-in order by name across directories, /etc masks the same name", map[string]string{
			"/usr/lib/systemd/system/kubelet.service":             "[Service]\nExecStart=/usr/bin/kubelet --from=unit\n",
			"/usr/lib/systemd/system/kubelet.service.d/10-a.conf": "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --from=usr-10\n",
			"/etc/systemd/system/kubelet.service.d/10-a.conf":     "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --from=etc-10\n",
			"/run/systemd/system/kubelet.service.d/20-b.conf":     "[Service]\nEnvironment=X=1\n",
		}, []string{"--from=etc-10"}},
		{"an empty drop-in masks the packaged one; override.conf sorts after 90-", map[string]string{
			"/usr/lib/systemd/system/kubelet.service":             "[Service]\nExecStart=/usr/bin/kubelet --from=unit\n",
			"/usr/lib/systemd/system/kubelet.service.d/10-a.conf": "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --from=usr-10\n",
			"/etc/systemd/system/kubelet.service.d/10-a.conf":     "",
			"/etc/systemd/system/kubelet.service.d/90-x.conf":     "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --from=90\n",
			"/etc/systemd/system/kubelet.service.d/override.conf": "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --from=override\n",
		}, []string{"--from=override"}},
		{"$VAR splits into words (quotes in the value group), ${VAR} is one word, --x=$VAR stays literal", map[string]string{
			"/etc/systemd/system/kubelet.service": "[Service]\nEnvironment=\"A=--a=1 '--b=2 3'\" B=--one\nEnvironment=\"C=x y\"\nExecStart=-/usr/bin/kubelet $A \"$B\" --c=${C} --d=$B $UNSET\n",
		}, []string{"--a=1", "--b=2 3", "--one", "--c=x y", "--d=$B"}},
		{"EnvironmentFile overrides Environment whatever the order; later files win; env-file quoting", map[string]string{
			"/etc/systemd/system/kubelet.service": "[Service]\nEnvironmentFile=-/etc/default/kubelet\nEnvironmentFile=-/missing\nEnvironment=\"K=--from=environment\"\nExecStart=/usr/bin/kubelet $K $Q $J\n",
			"/etc/default/kubelet":                "K=--from=file\nQ=\"--q=a\\\"b\" --r=1\nexport J=--nope\n# J=--comment\n",
		}, []string{"--from=file", "--q=ab--r=1"}},
		{"the : prefix turns expansion off; %% is a percent sign", map[string]string{
			"/etc/systemd/system/kubelet.service": "[Service]\nEnvironment=A=1\nExecStart=:/usr/bin/kubelet $A --p=10%%\n",
		}, []string{"$A", "--p=10%"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, c.files)
			u, err := systemdunit.Load(root, "kubelet.service")
			if err != nil {
				t.Fatal(err)
			}
			cmd, err := u.ExecStart()
			if err != nil {
				t.Fatal(err)
			}
			argv, err := u.Argv(cmd)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(argv[1:], c.want) {
				t.Fatalf("argv %q, want %q", argv[1:], c.want)
			}
		})
	}
	t.Run("two commands after the last reset are refused, as systemd does", func(t *testing.T) {
		root := t.TempDir()
		write(t, root, map[string]string{
			"/etc/systemd/system/kubelet.service":             "[Service]\nExecStart=/usr/bin/kubelet\n",
			"/etc/systemd/system/kubelet.service.d/90-x.conf": "[Service]\nExecStart=/usr/bin/kubelet --v=2\n",
		})
		u, err := systemdunit.Load(root, "kubelet.service")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.ExecStart(); err == nil {
			t.Fatal("expected a refusal")
		}
	})
}
