// Package buildinfo reports rampart's version from the Go build information.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// version may be set at link time: -ldflags "-X github.com/rampart-dev/rampart/internal/buildinfo.version=v1.2.3".
var version = ""

// Info is what `rampart version` prints.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Modified  bool   `json:"modified"`
	GoVersion string `json:"go_version"`
}

// Read returns the build information of the running binary. A binary built
// from a checkout (go build, go run) reports "(devel)".
func Read() Info {
	info := Info{Version: "(devel)", Commit: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		info.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		info.Version = version
	}
	// go install of an untagged commit gives a pseudo-version with a
	// +dirty suffix when built from a modified tree; keep it as is.
	info.Version = strings.TrimSpace(info.Version)
	return info
}
