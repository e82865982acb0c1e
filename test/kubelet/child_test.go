package kubelet

// The "kubelet" half of the harness. Provider registration in the kubelet's
// plugin package is process-global (and panics on a duplicate name), so each
// scenario runs in a fresh child process: the test binary re-executes itself
// with KUBELET_HARNESS_SPEC pointing at a JSON spec, the child registers the
// providers from a CredentialProviderConfig file + bin dir exactly as the
// kubelet's kuberuntime manager does, performs the image-credential lookups
// exactly as the kubelet's image manager does, prints the results as JSON on
// stdout and leaves its klog output (the "kubelet log") on stderr.

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
	credentialprovidersecrets "k8s.io/kubernetes/pkg/credentialprovider/secrets"
	"k8s.io/kubernetes/pkg/util/parsers"
)

const childSpecEnv = "KUBELET_HARNESS_SPEC"

// logMarker separates the child's stderr per lookup: "<marker> <index>".
const logMarker = "=== HARNESS LOOKUP"

type podInfo struct {
	Namespace          string `json:"namespace,omitempty"`
	Name               string `json:"name,omitempty"`
	UID                string `json:"uid,omitempty"`
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

type serviceAccountInfo struct {
	UID         string            `json:"uid"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Token       string            `json:"token"` // what the (fake) TokenRequest API returns for it
}

type childSpec struct {
	ConfigPath   string                        `json:"configPath"`
	BinDir       string                        `json:"binDir"`
	FeatureGates map[string]bool               `json:"featureGates,omitempty"`
	Verbosity    int                           `json:"verbosity,omitempty"`
	SAs          map[string]serviceAccountInfo `json:"serviceAccounts,omitempty"` // key "namespace/name"
	Lookups      []lookupSpec                  `json:"lookups"`
}

type lookupSpec struct {
	Image string  `json:"image"`
	Pod   podInfo `json:"pod,omitempty"`
}

type credResult struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Service-account coordinates the keyring attached to the credential (nil without SA mode).
	SA *credentialprovider.ServiceAccountCoordinates `json:"sa,omitempty"`
}

type lookupResult struct {
	Image string       `json:"image"`
	Repo  string       `json:"repo"` // what the kubelet hands to the keyring (and the plugin)
	Creds []credResult `json:"creds"`
	Error string       `json:"error,omitempty"`
}

type tokenRequestLog struct {
	Namespace      string   `json:"namespace"`
	Name           string   `json:"name"`
	SAUID          string   `json:"saUID"`
	Audiences      []string `json:"audiences"`
	BoundKind      string   `json:"boundKind"`
	BoundName      string   `json:"boundName"`
	BoundUID       string   `json:"boundUID"`
	ExpirationSecs *int64   `json:"expirationSeconds,omitempty"`
}

type childResult struct {
	RegisterError string            `json:"registerError,omitempty"`
	Lookups       []lookupResult    `json:"lookups"`
	TokenRequests []tokenRequestLog `json:"tokenRequests,omitempty"`
	SAReads       []string          `json:"serviceAccountReads,omitempty"`
}

func runChild(specPath string) int {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: read spec:", err)
		return 2
	}
	var spec childSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child: parse spec:", err)
		return 2
	}

	// klog as the kubelet configures it by default: text to stderr.
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "true")
	_ = fs.Set("v", fmt.Sprint(spec.Verbosity))

	// Feature gates through the same global gate the plugin package reads
	// (what the kubelet's --feature-gates flag ends up setting).
	if len(spec.FeatureGates) > 0 {
		if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(spec.FeatureGates); err != nil {
			fmt.Fprintln(os.Stderr, "child: feature gates:", err)
			return 2
		}
	}

	var mu sync.Mutex
	res := childResult{Lookups: []lookupResult{}}

	// The kubelet passes tokenManager.GetServiceAccountToken and a
	// ServiceAccount getter backed by the API server; these hooks stand in
	// for both, serving the spec's service accounts.
	getToken := func(namespace, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
		mu.Lock()
		defer mu.Unlock()
		l := tokenRequestLog{Namespace: namespace, Name: name, SAUID: string(tr.UID), Audiences: tr.Spec.Audiences, ExpirationSecs: tr.Spec.ExpirationSeconds}
		if b := tr.Spec.BoundObjectRef; b != nil {
			l.BoundKind, l.BoundName, l.BoundUID = b.Kind, b.Name, string(b.UID)
		}
		res.TokenRequests = append(res.TokenRequests, l)
		sa, ok := spec.SAs[namespace+"/"+name]
		if !ok {
			return nil, fmt.Errorf("serviceaccounts %q not found", name)
		}
		out := tr.DeepCopy()
		out.Status = authenticationv1.TokenRequestStatus{Token: sa.Token, ExpirationTimestamp: metav1.Now()}
		return out, nil
	}
	getSA := func(namespace, name string) (*corev1.ServiceAccount, error) {
		mu.Lock()
		defer mu.Unlock()
		res.SAReads = append(res.SAReads, namespace+"/"+name)
		sa, ok := spec.SAs[namespace+"/"+name]
		if !ok {
			return nil, fmt.Errorf("serviceaccounts %q not found", name)
		}
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(sa.UID), Annotations: sa.Annotations}}, nil
	}

	if err := plugin.RegisterCredentialProviderPlugins(spec.ConfigPath, spec.BinDir, getToken, getSA); err != nil {
		klog.ErrorS(err, "Failed to register CRI auth plugins")
		klog.Flush()
		res.RegisterError = err.Error()
		_ = json.NewEncoder(os.Stdout).Encode(res)
		return 0
	}

	for i, l := range spec.Lookups {
		klog.Flush()
		fmt.Fprintf(os.Stderr, "%s %d %s\n", logMarker, i, l.Image)
		lr := lookupResult{Image: l.Image, Creds: []credResult{}}
		// pkg/kubelet/images/image_manager.go makeLookupPullCredentialsFunc:
		repoToPull, _, _, err := parsers.ParseImageName(l.Image)
		if err != nil {
			lr.Error = err.Error()
			res.Lookups = append(res.Lookups, lr)
			continue
		}
		lr.Repo = repoToPull
		var podName, podNamespace, podUID string
		if utilfeature.DefaultFeatureGate.Enabled("KubeletServiceAccountTokenForCredentialProviders") {
			podName, podNamespace, podUID = l.Pod.Name, l.Pod.Namespace, l.Pod.UID
		}
		external := plugin.NewExternalCredentialProviderDockerKeyring(podNamespace, podName, podUID, l.Pod.ServiceAccountName)
		nodeKeyring := &credentialprovider.BasicDockerKeyring{} // no node-wide docker config
		keyring, err := credentialprovidersecrets.MakeDockerKeyring(nil, credentialprovider.UnionDockerKeyring{nodeKeyring, external})
		if err != nil {
			lr.Error = err.Error()
			res.Lookups = append(res.Lookups, lr)
			continue
		}
		creds, _ := keyring.Lookup(repoToPull)
		for _, c := range creds {
			cr := credResult{Username: c.Username, Password: c.Password}
			if c.Source != nil {
				cr.SA = c.Source.ServiceAccount
			}
			lr.Creds = append(lr.Creds, cr)
		}
		res.Lookups = append(res.Lookups, lr)
	}
	klog.Flush()
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "child: encode:", err)
		return 2
	}
	return 0
}
