package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionString(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name    string
		version string
		info    *debug.BuildInfo
		want    string
	}{
		{"no build info", "dev", nil, "dev"},
		{"a local build without VCS stamping", "dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"a local build of a clean tree", "dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs", "git", "vcs.revision", rev, "vcs.time", "2024-05-06T07:08:09Z", "vcs.modified", "false")},
			"dev (0123456789ab, 2024-05-06T07:08:09Z)"},
		{"a local build with changes", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20240506070809-0123456789ab+dirty"},
			Settings: vcs("vcs.revision", rev, "vcs.time", "2024-05-06T07:08:09Z", "vcs.modified", "true")},
			"dev (0123456789ab, modified, 2024-05-06T07:08:09Z)"},
		{"go install …@v1.2.3", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"a release set by -ldflags", "v1.3.0", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", rev)},
			"v1.3.0 (0123456789ab)"},
	} {
		if got := versionString(tc.version, tc.info); got != tc.want {
			t.Errorf("%s: versionString = %q, want %q", tc.name, got, tc.want)
		}
	}
}
