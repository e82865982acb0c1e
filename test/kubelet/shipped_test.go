package kubelet

// The configuration files shipped in node-config/ as the kubelet reads them:
// every CredentialProviderConfig (files and the config directory) must be
// accepted unmodified by the pinned kubelet's registration, and the
// registry-aliases variant must get credentials for its mirror hosts.

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var ecrRegion = regexp.MustCompile(`^\d{12}\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\.`)

// shippedConfigs returns node-config paths the kubelet can be pointed at:
// each file whose kind is CredentialProviderConfig, and each *.d directory of them.
func shippedConfigs(t *testing.T) []string {
	base := filepath.Join(repoRoot(t), "node-config")
	var out []string
	_ = filepath.Walk(base, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if info.IsDir() {
			if strings.HasSuffix(p, ".d") && len(providerNames(t, p)) > 0 {
				out = append(out, p)
			}
			return nil
		}
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" && ext != ".json" {
			return nil
		}
		if strings.HasSuffix(filepath.Dir(p), ".d") {
			return nil // tested through its directory
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		var doc struct{ Kind string }
		if yaml.Unmarshal(raw, &doc) == nil && doc.Kind == "CredentialProviderConfig" {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func providerNames(t *testing.T, path string) []string {
	files := []string{path}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		files, _ = filepath.Glob(filepath.Join(path, "*"))
	}
	var names []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var doc struct {
			Kind      string                  `json:"kind"`
			Providers []struct{ Name string } `json:"providers"`
		}
		if yaml.Unmarshal(raw, &doc) != nil || doc.Kind != "CredentialProviderConfig" {
			continue
		}
		for _, p := range doc.Providers {
			names = append(names, p.Name)
		}
	}
	return names
}

func TestShippedConfigsAccepted(t *testing.T) {
	configs := shippedConfigs(t)
	if len(configs) == 0 {
		t.Skip("no node-config/ CredentialProviderConfig files yet")
	}
	for _, cfg := range configs {
		rel, _ := filepath.Rel(repoRoot(t), cfg)
		t.Run(rel, func(t *testing.T) {
			k := runKubelet(t, childSpec{ConfigPath: cfg, BinDir: binDir(t, providerNames(t, cfg)...), FeatureGates: map[string]bool{saGate: true}})
			if k.RegisterError != "" {
				t.Errorf("kubelet %s refuses %s: %s", "v1.37", rel, k.RegisterError)
			}
		})
	}
	// The JSON rendition must say exactly what the YAML says.
	y := filepath.Join(repoRoot(t), "node-config", "credential-provider-config.yaml")
	j := filepath.Join(repoRoot(t), "node-config", "credential-provider-config.json")
	if yb, err := os.ReadFile(y); err == nil {
		if jb, err := os.ReadFile(j); err == nil {
			var yd, jd any
			if yaml.Unmarshal(yb, &yd) != nil || yaml.Unmarshal(jb, &jd) != nil || !reflect.DeepEqual(yd, jd) {
				t.Errorf("node-config/credential-provider-config.json differs from the .yaml")
			}
		}
	}
}

func TestShippedAliasVariant(t *testing.T) {
	path := filepath.Join(repoRoot(t), "node-config", "variants", "registry-aliases", "credential-provider-config.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skip("no registry-aliases variant yet")
	}
	var doc struct {
		Providers []map[string]any `json:"providers"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	fake := newFakeAWS(t)
	var lookups []lookupSpec
	var wantRegion []string
	for _, p := range doc.Providers {
		pointAtFake(p, fake)
		args, _ := p["args"].([]any)
		for _, a := range args {
			s, _ := a.(string)
			v, ok := strings.CutPrefix(s, "--registry-alias=")
			if !ok {
				continue
			}
			from, to, _ := strings.Cut(v, "=")
			lookups = append(lookups, lookupSpec{Image: from + "/team/app:v1"})
			m := ecrRegion.FindStringSubmatch(to)
			if m == nil {
				t.Fatalf("alias target %q is not a private ECR host", to)
			}
			wantRegion = append(wantRegion, m[1])
		}
	}
	if len(lookups) == 0 {
		t.Fatalf("%s has no --registry-alias=… args", path)
	}
	k := runKubelet(t, childSpec{ConfigPath: writeConfig(t, doc.Providers...), BinDir: binDir(t, providerName), Lookups: lookups})
	if k.RegisterError != "" {
		t.Fatal(k.RegisterError)
	}
	issued := map[string]fakeCall{}
	for _, c := range fake.Calls() {
		issued[c.Password] = c
	}
	for i, l := range lookups {
		r := k.Lookups[i]
		if len(r.Creds) != 1 || r.Creds[0].Username != "AWS" {
			t.Errorf("%s: credentials %+v, want one AWS credential; log:\n%s", l.Image, r.Creds, k.PerLook[i])
			continue
		}
		if c, ok := issued[r.Creds[0].Password]; !ok || c.Region != wantRegion[i] {
			t.Errorf("%s: token from region %q, want %q", l.Image, c.Region, wantRegion[i])
		}
	}
}
