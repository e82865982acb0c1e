package kubelet

// The node-config examples (cloud-init user data, the Packer provisioner, the kops additionalUserData
// script) end to end, judged by the kubelet's own code. test/e2e/release-examples.test.ts runs each
// example unchanged against a local copy of the release (a loopback server, or the files Packer
// uploads to /tmp) in a scratch node that starts from the unit fixtures of its platform
// (test/fixtures/units/scenarios.json). This test drives it with EXAMPLE_ROOTS_OUT, which makes it
// hand over each resulting root, then does what TestUnitFixturesThroughKubeletFlagParser does for
// install.sh: the argv systemd would run from the fixture root and from the example's root (expanded
// by the systemdunit package), parsed by the kubelet's flag set; every flag but our two unchanged,
// ours set, and the providers registered by the kubelet's plugin code from the installed files.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The examples the e2e test must hand over; a missing one fails (a skipped or renamed example is
// not a passed one).
var wantExamples = []string{"cloud-init-kubeadm", "cloud-init-k3s", "cloud-init-al2023", "packer-eks-al2023", "packer-kubeadm", "kops"}

type keptExample struct {
	Name     string `json:"name"`
	Wiring   string `json:"wiring"`
	Scenario string `json:"scenario"`
	Unit     string `json:"unit"`
	Root     string `json:"root"`
}

func runExamples(t *testing.T) []keptExample {
	if os.Geteuid() != 0 {
		t.Skip("the examples run in overlay roots of this machine (mount, chroot): needs root")
	}
	repo := repoRoot(t)
	out := t.TempDir()
	cmd := exec.Command("node", "--import", "tsx", "--test", "--test-concurrency=1", "test/e2e/release-examples.test.ts")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "EXAMPLE_ROOTS_OUT="+out, "TSX_DISABLE_CACHE=1",
		"PATH="+filepath.Join(repo, "node_modules", ".bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("test/e2e/release-examples.test.ts: %v\n%s", err, log)
	}
	raw, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatalf("the examples handed over no roots (skipped?): %v\n%s", err, log)
	}
	var doc struct{ Examples []keptExample }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range doc.Examples {
		got[e.Name] = true
	}
	for _, n := range wantExamples {
		if !got[n] {
			t.Errorf("example %s was not run (manifest: %s)", n, raw)
		}
	}
	return doc.Examples
}

func scenarioNamed(t *testing.T, name string) unitScenario {
	for _, s := range unitScenarios(t) {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no unit scenario %q in test/fixtures/units/scenarios.json", name)
	return unitScenario{}
}

// nodeadmBoot does to root what nodeadm init does with the NodeConfigs in /etc/eks/nodeadm.d: it
// renders /etc/eks/kubelet/environment as its own flags followed by the user-provided
// spec.kubelet.flags ("append user-provided flags at the end to give them precedence",
// awslabs/amazon-eks-ami nodeadm/internal/kubelet/environment.go writeKubeletEnvironment). Its own
// flags are those of the fixture's environment file, which nodeadm rendered without user flags.
func nodeadmBoot(t *testing.T, root string) {
	env := filepath.Join(root, "etc", "eks", "kubelet", "environment")
	raw, err := os.ReadFile(env)
	if err != nil {
		t.Fatal(err)
	}
	own, ok := strings.CutPrefix(strings.TrimSpace(string(raw)), "NODEADM_KUBELET_ARGS=")
	if !ok || strings.Contains(own, "\n") {
		t.Fatalf("%s is not the one-variable file of the fixture: %q", env, raw)
	}
	confs, _ := filepath.Glob(filepath.Join(root, "etc", "eks", "nodeadm.d", "*.yaml"))
	sort.Strings(confs)
	flags := []string{own}
	for _, f := range confs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var nc struct {
			Kind string
			Spec struct{ Kubelet struct{ Flags []string } }
		}
		if err := yaml.Unmarshal(b, &nc); err != nil || nc.Kind != "NodeConfig" {
			t.Fatalf("%s is not a NodeConfig: %v", f, err)
		}
		flags = append(flags, nc.Spec.Kubelet.Flags...)
	}
	if len(confs) == 0 {
		t.Fatalf("no NodeConfig in %s/etc/eks/nodeadm.d", root)
	}
	if err := os.WriteFile(env, []byte("NODEADM_KUBELET_ARGS="+strings.Join(flags, " ")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReleaseExamplesThroughKubeletFlagParser(t *testing.T) {
	for _, e := range runExamples(t) {
		t.Run(e.Name, func(t *testing.T) {
			switch e.Wiring {
			case "systemd", "nodeadm":
				before := unitArgv(t, buildUnitRoot(t, scenarioNamed(t, e.Scenario)), e.Unit)
				if e.Wiring == "nodeadm" {
					nodeadmBoot(t, e.Root)
				}
				assertOnlyKitFlagsChanged(t, e.Root, before, unitArgv(t, e.Root, e.Unit))
			case "k3s":
				// k3s passes --image-credential-provider-{config,bin-dir} with its default paths when
				// both exist at start-up (k3s-io/k3s pkg/daemons/agent ImageCredProvAvailable, and
				// kubeletArgs in agent_linux.go); the providers must register from them.
				res := runKubelet(t, childSpec{
					ConfigPath: filepath.Join(e.Root, "var/lib/rancher/credentialprovider/config.yaml"),
					BinDir:     filepath.Join(e.Root, "var/lib/rancher/credentialprovider/bin"),
				})
				if res.RegisterError != "" {
					t.Fatalf("RegisterCredentialProviderPlugins: %s", res.RegisterError)
				}
			default:
				t.Fatalf("unknown wiring %q", e.Wiring)
			}
		})
	}
}
