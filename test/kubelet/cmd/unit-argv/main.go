// unit-argv prints, as JSON, the argv systemd would execute for a unit under a root directory,
// expanded by the systemdunit package (independently of node-config/install.sh):
//
//	cd test/kubelet && go run ./cmd/unit-argv --root /path/to/root [--unit kubelet.service] [--key ExecStart]
//
// Output: {"unit", "fragment", "dropIns", "path", "prefixes", "argv"} where argv[0] is what the
// process sees as its name and argv[1:] are the arguments (for the kubelet: its flags). Exit 1 with a
// message on stderr when systemd would refuse the unit or cannot start the command.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/ecr-credential-provider/test/kubelet/systemdunit"
)

func main() {
	root := flag.String("root", "/", "root directory holding etc/, usr/, run/ ... of the node")
	unit := flag.String("unit", "kubelet.service", "unit name")
	key := flag.String("key", "ExecStart", "Exec setting (ExecStart, ExecStartPre, ...); ExecStart must hold exactly one command")
	flag.Parse()
	u, err := systemdunit.Load(*root, *unit)
	if err != nil {
		fail(err)
	}
	cmds := u.Exec[*key]
	if *key == "ExecStart" {
		c, err := u.ExecStart()
		if err != nil {
			fail(err)
		}
		cmds = []systemdunit.Command{c}
	}
	type out struct {
		Unit     string   `json:"unit"`
		Fragment string   `json:"fragment"`
		DropIns  []string `json:"dropIns"`
		Path     string   `json:"path"`
		Prefixes string   `json:"prefixes"`
		Argv     []string `json:"argv"`
	}
	var res []out
	for _, c := range cmds {
		argv, err := u.Argv(c)
		if err != nil {
			fail(err)
		}
		res = append(res, out{Unit: u.Name, Fragment: u.Fragment, DropIns: u.DropIns, Path: c.Path, Prefixes: c.Prefixes, Argv: argv})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if *key == "ExecStart" {
		_ = enc.Encode(res[0])
	} else {
		_ = enc.Encode(res)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "unit-argv:", err)
	os.Exit(1)
}
