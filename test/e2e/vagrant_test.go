package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// validate runs `vagrant validate` on the Vagrantfile in dir, with
// Vagrant's own state in temp dirs (no box is needed to validate; the
// providers are not installed here, hence --ignore-provider).
func validate(t *testing.T, dir string, env ...string) (string, error) {
	cmd := exec.Command("vagrant", "validate", "--ignore-provider")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(env, "VAGRANT_HOME="+t.TempDir(), "VAGRANT_DOTFILE_PATH="+t.TempDir())...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestVagrantLabValidates: the multi-node Vagrant lab's Vagrantfile is
// valid for the default and a larger, external-etcd layout, a broken one
// is refused (the check can fail), and its provisioning scripts parse.
func TestVagrantLabValidates(t *testing.T) {
	if _, err := exec.LookPath("vagrant"); err != nil {
		t.Fatal("vagrant is not installed: run hack/install-deps.sh (Debian package vagrant)")
	}
	dir, _ := filepath.Abs("../../deploy/vagrant")
	for _, env := range [][]string{nil, {"MINIK8S_NODES=3", "MINIK8S_EXTERNAL_ETCD=1"}} {
		out, err := validate(t, dir, env...)
		if err != nil || !strings.Contains(out, "Vagrantfile validated successfully") {
			t.Errorf("vagrant validate %v: %v\n%s", env, err, out)
		}
	}
	broken := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(dir, "Vagrantfile"))
	os.WriteFile(filepath.Join(broken, "Vagrantfile"),
		[]byte(strings.Replace(string(b), `config.vm.box = "debian/bookworm64"`, "config.vm.box = \"debian/bookworm64\"\n  config.vm.no_such_setting = 1", 1)), 0o644)
	os.Symlink(filepath.Join(dir, "provision"), filepath.Join(broken, "provision"))
	if out, err := validate(t, broken); err == nil || !strings.Contains(out, "no_such_setting") {
		t.Errorf("a Vagrantfile with an unknown setting passed validation:\n%s", out)
	}
	scripts, _ := filepath.Glob(filepath.Join(dir, "provision", "*.sh"))
	if len(scripts) < 4 {
		t.Fatalf("found %d provisioning scripts; want common, units, etcd, control-plane and worker", len(scripts))
	}
	// The local lab provisions its nodes with the same scripts, so CI
	// runs them (TestLabServicesAcrossNodes, TestFaultTolerance).
	lab, _ := os.ReadFile("../../deploy/lab/lab.sh")
	for _, script := range []string{"deploy/vagrant/provision/control-plane.sh", "deploy/vagrant/provision/worker.sh"} {
		if !strings.Contains(string(lab), script) {
			t.Errorf("deploy/lab/lab.sh does not run %s", script)
		}
	}
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("%s does not parse: %v\n%s", filepath.Base(s), err, out)
		}
	}
}
