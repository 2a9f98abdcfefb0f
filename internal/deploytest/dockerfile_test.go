package deploytest

import (
	"os"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
	line      int
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if cur.Len() == 0 && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		cont := strings.HasSuffix(l, "\\")
		cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
		if cont {
			continue
		}
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("%s: unfinished continuation at the end", path)
	}
	return out
}

// TestDockerfile lints the Dockerfile against what the image must be: a
// multi-stage build of a static, trimmed binary; a final stage from scratch
// with the binary and CA certificates only, a non-root numeric user and
// augur as the entrypoint — the layout scripts/image.sh builds offline.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "../../Dockerfile")
	known := map[string]bool{"FROM": true, "WORKDIR": true, "COPY": true, "RUN": true, "ARG": true, "LABEL": true,
		"USER": true, "EXPOSE": true, "ENTRYPOINT": true, "CMD": true, "ENV": true}
	var froms []int
	for i, in := range ins {
		if !known[in.cmd] {
			t.Errorf("line %d: unknown instruction %s", in.line, in.cmd)
		}
		if in.cmd == "FROM" {
			froms = append(froms, i)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(froms))
	}
	var build bool
	for _, in := range ins[:froms[len(froms)-1]] {
		if in.cmd == "RUN" && strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "-trimpath") &&
			strings.Contains(in.args, "./cmd/augur") && strings.Contains(in.args, "internal/version.version=") {
			build = true
		}
	}
	if !build {
		t.Error("no build stage RUN with CGO_ENABLED=0, -trimpath, the version ldflags and ./cmd/augur")
	}
	final := ins[froms[len(froms)-1]:]
	if final[0].args != "scratch" {
		t.Errorf("final stage FROM %s, want scratch", final[0].args)
	}
	want := map[string]string{
		"USER":       "65532:65532",
		"ENTRYPOINT": `["/usr/local/bin/augur"]`,
	}
	got := map[string]string{}
	var copies []string
	for _, in := range final[1:] {
		switch in.cmd {
		case "RUN":
			t.Errorf("line %d: RUN in the final stage (scratch has no shell)", in.line)
		case "COPY":
			f := strings.Fields(in.args)
			copies = append(copies, f[len(f)-1])
		case "LABEL":
			got["LABEL"] += in.args
		default:
			got[in.cmd] = in.args
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("final stage %s %q, want %q", k, got[k], v)
		}
	}
	if strings.HasPrefix(got["USER"], "0") || strings.HasPrefix(got["USER"], "root") {
		t.Errorf("USER %s is root", got["USER"])
	}
	wantCopies := []string{"/etc/ssl/certs/ca-certificates.crt", "/usr/local/bin/augur"}
	if strings.Join(copies, " ") != strings.Join(wantCopies, " ") {
		t.Errorf("final stage copies %q, want %q", copies, wantCopies)
	}
	for _, l := range []string{"org.opencontainers.image.version=", "org.opencontainers.image.revision="} {
		if !strings.Contains(got["LABEL"], l) {
			t.Errorf("no label %s", l)
		}
	}
	// scripts/image.sh builds the same layout.
	sh, err := os.ReadFile("../../scripts/image.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(wantCopies, "--config.user 65532:65532", "--config.entrypoint /usr/local/bin/augur",
		"org.opencontainers.image.version=", "org.opencontainers.image.revision=") {
		if !strings.Contains(string(sh), strings.TrimPrefix(s, "/")) {
			t.Errorf("scripts/image.sh does not build %q as the Dockerfile does", s)
		}
	}
}
