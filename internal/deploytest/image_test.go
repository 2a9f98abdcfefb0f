package deploytest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations"`
}

type imageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		User         string              `json:"User"`
		Entrypoint   []string            `json:"Entrypoint"`
		Cmd          []string            `json:"Cmd"`
		Labels       map[string]string   `json:"Labels"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
	} `json:"config"`
}

func readBlob(t *testing.T, layout, digest string, v any) {
	t.Helper()
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok {
		t.Fatalf("bad digest %q", digest)
	}
	b, err := os.ReadFile(filepath.Join(layout, "blobs", alg, hex))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("blob %s: %v", digest, err)
	}
}

// TestImage checks the image `make image` built: its config (entrypoint,
// non-root user, version labels) and, unpacked by umoci, its root
// filesystem, whose augur binary must run and report the labels' version.
func TestImage(t *testing.T) {
	dir := os.Getenv("AUGUR_IMAGE_DIR")
	if dir == "" {
		t.Skip("AUGUR_IMAGE_DIR unset: run `make image` and scripts/ci-deploy.sh")
	}
	layout := filepath.Join(dir, "oci")
	var index struct {
		Manifests []ociDescriptor `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	var latest *ociDescriptor
	for i, m := range index.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] == "latest" {
			latest = &index.Manifests[i]
		}
	}
	if latest == nil {
		t.Fatalf("no tag latest in %s", b)
	}
	var manifest struct {
		Config ociDescriptor   `json:"config"`
		Layers []ociDescriptor `json:"layers"`
	}
	readBlob(t, layout, latest.Digest, &manifest)
	if len(manifest.Layers) != 1 {
		t.Errorf("%d layers, want 1 (no base image)", len(manifest.Layers))
	}
	var cfg imageConfig
	readBlob(t, layout, manifest.Config.Digest, &cfg)
	c := cfg.Config
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/augur"}) {
		t.Errorf("Entrypoint %q", c.Entrypoint)
	}
	if !slices.Equal(c.Cmd, []string{"serve", "--listen=:8080"}) {
		t.Errorf("Cmd %q", c.Cmd)
	}
	if c.User != "65532:65532" {
		t.Errorf("User %q, want 65532:65532 (non-root)", c.User)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ExposedPorts %v", c.ExposedPorts)
	}
	if cfg.OS != "linux" {
		t.Errorf("os %q", cfg.OS)
	}

	// Unpack with umoci and run the image's own binary.
	bundle := filepath.Join(t.TempDir(), "bundle")
	if out, err := exec.Command("umoci", "unpack", "--rootless", "--image", layout+":latest", bundle).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, out)
	}
	rootfs := filepath.Join(bundle, "rootfs")
	var files []string
	err = filepath.WalkDir(rootfs, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(rootfs, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if want := []string{"etc/ssl/certs/ca-certificates.crt", "usr/local/bin/augur"}; !slices.Equal(files, want) {
		t.Errorf("files %q, want only %q (no shell, nothing else)", files, want)
	}
	if fi, err := os.Stat(filepath.Join(rootfs, "tmp")); err != nil || !fi.IsDir() {
		t.Errorf("/tmp: %v", err)
	}
	out, err := exec.Command(filepath.Join(rootfs, "usr/local/bin/augur"), "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("augur version from the image: %v", err)
	}
	var v struct {
		Version, Commit, GoVersion string
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if v.Version != c.Labels["org.opencontainers.image.version"] || v.Commit != c.Labels["org.opencontainers.image.revision"] || v.Commit == "" {
		t.Errorf("the binary says version %q commit %q; labels say %q %q", v.Version, v.Commit,
			c.Labels["org.opencontainers.image.version"], c.Labels["org.opencontainers.image.revision"])
	}
	if !strings.HasPrefix(v.GoVersion, "go1.") {
		t.Errorf("goVersion %q", v.GoVersion)
	}
	// The init container of examples/argo-rollouts: the image's binary
	// copies itself to a shared volume, and the copy runs.
	plugins := t.TempDir()
	if out, err := exec.Command(filepath.Join(rootfs, "usr/local/bin/augur"), "install-binary", filepath.Join(plugins, "augur")).CombinedOutput(); err != nil {
		t.Fatalf("install-binary: %v\n%s", err, out)
	}
	if out2, err := exec.Command(filepath.Join(plugins, "augur"), "version", "-o", "json").Output(); err != nil || string(out2) != string(out) {
		t.Errorf("the installed copy says %q (%v), want %q", out2, err, out)
	}
	// The runtime config umoci derived from the image: non-root.
	var rt struct {
		Process struct {
			User struct {
				UID, GID int
			} `json:"user"`
			Args []string `json:"args"`
		} `json:"process"`
	}
	b, err = os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rt); err != nil {
		t.Fatal(err)
	}
	if rt.Process.User.UID != 65532 || rt.Process.User.GID != 65532 {
		t.Errorf("runtime user %+v", rt.Process.User)
	}
	if !slices.Equal(rt.Process.Args, []string{"/usr/local/bin/augur", "serve", "--listen=:8080"}) {
		t.Errorf("runtime args %q", rt.Process.Args)
	}
}
