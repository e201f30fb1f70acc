/*
Copyright 2026 The hubspot-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package operator

import (
	"flag"
	"io/fs"
	"math"
	"runtime/debug"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestParseMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		content string
		want    int64
		wantErr bool
	}{
		{content: "268435456\n", want: 256 << 20},
		{content: "max\n", want: 0},
		// cgroup v1 without a limit.
		{content: "9223372036854771712\n", want: 0},
		{content: "", wantErr: true},
		{content: "-1", wantErr: true},
		{content: "lots", wantErr: true},
	} {
		got, err := parseMemoryLimit(tc.content)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%q: got %d, %v; want %d, error %v", tc.content, got, err, tc.want, tc.wantErr)
		}
	}
}

// The defaults apply unless GOGC or GOMEMLIMIT say otherwise; a flag given
// on the command line applies whatever the environment says.
func TestTuneRuntime(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	defer func(fsys fs.FS) { hostFS = fsys }(hostFS)
	hostFS = fstest.MapFS{
		"limited":   {Data: []byte("268435456\n")},
		"unlimited": {Data: []byte("max\n")},
	}
	defer func(files []string) { cgroupMemoryLimitFiles = files }(cgroupMemoryLimitFiles)
	const limited, unlimited = "limited", "unlimited"

	for _, tc := range []struct {
		name       string
		args       []string
		gogc       string // the environment's; the runtime starts at 100 either way here
		gomemlimit string
		cgroup     string
		want       RuntimeSettings
	}{
		{name: "defaults in a container", cgroup: limited, want: RuntimeSettings{GCPercent: 50, MemoryLimit: 241591910}},
		{name: "no container limit", cgroup: unlimited, want: RuntimeSettings{GCPercent: 50}},
		{name: "no cgroup files", cgroup: "absent", want: RuntimeSettings{GCPercent: 50}},
		{name: "GOGC and GOMEMLIMIT set", gogc: "100", gomemlimit: "200MiB", cgroup: limited, want: RuntimeSettings{GCPercent: 100}},
		{name: "flags win over the environment", args: []string{"--gc-percent=25", "--memory-limit-ratio=0.5"},
			gogc: "100", gomemlimit: "200MiB", cgroup: limited, want: RuntimeSettings{GCPercent: 25, MemoryLimit: 128 << 20}},
		{name: "no memory limit wanted", args: []string{"--memory-limit-ratio=0"}, cgroup: limited, want: RuntimeSettings{GCPercent: 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			t.Setenv("GOMEMLIMIT", tc.gomemlimit)
			debug.SetGCPercent(100)
			cgroupMemoryLimitFiles = []string{tc.cgroup}
			var o Options
			flags := flag.NewFlagSet("operator", flag.ContinueOnError)
			o.BindFlags(flags)
			if err := flags.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := TuneRuntime(flags, o)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}

	for _, bad := range [][]string{{"--gc-percent=0"}, {"--memory-limit-ratio=1.5"}, {"--memory-limit-ratio=-0.1"}} {
		var o Options
		flags := flag.NewFlagSet("operator", flag.ContinueOnError)
		o.BindFlags(flags)
		if err := flags.Parse(bad); err != nil {
			t.Fatal(err)
		}
		if _, err := TuneRuntime(flags, o); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
}
