package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/internal/browser"
)

// need finds a tool the report tests run. They run when AUGUR_REPORT_TOOLS=1
// (scripts/ci-report.sh installs Chromium and html-validate and sets it), and
// then a missing tool fails the test; otherwise they are skipped, so that
// `make unit` and `make golden` do not need a browser.
func need(t *testing.T, find func() (string, error)) string {
	t.Helper()
	if os.Getenv("AUGUR_REPORT_TOOLS") != "1" {
		t.Skip("browser and validator tests: run scripts/ci-report.sh (or set AUGUR_REPORT_TOOLS=1)")
	}
	p, err := find()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// artifactDir is where screenshots go: $AUGUR_REPORT_ARTIFACTS, else a
// temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("AUGUR_REPORT_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestReportInBrowser opens every report in a real headless Chromium from
// the file system with the network off: no console errors, no failed or
// off-machine requests, every chart drawn with a non-empty size, and a
// screenshot in each colour scheme and a printed PDF are produced.
func TestReportInBrowser(t *testing.T) {
	bin := need(t, browser.Find)
	dir := t.TempDir()
	renderReports(t, dir)
	out := artifactDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := browser.Start(ctx, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	// The harness itself must see what it is meant to catch.
	t.Run("a bad page is caught", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.html")
		page := `<!DOCTYPE html><html lang="en"><head><title>bad</title></head><body><img src="http://192.0.2.1/x.png" alt="x">` +
			`<script>console.error("boom")</script></body></html>`
		if err := os.WriteFile(bad, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := b.Open(ctx, "file://"+bad)
		if err != nil {
			t.Fatal(err)
		}
		var console, request bool
		for _, p := range res.Problems {
			console = console || strings.Contains(p, "boom")
			request = request || strings.Contains(p, "192.0.2.1")
		}
		if !console || !request {
			t.Errorf("problems %q: want the console error and the off-machine request", res.Problems)
		}
	})
	for _, c := range reportCases() {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".html")
			page, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := b.Open(ctx, "file://"+path)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range res.Problems {
				t.Errorf("%s: %s", c.name, p)
			}
			for _, u := range res.Requests {
				if u != "file://"+path {
					t.Errorf("the page requested %s", u)
				}
			}
			if want := strings.Count(string(page), `<svg class="chart"`); len(res.Charts) != want {
				t.Errorf("%d charts rendered, %d in the page", len(res.Charts), want)
			}
			for _, ch := range res.Charts {
				if ch.Width < 100 || ch.Height < 50 {
					t.Errorf("chart %s rendered %gx%g", ch.ID, ch.Width, ch.Height)
				}
			}
			if !strings.HasPrefix(res.Title, "augur") {
				t.Errorf("title %q", res.Title)
			}
			for name, png := range map[string][]byte{"light": res.Light, "dark": res.Dark} {
				if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
					t.Errorf("%s screenshot is not a PNG of some size (%d bytes)", name, len(png))
				}
				if err := os.WriteFile(filepath.Join(out, c.name+"-"+name+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if bytes.Equal(res.Light, res.Dark) {
				t.Error("the dark screenshot equals the light one")
			}
			if !bytes.HasPrefix(res.PDF, []byte("%PDF")) {
				t.Errorf("printing did not produce a PDF (%d bytes)", len(res.PDF))
			}
		})
	}
	t.Logf("screenshots in %s", out)
}

// htmlValidate finds the html-validate checker: $AUGUR_HTML_VALIDATE, else
// where scripts/ci-report.sh installs it, else on $PATH.
func htmlValidate() (string, error) {
	if p := os.Getenv("AUGUR_HTML_VALIDATE"); p != "" {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "augur-html-validate", "node_modules", ".bin", "html-validate")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("html-validate")
}

// TestReportValidates runs the html-validate checker (npm) over every report.
func TestReportValidates(t *testing.T) {
	bin := need(t, htmlValidate)
	dir := t.TempDir()
	renderReports(t, dir)
	var files []string
	for _, c := range reportCases() {
		files = append(files, filepath.Join(dir, c.name+".html"))
	}
	cfg, err := filepath.Abs(filepath.Join("testdata", "report", "htmlvalidate.json"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--config", cfg, "--formatter", "text"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("html-validate: %v\n%s", err, out)
	}
	// The checker must reject what it is meant to catch.
	bad := filepath.Join(dir, "bad.html")
	if err := os.WriteFile(bad, []byte(`<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><div><p>x</div></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--config", cfg, bad).CombinedOutput(); err == nil {
		t.Errorf("html-validate accepted a page with a misnested tag:\n%s", out)
	}
}
