package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := func(v string, settings ...string) *debug.BuildInfo {
		b := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/augurproj/augur", Version: v}}
		for i := 0; i+1 < len(settings); i += 2 {
			b.Settings = append(b.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return b
	}
	tests := []struct {
		name             string
		bi               *debug.BuildInfo
		ldVer, ldCommit  string
		wantVer, wantCom string
	}{
		{"go install of a tag", bi("v1.2.3"), "", "", "v1.2.3", "unknown"},
		{"checkout with vcs info", bi("(devel)", "vcs.revision", "abc123", "vcs.modified", "false"), "", "", "(devel)", "abc123"},
		{"dirty checkout", bi("(devel)", "vcs.revision", "abc123", "vcs.modified", "true"), "", "", "(devel)", "abc123-dirty"},
		{"linker flags win", bi("(devel)", "vcs.revision", "abc123"), "v0.9.0", "def456", "v0.9.0", "def456"},
		{"no build info", nil, "", "", "(devel)", "unknown"},
		{"empty main version", bi(""), " ", "", "(devel)", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromBuildInfo(tt.bi, tt.ldVer, tt.ldCommit)
			if got.Version != tt.wantVer || got.Commit != tt.wantCom {
				t.Errorf("got version %q commit %q, want %q %q", got.Version, got.Commit, tt.wantVer, tt.wantCom)
			}
			if tt.bi != nil && got.GoVersion != "go1.26.8" {
				t.Errorf("GoVersion %q, want the build info's", got.GoVersion)
			}
			if got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
				t.Errorf("Platform %q", got.Platform)
			}
		})
	}
}

func TestGetIsTheTestBinary(t *testing.T) {
	in := Get()
	if in.GoVersion != runtime.Version() {
		t.Errorf("GoVersion %q, want %q", in.GoVersion, runtime.Version())
	}
	if !strings.HasPrefix(in.String(), "augur "+in.Version+" (commit "+in.Commit+", "+runtime.Version()) {
		t.Errorf("String() = %q", in.String())
	}
}
