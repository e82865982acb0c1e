package kubelet

// Part 1: the executable under test driven by the kubelet's own credential
// provider package (k8s.io/kubernetes/pkg/credentialprovider{,/plugin}).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/kubernetes/pkg/util/parsers"
	"sigs.k8s.io/yaml"
)

const (
	aliasHost   = "registry.mirror.internal:5000"
	aliasTarget = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
)

type ecrCase struct {
	name, image string
	service     string // fake AWS service expected to be called: "ecr" or "ecr-public"
	region      string // SigV4 region expected
	repo        string // what the kubelet passes to the keyring/plugin (normalised)
}

var ecrForms = []ecrCase{
	{"aws", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0", "ecr", "us-east-1", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app"},
	{"aws-digest", "210987654321.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:" + strings.Repeat("ab", 32), "ecr", "eu-west-1", "210987654321.dkr.ecr.eu-west-1.amazonaws.com/app"},
	{"aws-cn", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1", "ecr", "cn-north-1", ""},
	{"aws-us-gov", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/app:v1", "ecr", "us-gov-west-1", ""},
	{"aws-iso", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov/app:v1", "ecr", "us-iso-east-1", ""},
	{"aws-iso-b", "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov/app:v1", "ecr", "us-isob-east-1", ""},
	{"fips", "123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com/app:v1", "ecr", "us-gov-east-1", ""},
	{"dual-stack", "123456789012.dkr-ecr.ap-southeast-2.on.aws/app:v1", "ecr", "ap-southeast-2", ""},
	{"dual-stack-cn", "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn/app:v1", "ecr", "cn-northwest-1", ""},
	{"public", "public.ecr.aws/nginx/nginx:1.27", "ecr-public", "us-east-1", "public.ecr.aws/nginx/nginx"},
	{"port", "123456789012.dkr.ecr.us-west-2.amazonaws.com:443/app:v1", "ecr", "us-west-2", "123456789012.dkr.ecr.us-west-2.amazonaws.com:443/app"},
	{"alias", aliasHost + "/team/app:v1", "ecr", "eu-central-1", aliasHost + "/team/app"},
}

// Images that are not ECR: the shipped matchImages must not run the plugin for them.
var nonECR = []string{
	"nginx:1.27",
	"quay.io/prometheus/prometheus:v3.0.0",
	"registry.k8s.io/pause:3.10",
	"123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app:v1",
	"evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1",
	"123456789012.dkr.ecr.us-east-1.amazonaws.com:5000/app:v1",
}

// TestECRFormsThroughKubelet: every ECR registry form gets AWS credentials from
// the executable through the kubelet's keyring, and non-ECR images get none
// without the executable even being run.
func TestECRFormsThroughKubelet(t *testing.T) {
	fake := newFakeAWS(t)
	p := shippedProvider(t)
	pointAtFake(p, fake)
	addArgs(p, "--registry-alias", aliasHost+"="+aliasTarget)
	// An operator adding an alias must also match it; an ECR host written with
	// an explicit port needs its own pattern too (the kubelet compares ports
	// exactly, so "*.dkr.ecr.*.amazonaws.com" never matches "…amazonaws.com:443").
	addMatchImages(p, aliasHost, "*.dkr.ecr.*.amazonaws.com:443")
	cfg := writeConfig(t, p)

	var lookups []lookupSpec
	for _, c := range ecrForms {
		lookups = append(lookups, lookupSpec{Image: c.image})
	}
	for _, img := range nonECR {
		lookups = append(lookups, lookupSpec{Image: img})
	}
	k := runKubelet(t, childSpec{ConfigPath: cfg, BinDir: binDir(t, providerName), Lookups: lookups})
	if k.RegisterError != "" {
		t.Fatalf("kubelet refused the config: %s", k.RegisterError)
	}
	issued := map[string]fakeCall{}
	for _, c := range fake.Calls() {
		if c.Password != "" {
			issued[c.Password] = c
		}
	}
	for i, c := range ecrForms {
		t.Run(c.name, func(t *testing.T) {
			r := k.Lookups[i]
			if c.repo != "" && r.Repo != c.repo {
				t.Errorf("kubelet normalised %q to %q, want %q", c.image, r.Repo, c.repo)
			}
			if n := k.execCount(i); n != 1 {
				t.Errorf("plugin ran %d times for %s, want 1", n, c.image)
			}
			if len(r.Creds) != 1 {
				t.Fatalf("got %d credentials for %s, want 1; kubelet log:\n%s", len(r.Creds), c.image, k.PerLook[i])
			}
			cr := r.Creds[0]
			if cr.Username != "AWS" {
				t.Errorf("username %q, want AWS", cr.Username)
			}
			call, ok := issued[cr.Password]
			if !ok {
				t.Fatalf("password %q was not issued by the fake AWS (calls: %+v)", cr.Password, fake.Calls())
			}
			if call.Service != c.service || call.Region != c.region {
				t.Errorf("token came from %s in %q, want %s in %q", call.Service, call.Region, c.service, c.region)
			}
			if call.AccessKey != "AKIDEXAMPLE" {
				t.Errorf("AWS call signed by %q, want the configured AKIDEXAMPLE", call.AccessKey)
			}
		})
	}
	for j, img := range nonECR {
		i := len(ecrForms) + j
		t.Run("non-ecr/"+img, func(t *testing.T) {
			if n := len(k.Lookups[i].Creds); n != 0 {
				t.Errorf("got %d credentials for non-ECR image %s", n, img)
			}
			if n := k.execCount(i); n != 0 {
				t.Errorf("plugin ran %d times for non-ECR image %s (matchImages too broad)", n, img)
			}
		})
	}
	if n := len(fake.Calls()); n != len(ecrForms) {
		t.Errorf("fake AWS saw %d calls, want %d (one per registry)", n, len(ecrForms))
	}
}

// TestAPIVersions: one provider per credentialprovider.kubelet.k8s.io version,
// each a link to the executable under its provider name; the kubelet only
// accepts an answer in the version it asked with.
func TestAPIVersions(t *testing.T) {
	fake := newFakeAWS(t)
	versions := []struct{ api, name, region string }{
		{v1, providerName, "us-east-1"},
		{v1beta1, providerName + "-v1beta1", "us-west-2"},
		{v1alpha1, providerName + "-v1alpha1", "eu-west-1"},
	}
	var provs []map[string]any
	var names []string
	var lookups []lookupSpec
	for _, v := range versions {
		p := shippedProvider(t)
		pointAtFake(p, fake)
		p["name"], p["apiVersion"] = v.name, v.api
		// Disjoint matchImages, so each image is answered by exactly one version.
		host := "123456789012.dkr.ecr." + v.region + ".amazonaws.com"
		p["matchImages"] = []any{host}
		provs = append(provs, p)
		names = append(names, v.name)
		lookups = append(lookups, lookupSpec{Image: host + "/app:v1"})
	}
	k := runKubelet(t, childSpec{ConfigPath: writeConfig(t, provs...), BinDir: binDir(t, names...), Lookups: lookups})
	if k.RegisterError != "" {
		t.Fatalf("kubelet refused the config: %s", k.RegisterError)
	}
	for i, v := range versions {
		t.Run(v.api[strings.LastIndex(v.api, "/")+1:], func(t *testing.T) {
			r := k.Lookups[i]
			if k.execCount(i) != 1 {
				t.Errorf("plugin %s ran %d times, want 1", v.name, k.execCount(i))
			}
			if len(r.Creds) != 1 || r.Creds[0].Username != "AWS" || !strings.HasPrefix(r.Creds[0].Password, "pw-ecr-"+v.region+"-") {
				t.Errorf("%s: credentials %+v, want AWS/pw-ecr-%s-*; kubelet log:\n%s", v.api, r.Creds, v.region, k.PerLook[i])
			}
		})
	}
}

// saVariantTokenAttributes: tokenAttributes of the shipped service-account
// variant (node-config/variants/service-account), or the same values while
// that file does not exist.
func saVariantTokenAttributes(t *testing.T) map[string]any {
	path := filepath.Join(repoRoot(t), "node-config", "variants", "service-account", "credential-provider-config.yaml")
	if raw, err := os.ReadFile(path); err == nil {
		var doc struct {
			Providers []map[string]any `json:"providers"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, p := range doc.Providers {
			if ta, ok := p["tokenAttributes"].(map[string]any); ok && p["name"] == providerName {
				return ta
			}
		}
		t.Fatalf("%s has no tokenAttributes for %s", path, providerName)
	}
	return map[string]any{
		"serviceAccountTokenAudience":          "sts.amazonaws.com",
		"cacheType":                            "ServiceAccount",
		"requireServiceAccount":                false,
		"optionalServiceAccountAnnotationKeys": []any{"eks.amazonaws.com/ecr-role-arn", "eks.amazonaws.com/role-arn"},
	}
}

// TestServiceAccountMode: the shipped tokenAttributes with the feature gate
// on; the kubelet mints a token for the pod's service account (through the
// harness's hooks) and passes it with the role annotation; the executable
// exchanges it at STS and signs the ECR call with the assumed role. Pods
// without a role annotation, and static pods without a service account, get
// the node's credentials.
func TestServiceAccountMode(t *testing.T) {
	fake := newFakeAWS(t)
	const (
		roleA = "arn:aws:iam::123456789012:role/puller-a"
		roleB = "arn:aws:iam::123456789012:role/puller-b"
		img   = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1"
		img2  = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/other:v2"
	)
	ta := saVariantTokenAttributes(t)
	audience, _ := ta["serviceAccountTokenAudience"].(string)
	p := shippedProvider(t)
	pointAtFake(p, fake)
	p["apiVersion"] = v1
	p["tokenAttributes"] = ta
	cfg := writeConfig(t, p)
	bin := binDir(t, providerName)

	t.Run("gate-off-rejects-tokenAttributes", func(t *testing.T) {
		k := runKubelet(t, childSpec{ConfigPath: cfg, BinDir: bin, FeatureGates: map[string]bool{saGate: false}})
		if !strings.Contains(k.RegisterError, "tokenAttributes is not supported when "+saGate+" feature gate is disabled") {
			t.Errorf("with the gate off the kubelet should refuse tokenAttributes, got %q", k.RegisterError)
		}
	})

	podA := podInfo{Namespace: "team-a", Name: "app-0", UID: "pod-uid-a", ServiceAccountName: "puller"}
	podA2 := podInfo{Namespace: "team-a", Name: "app-1", UID: "pod-uid-a2", ServiceAccountName: "puller"}
	podB := podInfo{Namespace: "team-b", Name: "app-0", UID: "pod-uid-b", ServiceAccountName: "puller"}
	static := podInfo{Namespace: "kube-system", Name: "static-0", UID: "pod-uid-s"}
	podC := podInfo{Namespace: "team-c", Name: "app-0", UID: "pod-uid-c", ServiceAccountName: "plain"}
	spec := childSpec{
		ConfigPath: cfg, BinDir: bin,
		FeatureGates: map[string]bool{saGate: true},
		SAs: map[string]serviceAccountInfo{
			"team-a/puller": {UID: "sa-uid-a", Annotations: map[string]string{"eks.amazonaws.com/ecr-role-arn": roleA, "unrelated": "x"}, Token: "token-for-team-a-puller"},
			"team-b/puller": {UID: "sa-uid-b", Annotations: map[string]string{"eks.amazonaws.com/role-arn": roleB}, Token: "token-for-team-b-puller"},
			"team-c/plain":  {UID: "sa-uid-c", Token: "token-for-team-c-plain"},
		},
		Lookups: []lookupSpec{
			{Image: img, Pod: podA},   // 0: runs with token A and role A
			{Image: img, Pod: podA2},  // 1: same SA: served from the kubelet cache
			{Image: img2, Pod: podA},  // 2: same registry, same SA: cache (Registry key)
			{Image: img, Pod: podB},   // 3: other SA: runs with token B, role from eks.amazonaws.com/role-arn
			{Image: img, Pod: static}, // 4: no SA (static pod): runs without a token, node credentials
			{Image: img, Pod: podC},   // 5: SA without role annotation: runs with a token, node credentials
		},
	}
	k := runKubelet(t, spec)
	if k.RegisterError != "" {
		t.Fatalf("kubelet refused the config: %s", k.RegisterError)
	}
	wantExec := []int{1, 0, 0, 1, 1, 1}
	for i, w := range wantExec {
		if got := k.execCount(i); got != w {
			t.Errorf("lookup %d (%s as %s/%s): plugin ran %d times, want %d", i, spec.Lookups[i].Image, spec.Lookups[i].Pod.Namespace, spec.Lookups[i].Pod.ServiceAccountName, got, w)
		}
	}
	// Token requests: audience from tokenAttributes, bound to the pod; one per lookup of a pod with an SA.
	if len(k.TokenRequests) != 5 {
		t.Errorf("kubelet made %d token requests, want 5: %+v", len(k.TokenRequests), k.TokenRequests)
	}
	for _, tr := range k.TokenRequests {
		if len(tr.Audiences) != 1 || tr.Audiences[0] != audience || tr.BoundKind != "Pod" {
			t.Errorf("token request %+v: want audience %q bound to a Pod", tr, audience)
		}
	}
	var sts, ecr []fakeCall
	for _, c := range fake.Calls() {
		switch c.Service {
		case "sts":
			sts = append(sts, c)
		case "ecr":
			ecr = append(ecr, c)
		}
	}
	if len(sts) != 2 {
		t.Fatalf("fake STS saw %d calls, want 2 (one per service account with a role): %+v", len(sts), fake.Calls())
	}
	for i, want := range []struct{ role, token string }{{roleA, "token-for-team-a-puller"}, {roleB, "token-for-team-b-puller"}} {
		if sts[i].Action != "AssumeRoleWithWebIdentity" || sts[i].Form.Get("RoleArn") != want.role || sts[i].Form.Get("WebIdentityToken") != want.token {
			t.Errorf("STS call %d: action %s role %q token %q, want AssumeRoleWithWebIdentity %q %q", i, sts[i].Action, sts[i].Form.Get("RoleArn"), sts[i].Form.Get("WebIdentityToken"), want.role, want.token)
		}
	}
	wantSigner := []string{assumedAccessKey, assumedAccessKey, "AKIDEXAMPLE", "AKIDEXAMPLE"}
	if len(ecr) != len(wantSigner) {
		t.Fatalf("fake ECR saw %d calls, want %d", len(ecr), len(wantSigner))
	}
	for i, w := range wantSigner {
		if ecr[i].AccessKey != w {
			t.Errorf("ECR call %d signed by %q, want %q", i, ecr[i].AccessKey, w)
		}
	}
	wantPw := []string{ecr[0].Password, ecr[0].Password, ecr[0].Password, ecr[1].Password, ecr[2].Password, ecr[3].Password}
	wantSA := []string{"team-a/puller", "team-a/puller", "team-a/puller", "team-b/puller", "", "team-c/plain"}
	for i := range spec.Lookups {
		r := k.Lookups[i]
		if len(r.Creds) != 1 || r.Creds[0].Username != "AWS" || r.Creds[0].Password != wantPw[i] {
			t.Errorf("lookup %d: credentials %+v, want AWS/%s; log:\n%s", i, r.Creds, wantPw[i], k.PerLook[i])
			continue
		}
		got := ""
		if sa := r.Creds[0].SA; sa != nil {
			got = sa.Namespace + "/" + sa.Name
		}
		if got != wantSA[i] {
			t.Errorf("lookup %d: credential source service account %q, want %q", i, got, wantSA[i])
		}
	}
}

// TestKubeletCache: inside cacheDuration a second lookup (same image, or
// another image of the same registry) does not run the executable.
func TestKubeletCache(t *testing.T) {
	fake := newFakeAWS(t)
	p := shippedProvider(t)
	pointAtFake(p, fake)
	const (
		a = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1"
		b = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/other@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		c = "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:v1"
	)
	k := runKubelet(t, childSpec{ConfigPath: writeConfig(t, p), BinDir: binDir(t, providerName),
		Lookups: []lookupSpec{{Image: a}, {Image: a}, {Image: b}, {Image: c}, {Image: c}}})
	if k.RegisterError != "" {
		t.Fatal(k.RegisterError)
	}
	for i, want := range []int{1, 0, 0, 1, 0} {
		if got := k.execCount(i); got != want {
			t.Errorf("lookup %d (%s): plugin ran %d times, want %d", i, k.Lookups[i].Image, got, want)
		}
		if len(k.Lookups[i].Creds) != 1 {
			t.Errorf("lookup %d: %d credentials, want 1", i, len(k.Lookups[i].Creds))
		}
	}
	if n := fake.countService("ecr"); n != 2 {
		t.Errorf("fake ECR saw %d GetAuthorizationToken calls, want 2 (one per registry)", n)
	}
	if len(k.Lookups[0].Creds) == 1 && len(k.Lookups[2].Creds) == 1 && k.Lookups[0].Creds[0].Password != k.Lookups[2].Creds[0].Password {
		t.Errorf("cached lookup returned a different password")
	}
}

// TestFailures: a refused image and AWS errors yield no credentials, are not
// cached, and the kubelet's log carries the executable's one-line stderr.
func TestFailures(t *testing.T) {
	cases := []struct {
		name, image string
		status      int
		awsType     string
		wantInMsg   []string // the one-line message must mention one of these (case-insensitive)
	}{
		{"refused-non-ecr", "quay.io/prometheus/prometheus:v3.0.0", 0, "", []string{"quay.io"}},
		{"refused-lookalike", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io/app:v1", 0, "", []string{"evil.io"}},
		{"aws-403", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1", 403, "AccessDeniedException", []string{"AccessDenied", "not authorized"}},
		{"aws-500", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1", 500, "ServerException", []string{"ServerException", "500", "internal"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeAWS(t)
			if tc.status != 0 {
				fake.set(func(f *fakeAWS) {
					f.failStatus, f.failType = tc.status, tc.awsType
					f.failMsg = "User: arn:aws:iam::123456789012:user/node is not authorized to perform: ecr:GetAuthorizationToken"
					if tc.status == 500 {
						f.failMsg = "internal server error"
					}
				})
			}
			p := shippedProvider(t)
			pointAtFake(p, fake)
			// A broad pattern set, so non-ECR hosts reach the executable and must be refused by it.
			addMatchImages(p, "*.io", "*.*.io", "*.*.*.*.*.*.*.io")
			repo, _, _, err := parsers.ParseImageName(tc.image) // what the kubelet sends
			if err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := runPluginDirect(t, p, v1, repo)
			if code == 0 {
				t.Fatalf("executable answered exit 0 for %s: %s", repo, stdout)
			}
			if strings.TrimSpace(stdout) != "" {
				t.Errorf("failed run wrote to stdout: %q", stdout)
			}
			msg := strings.TrimRight(stderr, "\n")
			if msg == "" || strings.Contains(msg, "\n") {
				t.Errorf("stderr is not one line: %q", stderr)
			}
			found := false
			for _, w := range tc.wantInMsg {
				found = found || strings.Contains(strings.ToLower(msg), strings.ToLower(w))
			}
			if !found {
				t.Errorf("stderr %q names none of %q", msg, tc.wantInMsg)
			}

			k := runKubelet(t, childSpec{ConfigPath: writeConfig(t, p), BinDir: binDir(t, providerName),
				Lookups: []lookupSpec{{Image: tc.image}, {Image: tc.image}}})
			if k.RegisterError != "" {
				t.Fatal(k.RegisterError)
			}
			for i := 0; i < 2; i++ {
				if n := len(k.Lookups[i].Creds); n != 0 {
					t.Errorf("lookup %d: %d credentials, want none", i, n)
				}
				if n := k.execCount(i); n != 1 {
					t.Errorf("lookup %d: plugin ran %d times, want 1 (failures are not cached)", i, n)
				}
				if !strings.Contains(k.PerLook[i], "Failed to provide credentials for image") || !logCarries(k.PerLook[i], msg) {
					t.Errorf("lookup %d: kubelet log does not carry the plugin's message %q:\n%s", i, msg, k.PerLook[i])
				}
			}
			if tc.status == 0 && len(fake.Calls()) != 0 {
				t.Errorf("refused image still called AWS: %+v", fake.Calls())
			}
		})
	}
}
