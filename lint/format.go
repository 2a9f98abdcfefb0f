package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Formats Write knows.
const (
	FormatText  = "text"
	FormatJSON  = "json"
	FormatSARIF = "sarif"
)

// Write renders findings as text, JSON or SARIF 2.1.0. version is augur's
// version for SARIF's tool.driver.
func Write(w io.Writer, format string, fs []Finding, version string) error {
	switch format {
	case FormatText, "":
		return writeText(w, fs)
	case FormatJSON:
		return writeJSON(w, fs)
	case FormatSARIF:
		return writeSARIF(w, fs, version)
	}
	return fmt.Errorf("output format %q: want text, json or sarif", format)
}

// Summary counts findings by severity: "2 errors, 1 warning, 0 info".
func Summary(fs []Finding) string {
	var n [3]int
	for _, f := range fs {
		n[f.Severity]++
	}
	plural := func(k int, s string) string {
		if k == 1 {
			return fmt.Sprintf("%d %s", k, s)
		}
		return fmt.Sprintf("%d %ss", k, s)
	}
	return plural(n[Error], "error") + ", " + plural(n[Warning], "warning") + ", " + fmt.Sprintf("%d info", n[Info])
}

// OneLine joins findings into one line for a webhook answer:
// "rule (Object path): message; …".
func OneLine(fs []Finding) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s %s (%s %s): %s", f.Severity, f.Rule, f.Object, f.Path, f.Message))
	}
	return strings.Join(parts, "; ")
}

func writeText(w io.Writer, fs []Finding) error {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s: %s %s: %s: %s\n", f.Location(), f.Severity, f.Rule, f.Object, f.Path)
		fmt.Fprintf(&b, "  %s\n  fix:\n", f.Message)
		for _, l := range strings.Split(strings.TrimRight(f.Fix, "\n"), "\n") {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	b.WriteString(Summary(fs) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonReport struct {
	Findings []Finding `json:"findings"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Infos    int       `json:"infos"`
}

func writeJSON(w io.Writer, fs []Finding) error {
	r := jsonReport{Findings: fs}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	for _, f := range fs {
		switch f.Severity {
		case Error:
			r.Errors++
		case Warning:
			r.Warnings++
		default:
			r.Infos++
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// SARIF 2.1.0, the subset augur writes.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifText struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifRule struct {
		ID                   string         `json:"id"`
		Name                 string         `json:"name"`
		ShortDescription     sarifText      `json:"shortDescription"`
		FullDescription      sarifText      `json:"fullDescription"`
		HelpURI              string         `json:"helpUri"`
		Help                 sarifText      `json:"help"`
		DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
		Properties           map[string]any `json:"properties"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifResult struct {
		RuleID     string          `json:"ruleId"`
		RuleIndex  int             `json:"ruleIndex"`
		Level      string          `json:"level"`
		Message    sarifText       `json:"message"`
		Locations  []sarifLocation `json:"locations"`
		Properties map[string]any  `json:"properties"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	sarifLogical struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// DocsURL is where each rule is documented (anchor = rule id).
const DocsURL = "https://github.com/augurproj/augur/blob/main/docs/lint.md"

func level(s Severity) string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}

func writeSARIF(w io.Writer, fs []Finding, version string) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "augur", Version: version, InformationURI: "https://github.com/augurproj/augur"}}}
	idx := map[string]int{}
	for i, r := range Rules {
		idx[r.ID] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: r.ID, Name: r.ID,
			ShortDescription:     sarifText{Text: r.Title},
			FullDescription:      sarifText{Text: r.Rationale},
			HelpURI:              DocsURL + "#" + r.ID,
			Help:                 sarifText{Text: r.Rationale + " Source: " + r.Source},
			DefaultConfiguration: sarifConfig{Level: level(r.Severity)},
			Properties:           map[string]any{"category": r.Category, "tags": []string{r.Category}},
		})
	}
	run.Results = []sarifResult{}
	for _, f := range fs {
		loc := sarifLocation{LogicalLocations: []sarifLogical{{FullyQualifiedName: f.Object + ": " + f.Path, Kind: "object"}}}
		if f.File != "" && f.File != "cluster" {
			p := &sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(f.File)}}
			if f.Line > 0 {
				p.Region = &sarifRegion{StartLine: f.Line, StartColumn: f.Column}
			}
			loc.PhysicalLocation = p
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: f.Rule, RuleIndex: idx[f.Rule], Level: level(f.Severity),
			Message: sarifText{
				Text:     f.Object + " " + f.Path + ": " + f.Message + " Fix:\n" + f.Fix,
				Markdown: "**" + f.Object + "** `" + f.Path + "`: " + f.Message + "\n\nFix:\n```yaml\n" + f.Fix + "```\n",
			},
			Locations:  []sarifLocation{loc},
			Properties: map[string]any{"object": f.Object, "path": f.Path, "fix": f.Fix},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

// Brief joins findings as "severity rule (Object path)", without messages:
// for a one-line answer that OneLine would make too long.
func Brief(fs []Finding) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s %s (%s %s)", f.Severity, f.Rule, f.Object, f.Path))
	}
	return strings.Join(parts, "; ")
}
