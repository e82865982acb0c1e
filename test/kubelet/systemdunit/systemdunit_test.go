package systemdunit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A root copied from a merged-/usr host can carry /lib -> /lib (absolute, so it points at itself
// inside the root). systemd gives up after 32 links (ELOOP) and skips that directory; so must we,
// and the unit is still found in /etc. Before the limit this looped forever.
func TestSelfLinkedSearchDirIsSkipped(t *testing.T) {
	root := t.TempDir()
	if err := os.Symlink("/lib", filepath.Join(root, "lib")); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(root, "etc/systemd/system/kubelet.service")
	if err := os.MkdirAll(filepath.Dir(unit), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(unit, []byte("[Service]\nExecStart=/usr/bin/kubelet --v=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var u *Unit
	var err error
	go func() {
		defer close(done)
		u, err = Load(root, "kubelet.service")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Load did not return: a symbolic link loop in the root is followed forever")
	}
	if err != nil {
		t.Fatal(err)
	}
	if u.Fragment != "/etc/systemd/system/kubelet.service" {
		t.Fatalf("fragment %q", u.Fragment)
	}
	if _, err := u.realpath("/lib/systemd/system"); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Fatalf("realpath through the loop: %v, want ELOOP", err)
	}
}
