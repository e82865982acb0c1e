package kubelet

// A minimal fake of the three AWS APIs the plugin calls, on 127.0.0.1:
//   - ECR         POST /  X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken (awsJson1_1)
//   - ECR Public  POST /  X-Amz-Target: SpencerFrontendService.GetAuthorizationToken (awsJson1_1)
//   - STS         POST /  Action=AssumeRoleWithWebIdentity (awsQuery, XML answer)
// One server answers all three (the plugin is pointed at it with
// AWS_ENDPOINT_URL_ECR / _ECR_PUBLIC / _STS). Every call is logged with the
// SigV4 credential scope it was signed with, so tests can check the region,
// the service and which access key signed it.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	ecrTarget       = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
	ecrPublicTarget = "SpencerFrontendService.GetAuthorizationToken"
	// Credentials STS hands out for AssumeRoleWithWebIdentity.
	assumedAccessKey = "ASIAFAKEASSUMEDROLE1"
)

type fakeCall struct {
	Service   string // "ecr", "ecr-public", "sts"
	Action    string
	Region    string // from the SigV4 credential scope ("" when unsigned)
	SigningAs string // service name in the credential scope
	AccessKey string // access key id that signed the call
	Form      url.Values
	Body      string
	Status    int
	Password  string // password issued (ECR calls that succeeded)
}

type fakeAWS struct {
	t   testing.TB
	URL string
	srv *http.Server

	mu    sync.Mutex
	calls []fakeCall
	seq   int

	// Knobs, change with set().
	failStatus int           // non-zero: answer every ECR/ECR Public call with this status
	failType   string        // AWS error code for failStatus
	failMsg    string        // AWS error message for failStatus
	password   string        // non-empty: issue this password instead of a generated one
	expiresIn  time.Duration // token lifetime (default 12h)
}

var scopeRE = regexp.MustCompile(`Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`)

func newFakeAWS(t testing.TB) *fakeAWS {
	f := &fakeAWS{t: t, expiresIn: 12 * time.Hour}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fake aws: %v", err)
	}
	f.URL = "http://" + ln.Addr().String()
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	t.Cleanup(func() { _ = f.srv.Close() })
	return f
}

func (f *fakeAWS) set(fn func(f *fakeAWS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeAWS) Calls() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

func (f *fakeAWS) countService(service string) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Service == service {
			n++
		}
	}
	return n
}

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	c := fakeCall{Body: string(body)}
	if m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.AccessKey, c.Region, c.SigningAs = m[1], m[2], m[3]
	}
	target := r.Header.Get("X-Amz-Target")

	f.mu.Lock()
	defer func() {
		f.calls = append(f.calls, c)
		f.mu.Unlock()
	}()

	awsErr := func(status int, code, msg string) {
		c.Status = status
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.Header().Set("X-Amzn-RequestId", "fake-request-id")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
	}

	switch {
	case r.Method == http.MethodPost && (target == ecrTarget || target == ecrPublicTarget):
		c.Service, c.Action = "ecr", "GetAuthorizationToken"
		if target == ecrPublicTarget {
			c.Service = "ecr-public"
		}
		if f.failStatus != 0 {
			awsErr(f.failStatus, f.failType, f.failMsg)
			return
		}
		f.seq++
		pw := f.password
		if pw == "" {
			pw = fmt.Sprintf("pw-%s-%s-%d", c.Service, c.Region, f.seq)
		}
		c.Password, c.Status = pw, 200
		token := base64.StdEncoding.EncodeToString([]byte("AWS:" + pw))
		expires := float64(time.Now().Add(f.expiresIn).UnixMilli()) / 1000
		var out any
		if c.Service == "ecr" {
			out = map[string]any{"authorizationData": []map[string]any{{
				"authorizationToken": token,
				"expiresAt":          expires,
				"proxyEndpoint":      "https://123456789012.dkr.ecr." + c.Region + ".amazonaws.com",
			}}}
		} else {
			out = map[string]any{"authorizationData": map[string]any{"authorizationToken": token, "expiresAt": expires}}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)

	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		form, _ := url.ParseQuery(string(body))
		c.Service, c.Action, c.Form = "sts", form.Get("Action"), form
		if c.Action != "AssumeRoleWithWebIdentity" {
			c.Status = 400
			w.WriteHeader(400)
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>fake sts: %s</Message></Error></ErrorResponse>`, c.Action)
			return
		}
		c.Status = 200
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:fake</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser><Arn>%s/ecr-credential-provider</Arn><AssumedRoleId>AROAFAKE:ecr-credential-provider</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>%s</AccessKeyId>
      <SecretAccessKey>fakeAssumedSecretKey</SecretAccessKey>
      <SessionToken>fakeAssumedSessionToken</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <Provider>oidc.fake</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>fake-request-id</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`, form.Get("RoleArn"), assumedAccessKey, exp)

	default:
		c.Service, c.Action = "unknown", r.Method+" "+r.URL.Path+" "+target
		awsErr(400, "UnknownOperationException", "fake aws: unknown operation")
	}
}

// env is what the provider config's `env` gets to send the plugin to this fake.
func (f *fakeAWS) env() [][2]string {
	return [][2]string{
		{"AWS_ENDPOINT_URL_ECR", f.URL},
		{"AWS_ENDPOINT_URL_ECR_PUBLIC", f.URL},
		{"AWS_ENDPOINT_URL_STS", f.URL},
		{"AWS_EC2_METADATA_SERVICE_ENDPOINT", f.URL},
		{"AWS_EC2_METADATA_DISABLED", "true"},
		{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
		{"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{"ECR_CREDENTIAL_PROVIDER_NO_CACHE", "1"},
	}
}
