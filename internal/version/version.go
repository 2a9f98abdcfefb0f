// Package version reports what augur binary this is: the module version,
// the VCS commit and the Go toolchain, read from the binary's build
// information (runtime/debug.ReadBuildInfo) and, when the build sets them,
// from linker flags (-X). `augur version`, `augur --version`, the server's
// GET /version and the augur_build_info metric all read Get.
//
// It imports only the standard library and no augur package.
package version

import (
	"cmp"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the linker: go build -ldflags "-X github.com/augurproj/augur/internal/version.version=v1.2.3
// -X github.com/augurproj/augur/internal/version.commit=abc123". Empty means: from the build info.
var (
	version string
	commit  string
)

// Info describes the running binary.
type Info struct {
	// Version is the module version ("v1.2.3", a pseudo-version, or
	// "(devel)" for a build from a checkout without -ldflags).
	Version string `json:"version"`
	// Commit is the VCS revision the binary was built from ("unknown" when
	// the build recorded none, e.g. with -buildvcs=false); a "-dirty" suffix
	// marks uncommitted changes.
	Commit string `json:"commit"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Get returns the running binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, version, commit)
}

// fromBuildInfo combines the build info with the linker-set values (which
// win when set).
func fromBuildInfo(bi *debug.BuildInfo, ldVersion, ldCommit string) Info {
	in := Info{GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	var rev string
	var dirty bool
	if bi != nil {
		in.GoVersion = cmp.Or(bi.GoVersion, in.GoVersion)
		in.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	in.Version = cmp.Or(strings.TrimSpace(ldVersion), in.Version, "(devel)")
	in.Commit = cmp.Or(strings.TrimSpace(ldCommit), rev, "unknown")
	return in
}

// String is the one-line form `augur --version` prints.
func (i Info) String() string {
	return "augur " + i.Version + " (commit " + i.Commit + ", " + i.GoVersion + ", " + i.Platform + ")"
}
