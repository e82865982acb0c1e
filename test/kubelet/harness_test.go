package kubelet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func TestMain(m *testing.M) {
	if p := os.Getenv(childSpecEnv); p != "" {
		os.Exit(runChild(p))
	}
	os.Exit(m.Run())
}

const (
	v1        = "credentialprovider.kubelet.k8s.io/v1"
	v1beta1   = "credentialprovider.kubelet.k8s.io/v1beta1"
	v1alpha1  = "credentialprovider.kubelet.k8s.io/v1alpha1"
	saGate    = "KubeletServiceAccountTokenForCredentialProviders"
	execLogV5 = "Getting image credentials from external exec plugin" // klog V(5) line of execPlugin.ExecPlugin
	// The provider name in node-config/, which is also the executable's file name.
	providerName = "ecr-credential-provider"
)

func repoRoot(t testing.TB) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// pluginBinary is the executable under test: $ECR_PROVIDER_BIN, else dist/ecr-credential-provider.
func pluginBinary(t testing.TB) string {
	p := os.Getenv("ECR_PROVIDER_BIN")
	if p == "" {
		p = filepath.Join(repoRoot(t), "dist", "ecr-credential-provider")
	}
	p, _ = filepath.Abs(p)
	st, err := os.Stat(p)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("plugin executable %s is missing or not executable (run `npm run build`, or set ECR_PROVIDER_BIN)", p)
	}
	return p
}

// binDir makes a kubelet --image-credential-provider-bin-dir holding the
// executable under each given name (symlinks: the provider name must equal
// the file name).
func binDir(t testing.TB, names ...string) string {
	bin := pluginBinary(t)
	dir := filepath.Join(t.TempDir(), "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.Symlink(bin, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// nodeConfig loads the shipped kubelet CredentialProviderConfig
// (node-config/credential-provider-config.yaml), falling back to the
// harness's own copy until that file exists. Returns the parsed document and
// its path.
func nodeConfig(t testing.TB) (map[string]any, string) {
	candidates := []string{
		filepath.Join(repoRoot(t), "node-config", "credential-provider-config.yaml"),
		filepath.Join("testdata", "credential-provider-config.yaml"),
	}
	if p := os.Getenv("NODE_CREDENTIAL_PROVIDER_CONFIG"); p != "" {
		candidates = []string{p}
	}
	for _, p := range candidates {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return doc, p
	}
	t.Fatalf("no credential provider config found in %v", candidates)
	return nil, ""
}

// shippedProvider returns a deep copy of the ecr-credential-provider entry of the node config.
func shippedProvider(t testing.TB) map[string]any {
	doc, path := nodeConfig(t)
	provs, _ := doc["providers"].([]any)
	for _, p := range provs {
		m, _ := p.(map[string]any)
		if m != nil && m["name"] == providerName {
			return deepCopy(t, m)
		}
	}
	t.Fatalf("%s has no provider named %s", path, providerName)
	return nil
}

func deepCopy(t testing.TB, m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// pointAtFake rewrites a provider's env so the plugin talks to the fake:
// entries with the same names are replaced, others are kept.
func pointAtFake(p map[string]any, f *fakeAWS) {
	var env []any
	override := map[string]string{}
	for _, kv := range f.env() {
		override[kv[0]] = kv[1]
	}
	if old, ok := p["env"].([]any); ok {
		for _, e := range old {
			m, _ := e.(map[string]any)
			if n, _ := m["name"].(string); n != "" {
				if _, replaced := override[n]; replaced {
					continue
				}
			}
			env = append(env, e)
		}
	}
	for _, kv := range f.env() {
		env = append(env, map[string]any{"name": kv[0], "value": kv[1]})
	}
	p["env"] = env
}

func addArgs(p map[string]any, args ...string) {
	old, _ := p["args"].([]any)
	for _, a := range args {
		old = append(old, a)
	}
	p["args"] = old
}

func addMatchImages(p map[string]any, patterns ...string) {
	old, _ := p["matchImages"].([]any)
	for _, a := range patterns {
		old = append(old, a)
	}
	p["matchImages"] = old
}

func writeConfig(t testing.TB, providers ...map[string]any) string {
	doc := map[string]any{
		"apiVersion": "kubelet.config.k8s.io/v1",
		"kind":       "CredentialProviderConfig",
		"providers":  providers,
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "credential-provider-config.yaml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type kubeletRun struct {
	childResult
	Log     string   // whole klog output
	PerLook []string // klog output of each lookup
}

// execCount: how many times the kubelet executed a plugin during lookup i.
func (k *kubeletRun) execCount(i int) int { return strings.Count(k.PerLook[i], execLogV5) }

// runKubelet runs one "kubelet" (a child process) with the spec.
func runKubelet(t testing.TB, spec childSpec) *kubeletRun {
	t.Helper()
	if spec.Verbosity == 0 {
		spec.Verbosity = 5
	}
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.json")
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(specPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childSpecEnv+"="+specPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubelet harness child failed: %v\nstderr:\n%s", err, stderr.String())
	}
	out := &kubeletRun{Log: stderr.String()}
	if err := json.Unmarshal(stdout.Bytes(), &out.childResult); err != nil {
		t.Fatalf("child output: %v\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	// Split the log per lookup.
	out.PerLook = make([]string, len(spec.Lookups))
	cur := -1
	for _, line := range strings.SplitAfter(out.Log, "\n") {
		if strings.HasPrefix(line, logMarker+" ") {
			f := strings.Fields(strings.TrimPrefix(line, logMarker))
			cur, _ = strconv.Atoi(f[0])
			continue
		}
		if cur >= 0 && cur < len(out.PerLook) {
			out.PerLook[cur] += line
		}
	}
	if os.Getenv("HARNESS_VERBOSE") != "" {
		t.Logf("kubelet log (%s):\n%s", time.Since(start), out.Log)
	}
	return out
}

// logCarries: klog prints err="..." Go-quoted (or, for multi-line values, as
// an indented block), so look for the message raw and quoted.
func logCarries(log, msg string) bool {
	if strings.Contains(log, msg) {
		return true
	}
	q := strconv.Quote(msg)
	return strings.Contains(log, q[1:len(q)-1])
}

// runPluginDirect executes the plugin as the kubelet would for one request,
// outside the kubelet, to learn its exact stdout/stderr.
func runPluginDirect(t testing.TB, p map[string]any, apiVersion, image string) (stdout, stderr string, exitCode int) {
	t.Helper()
	bin := pluginBinary(t)
	var args []string
	if a, ok := p["args"].([]any); ok {
		for _, x := range a {
			args = append(args, fmt.Sprint(x))
		}
	}
	cmd := exec.Command(bin, args...)
	env := os.Environ()
	if e, ok := p["env"].([]any); ok {
		for _, x := range e {
			m := x.(map[string]any)
			env = append(env, fmt.Sprintf("%s=%s", m["name"], m["value"]))
		}
	}
	cmd.Env = env
	req, _ := json.Marshal(map[string]string{"kind": "CredentialProviderRequest", "apiVersion": apiVersion, "image": image})
	cmd.Stdin = bytes.NewReader(append(req, '\n'))
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run plugin: %v", err)
	}
	return o.String(), e.String(), code
}
