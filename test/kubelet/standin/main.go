// Command standin is a small stand-in for dist/ecr-credential-provider that
// speaks the kubelet exec-plugin protocol against the harness's fake AWS
// (plain HTTP, fake SigV4 header). It exists so the harness could be written
// before the real executable answered requests, and to demonstrate that the
// harness's assertions fail when a plugin misbehaves:
//
//	go build -o /tmp/standin ./standin
//	ECR_PROVIDER_BIN=/tmp/standin go test ./...                 # passes
//	ECR_PROVIDER_BIN=/tmp/standin STANDIN_BREAK=apiversion go test ./...   # fails
//
// STANDIN_BREAK (comma list): apiversion (always answers v1), authkey (key
// without the port, as a plugin that drops it would), nocache (cacheDuration
// "0s"), multiline (two-line stderr), password (appends "x" to the password).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

var ecrHost = regexp.MustCompile(`^(\d{12})\.dkr[\.\-]ecr(\-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`)

func broken(what string) bool {
	for _, b := range strings.Split(os.Getenv("STANDIN_BREAK"), ",") {
		if b == what {
			return true
		}
	}
	return false
}

func fail(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if broken("multiline") {
		msg += "\nsecond line"
	}
	fmt.Fprintln(os.Stderr, "ecr-credential-provider: "+msg)
	os.Exit(1)
}

func main() {
	aliases := map[string]string{}
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		v := ""
		switch {
		case a == "--registry-alias" && i+1 < len(args):
			v = args[i+1]
			i++
		case strings.HasPrefix(a, "--registry-alias="):
			v = strings.TrimPrefix(a, "--registry-alias=")
		default:
			continue
		}
		from, to, ok := strings.Cut(v, "=")
		if !ok {
			fail("bad --registry-alias %q", v)
		}
		aliases[from] = to
	}

	var req struct {
		APIVersion  string            `json:"apiVersion"`
		Kind        string            `json:"kind"`
		Image       string            `json:"image"`
		Token       string            `json:"serviceAccountToken"`
		Annotations map[string]string `json:"serviceAccountAnnotations"`
	}
	in, _ := io.ReadAll(os.Stdin)
	if err := json.Unmarshal(in, &req); err != nil {
		fail("stdin is not a CredentialProviderRequest")
	}
	registry, _, _ := strings.Cut(req.Image, "/")
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	target := host
	if a, ok := aliases[registry]; ok {
		target = a
	}
	service, region := "", ""
	switch {
	case target == "public.ecr.aws" || target == "ecr-public.aws.com":
		service, region = "ecr-public", "us-east-1"
	case ecrHost.MatchString(target):
		service, region = "ecr", ecrHost.FindStringSubmatch(target)[3]
	default:
		fail("registry %q is not an Amazon ECR registry", registry)
	}

	accessKey := os.Getenv("AWS_ACCESS_KEY_ID")
	if req.Token != "" {
		arn := req.Annotations["eks.amazonaws.com/ecr-role-arn"]
		if arn == "" {
			arn = req.Annotations["eks.amazonaws.com/role-arn"]
		}
		if arn != "" {
			form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {arn}, "RoleSessionName": {"ecr-credential-provider"}, "WebIdentityToken": {req.Token}}
			resp, err := http.Post(os.Getenv("AWS_ENDPOINT_URL_STS"), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			if err != nil {
				fail("sts: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			m := regexp.MustCompile(`<AccessKeyId>([^<]+)</AccessKeyId>`).FindSubmatch(b)
			if resp.StatusCode != 200 || m == nil {
				fail("sts AssumeRoleWithWebIdentity failed: HTTP %d", resp.StatusCode)
			}
			accessKey = string(m[1])
		}
	}

	endpoint, tgt := os.Getenv("AWS_ENDPOINT_URL_ECR"), "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
	if service == "ecr-public" {
		endpoint, tgt = os.Getenv("AWS_ENDPOINT_URL_ECR_PUBLIC"), "SpencerFrontendService.GetAuthorizationToken"
	}
	hr, _ := http.NewRequest("POST", endpoint+"/", bytes.NewReader([]byte("{}")))
	hr.Header.Set("X-Amz-Target", tgt)
	hr.Header.Set("Content-Type", "application/x-amz-json-1.1")
	hr.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=host, Signature=0", accessKey, time.Now().UTC().Format("20060102"), region, service))
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		fail("GetAuthorizationToken: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		fail("%s GetAuthorizationToken failed (HTTP %d %s): %s", service, resp.StatusCode, e.Type, e.Message)
	}
	var data struct {
		Token   string  `json:"authorizationToken"`
		Expires float64 `json:"expiresAt"`
	}
	if service == "ecr" {
		var r struct {
			D []json.RawMessage `json:"authorizationData"`
		}
		if json.Unmarshal(b, &r) != nil || len(r.D) == 0 || json.Unmarshal(r.D[0], &data) != nil {
			fail("bad ECR answer")
		}
	} else {
		var r struct {
			D json.RawMessage `json:"authorizationData"`
		}
		if json.Unmarshal(b, &r) != nil || json.Unmarshal(r.D, &data) != nil {
			fail("bad ECR Public answer")
		}
	}
	dec, err := base64.StdEncoding.DecodeString(data.Token)
	if err != nil {
		fail("bad token")
	}
	user, pass, _ := strings.Cut(string(dec), ":")
	if broken("password") {
		pass += "x"
	}
	half := time.Until(time.UnixMilli(int64(data.Expires*1000))) / 2
	cacheDuration := (half / time.Second * time.Second).String()
	if broken("nocache") {
		cacheDuration = "0s"
	}
	key := registry
	if broken("authkey") {
		key = host
	}
	apiVersion := req.APIVersion
	if broken("apiversion") {
		apiVersion = "credentialprovider.kubelet.k8s.io/v1"
	}
	out, _ := json.Marshal(map[string]any{
		"kind": "CredentialProviderResponse", "apiVersion": apiVersion, "cacheKeyType": "Registry",
		"cacheDuration": cacheDuration,
		"auth":          map[string]any{key: map[string]string{"username": user, "password": pass}},
	})
	os.Stdout.Write(append(out, '\n'))
}
