package judges

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// parseKV reads "key: value" lines (blank lines and # comments skipped),
// the flat form a Flagger webhook's metadata has.
func parseKV(t *testing.T, data []byte) map[string]string {
	t.Helper()
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("config line %q: want key: value", line)
		}
		kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return kv
}

func section(t *testing.T, a *txtar.Archive, name string) []byte {
	t.Helper()
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data
		}
	}
	t.Fatalf("no %s section", name)
	return nil
}

// checkGolden compares got with the want.json section, or rewrites it with -update.
func checkGolden(t *testing.T, path string, a *txtar.Archive, got any) {
	t.Helper()
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	out = append(out, '\n')
	if *update {
		for i := range a.Files {
			if a.Files[i].Name == "want.json" {
				a.Files[i].Data = out
				if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		a.Files = append(a.Files, txtar.File{Name: "want.json", Data: out})
		if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(section(t, a, "want.json")), string(out)); diff != "" {
		t.Errorf("%s mismatch (-want +got); rerun with -update if intended:\n%s", path, diff)
	}
}

func goldenFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no golden files in testdata/%s", dir)
	}
	sort.Strings(files)
	return files
}

// TestJudgeGolden runs each testdata/judge/*.txtar: a flat config, an
// input.json, and the Result as JSON in want.json.
func TestJudgeGolden(t *testing.T) {
	for _, path := range goldenFiles(t, "judge") {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := ParseConfig(parseKV(t, section(t, a, "config")))
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			var in Input
			if err := json.Unmarshal(section(t, a, "input.json"), &in); err != nil {
				t.Fatalf("input.json: %v", err)
			}
			checkGolden(t, path, a, Judge(cfg, in))
		})
	}
}

// TestScoreGolden runs each testdata/score/*.txtar: score thresholds and
// a list of metrics (flat config and input each), and the results plus the
// summary as JSON in want.json.
func TestScoreGolden(t *testing.T) {
	for _, path := range goldenFiles(t, "score") {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := ParseScoreConfig(parseKV(t, section(t, a, "score")))
			if err != nil {
				t.Fatalf("score: %v", err)
			}
			var metrics []struct {
				Config map[string]string `json:"config"`
				Input  Input             `json:"input"`
			}
			if err := json.Unmarshal(section(t, a, "metrics.json"), &metrics); err != nil {
				t.Fatalf("metrics.json: %v", err)
			}
			var results []Result
			for i, m := range metrics {
				cfg, err := ParseConfig(m.Config)
				if err != nil {
					t.Fatalf("metric %d config: %v", i, err)
				}
				results = append(results, Judge(cfg, m.Input))
			}
			sum, err := Score(sc, results)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, path, a, struct {
				Results []Result `json:"results"`
				Summary Summary  `json:"summary"`
			}{results, sum})
		})
	}
}
