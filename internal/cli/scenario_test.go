package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/internal/scenario"
	"github.com/augurproj/augur/service"
)

// TestScenariosThroughCLI runs the shared corpus through `augur analyze`:
// files on disk, flags, JSON output — the same decisions as in-process.
func TestScenariosThroughCLI(t *testing.T) {
	td, err := scenario.TestdataDir()
	if err != nil {
		t.Fatal(err)
	}
	decide := func(ctx context.Context, s *scenario.Scenario, req service.DecideRequest) (analysis.Decision, error) {
		dir := t.TempDir()
		hookURL := ""
		if a := req.Canary.GetAnalysis(); a != nil {
			for _, h := range a.Webhooks {
				if i := strings.Index(h.URL, "://"); i > 0 {
					rest := h.URL[i+3:]
					hookURL = h.URL[:i+3] + rest[:strings.IndexByte(rest+"/", '/')]
					break
				}
			}
		}
		canary := strings.ReplaceAll(string(s.CanaryYAML), "http://"+scenario.HookHost, hookURL)
		files := map[string][]byte{"canary.yaml": []byte(canary), "templates.yaml": s.TemplatesYAML}
		st, _ := json.Marshal(req.Status)
		files["status.json"] = st
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return analysis.Decision{}, err
			}
		}
		args := []string{"analyze", "-f", filepath.Join(dir, "canary.yaml"), "--status", filepath.Join(dir, "status.json"),
			"--webhooks", "call", "--checksum", req.Checksum, "-o", "json"}
		if len(s.TemplatesYAML) > 0 {
			args = append(args, "-f", filepath.Join(dir, "templates.yaml"))
		}
		if s.Spec.MeshProvider != "" {
			args = append(args, "--mesh-provider", s.Spec.MeshProvider)
		}
		if req.NewRevision {
			args = append(args, "--new-revision")
		}
		if req.At != nil {
			args = append(args, "--at", req.At.Format("2006-01-02T15:04:05.999999999Z07:00"))
		}
		if p := s.DataPath(td); p != "" {
			args = append(args, "--data", p)
		}
		for name, v := range req.Values {
			if v.Error != "" {
				args = append(args, "--value", name+"=error:"+v.Error)
			} else {
				args = append(args, "--value", name+"="+strconv.FormatFloat(*v.Value, 'g', -1, 64))
			}
		}
		var out, errOut bytes.Buffer
		code := Run(ctx, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
		if code == ExitBadInput {
			return analysis.Decision{}, fmt.Errorf("augur %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		var d analysis.Decision
		if err := json.Unmarshal(out.Bytes(), &d); err != nil {
			t.Fatalf("decode output: %v\n%s\nstderr: %s", err, out.String(), errOut.String())
		}
		return d, nil
	}
	scenario.Run(t, decide, scenario.RunOptions{Skip: func(s *scenario.Scenario) string {
		if s.Spec.Readiness.V != (analysis.Readiness{}) {
			return "workload readiness comes from the driver's request; the CLI has no readiness flags"
		}
		if s.Spec.TemplatesInCluster {
			return "the scenario resolves templates in a cluster; analyze -f has the files only (TestAnalyzeFromCluster: template missing from the cluster holds)"
		}
		return ""
	}})
}
