package kubelet

// Part 2: a real registry pull. Debian's docker-registry (distribution 2.8)
// with htpasswd auth for user AWS and the password the fake ECR issues; an
// image pushed from an OCI layout built here; skopeo pulls it with exactly
// the credentials the executable returned (through the kubelet's keyring) for
// `--registry-alias 127.0.0.1:<port>=<ECR registry>`. Wrong, missing and
// expired (rotated) passwords must make the pull fail.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

type registry struct {
	t       *testing.T
	addr    string // 127.0.0.1:port
	root    string
	cmd     *exec.Cmd
	logFile string
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startRegistry (re)starts docker-registry on addr with htpasswd user AWS:password.
func startRegistry(t *testing.T, r *registry, password string) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(r.root, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("AWS:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
  secret: conformance-test-secret
auth:
  htpasswd:
    realm: conformance
    path: %s
`, filepath.Join(r.root, "data"), r.addr, htpasswd)
	cfgPath := filepath.Join(r.root, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(r.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command("docker-registry", "serve", cfgPath)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start docker-registry: %v", err)
	}
	logf.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(r.logFile)
			t.Fatalf("docker-registry did not come up on %s (last err %v):\n%s", r.addr, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *registry) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// makeOCILayout writes a one-layer image (a single text file) as an OCI image
// layout with tag "v1" and returns the layer's digest.
func makeOCILayout(t *testing.T, dir, content string) string {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	body := []byte(content)
	if err := tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarBuf.Bytes())
	zw.Close()
	layer := gz.Bytes()

	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digestOf(tarBuf.Bytes())}},
	})
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digestOf(config), "size": len(config)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digestOf(layer), "size": len(layer)}},
	})
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digestOf(manifest), "size": len(manifest),
			"annotations": map[string]string{"org.opencontainers.image.ref.name": "v1"},
		}},
	})
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{layer, config, manifest} {
		if err := os.WriteFile(filepath.Join(blobs, strings.TrimPrefix(digestOf(b), "sha256:")), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644)
	return digestOf(layer)
}

func skopeo(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "skopeo", append([]string{"--insecure-policy"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func randomToken(t *testing.T) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "ecr-" + hex.EncodeToString(b)
}

func TestRegistryPull(t *testing.T) {
	for _, tool := range []string{"docker-registry", "skopeo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (test/conformance.sh installs it: apt-get install docker-registry skopeo)", tool)
		}
	}
	work := t.TempDir()
	r := &registry{t: t, addr: freePort(t), root: work, logFile: filepath.Join(work, "registry.log")}
	t.Cleanup(r.stop)

	fake := newFakeAWS(t)
	password := randomToken(t)
	fake.set(func(f *fakeAWS) { f.password = password })
	startRegistry(t, r, password)

	// Push an image into the registry as the ECR token's owner would.
	layout := filepath.Join(work, "layout")
	layerDigest := makeOCILayout(t, layout, "hello from the conformance test\n")
	ref := "docker://" + r.addr + "/team/app:v1"
	if out, err := skopeo(t, "copy", "--dest-tls-verify=false", "--dest-creds", "AWS:"+password, "oci:"+layout+":v1", ref); err != nil {
		t.Fatalf("push failed: %v\n%s", err, out)
	}

	// The kubelet, configured with the shipped provider plus an alias for the
	// local registry, looks the image up.
	p := shippedProvider(t)
	pointAtFake(p, fake)
	addArgs(p, "--registry-alias", r.addr+"=123456789012.dkr.ecr.us-east-1.amazonaws.com")
	addMatchImages(p, r.addr)
	cfg := writeConfig(t, p)
	bin := binDir(t, providerName)
	image := r.addr + "/team/app:v1"
	lookup := func() credResult {
		t.Helper()
		k := runKubelet(t, childSpec{ConfigPath: cfg, BinDir: bin, Lookups: []lookupSpec{{Image: image}}})
		if k.RegisterError != "" {
			t.Fatal(k.RegisterError)
		}
		if len(k.Lookups[0].Creds) != 1 {
			t.Fatalf("kubelet got %d credentials for %s, want 1; log:\n%s", len(k.Lookups[0].Creds), image, k.Log)
		}
		return k.Lookups[0].Creds[0]
	}
	cred := lookup()

	// What the executable itself printed for the same request must be the same pair.
	stdout, stderr, code := runPluginDirect(t, p, v1, r.addr+"/team/app")
	if code != 0 {
		t.Fatalf("executable failed (%d): %s", code, stderr)
	}
	var resp struct {
		Auth map[string]struct{ Username, Password string } `json:"auth"`
	}
	if err := json.Unmarshal([]byte(stdout), &resp); err != nil {
		t.Fatalf("executable stdout: %v: %q", err, stdout)
	}
	printed, ok := resp.Auth[r.addr]
	if !ok || printed.Username != cred.Username || printed.Password != cred.Password {
		t.Fatalf("executable printed auth %+v (key %s), kubelet keyring holds %s/%s", resp.Auth, r.addr, cred.Username, cred.Password)
	}

	pull := func(creds string) (string, error) {
		out := filepath.Join(t.TempDir(), "pulled")
		args := []string{"copy", "--src-tls-verify=false"}
		if creds != "" {
			args = append(args, "--src-creds", creds)
		} else {
			args = append(args, "--src-no-creds")
		}
		o, err := skopeo(t, append(args, ref, "oci:"+out+":v1")...)
		if err == nil {
			if _, serr := os.Stat(filepath.Join(out, "blobs", "sha256", strings.TrimPrefix(layerDigest, "sha256:"))); serr != nil {
				return o, fmt.Errorf("pulled layout lacks layer %s: %v", layerDigest, serr)
			}
		}
		return o, err
	}

	t.Run("pull-with-kubelet-credentials", func(t *testing.T) {
		if out, err := pull(cred.Username + ":" + cred.Password); err != nil {
			t.Fatalf("pull with the executable's credentials failed: %v\n%s", err, out)
		}
	})
	t.Run("wrong-password-fails", func(t *testing.T) {
		if out, err := pull(cred.Username + ":" + cred.Password + "x"); err == nil {
			t.Fatalf("pull with a wrong password succeeded:\n%s", out)
		}
	})
	t.Run("no-credentials-fails", func(t *testing.T) {
		if out, err := pull(""); err == nil {
			t.Fatalf("anonymous pull succeeded:\n%s", out)
		}
	})
	t.Run("expired-password-fails", func(t *testing.T) {
		// The token expires: the registry now only knows the next one, which is
		// what ECR (the fake) issues from now on.
		next := randomToken(t)
		r.stop()
		fake.set(func(f *fakeAWS) { f.password = next })
		startRegistry(t, r, next)
		if out, err := pull(cred.Username + ":" + cred.Password); err == nil {
			t.Fatalf("pull with the expired password succeeded:\n%s", out)
		}
		fresh := lookup() // a new kubelet (empty cache) asks the executable again
		if fresh.Password != next {
			t.Fatalf("fresh lookup returned %q, want the newly issued token", fresh.Password)
		}
		if out, err := pull(fresh.Username + ":" + fresh.Password); err != nil {
			t.Fatalf("pull with the fresh credentials failed: %v\n%s", err, out)
		}
	})
}
