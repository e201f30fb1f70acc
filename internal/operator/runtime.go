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
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
)

// DefaultGCPercent is the operator's GOGC. Go's own default, 100, lets the
// heap grow to twice what is live before collecting; nearly all the
// operator's live memory is its caches and what it remembers of each object,
// which only grow with the number of objects, so that headroom doubles the
// memory each object costs for little gain. At 50 the heap stays within one
// and a half times what is live, for some more time spent collecting while
// objects are created or changed, and almost none at rest.
const DefaultGCPercent = 50

// DefaultMemoryLimitRatio is the share of the container's memory limit the
// Go runtime is asked to stay under (GOMEMLIMIT), leaving the rest to what
// it does not manage: the binary's own pages and the kernel's buffers.
const DefaultMemoryLimitRatio = 0.9

// cgroupMemoryLimitFiles hold the container's memory limit, relative to the
// root of hostFS: cgroup v2's memory.max, then cgroup v1's limit_in_bytes.
var cgroupMemoryLimitFiles = []string{"sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"}

// hostFS is the file system the cgroup files are read from.
var hostFS = os.DirFS("/")

// RuntimeSettings are the garbage collector's settings TuneRuntime applied.
type RuntimeSettings struct {
	// GCPercent is the GOGC in effect.
	GCPercent uint64
	// MemoryLimit is the soft memory limit set from the container's limit
	// (bytes), or 0 when none was set here.
	MemoryLimit int64
}

// TuneRuntime sets the Go garbage collector from the flags parsed into o:
// GOGC to --gc-percent, and the soft memory limit to --memory-limit-ratio of
// the container's memory limit, if it has one. The GOGC and GOMEMLIMIT
// environment variables, when set, win over the defaults; a flag given on
// the command line wins over both.
func TuneRuntime(flags *flag.FlagSet, o Options) (RuntimeSettings, error) {
	given := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if o.GCPercent < 1 {
		return RuntimeSettings{}, fmt.Errorf("--gc-percent must be at least 1, not %d", o.GCPercent)
	}
	if o.MemoryLimitRatio < 0 || o.MemoryLimitRatio > 1 {
		return RuntimeSettings{}, fmt.Errorf("--memory-limit-ratio must be between 0 and 1, not %g", o.MemoryLimitRatio)
	}
	var s RuntimeSettings
	if given["gc-percent"] || os.Getenv("GOGC") == "" {
		debug.SetGCPercent(o.GCPercent)
	}
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(gogc)
	s.GCPercent = gogc[0].Value.Uint64()

	if given["memory-limit-ratio"] || os.Getenv("GOMEMLIMIT") == "" {
		if limit, ok := containerMemoryLimit(); ok && o.MemoryLimitRatio > 0 {
			s.MemoryLimit = int64(float64(limit) * o.MemoryLimitRatio)
			debug.SetMemoryLimit(s.MemoryLimit)
		}
	}
	return s, nil
}

// containerMemoryLimit is the memory limit of the cgroup the process runs
// in, if it has one.
func containerMemoryLimit() (int64, bool) {
	for _, path := range cgroupMemoryLimitFiles {
		b, err := fs.ReadFile(hostFS, path)
		if err != nil {
			continue
		}
		limit, err := parseMemoryLimit(string(b))
		if err != nil {
			return 0, false
		}
		return limit, limit > 0
	}
	return 0, false
}

// unlimited is where cgroup v1 puts "no limit" (the largest page-aligned
// int64, or near it); no container is given an exbibyte.
const unlimited = math.MaxInt64 / 2

// parseMemoryLimit reads a cgroup memory limit file: bytes, or "max" for
// none (0).
func parseMemoryLimit(content string) (int64, error) {
	v := strings.TrimSpace(content)
	if v == "max" {
		return 0, nil
	}
	limit, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil:
		return 0, err
	case limit < 0:
		return 0, errors.New("negative memory limit")
	case limit >= unlimited:
		return 0, nil
	}
	return limit, nil
}
