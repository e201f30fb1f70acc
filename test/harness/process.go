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

package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// BuildOperator compiles the manager (main.go) into outDir, with the given
// build tags (the benchmark's contrast build uses one).
func BuildOperator(root, outDir string, tags ...string) (string, error) {
	bin := filepath.Join(outDir, strings.Join(append([]string{"manager"}, tags...), "-"))
	cmd := exec.Command("go", "build", "-tags", strings.Join(tags, ","), "-o", bin, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// Operator is one operator process. Start it, kill it, start it again: each
// run appends to the same log file.
type Operator struct {
	Bin, Kubeconfig, LogPath string
	// Args are extra flags, e.g. --max-concurrent-reconciles=1.
	Args []string

	MetricsAddr, ProbeAddr string
	cmd                    *exec.Cmd
	exited                 chan struct{}
	// state is how the last run ended, set before exited is closed.
	state  *os.ProcessState
	starts int
}

// Start runs the operator and waits until it reports ready.
func (o *Operator) Start(ctx context.Context) error {
	if o.MetricsAddr == "" {
		o.MetricsAddr = freeAddr()
	}
	if o.ProbeAddr == "" {
		o.ProbeAddr = freeAddr()
	}
	logFile, err := os.OpenFile(o.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	args := append([]string{
		"--kubeconfig=" + o.Kubeconfig,
		"--allow-loopback-endpoints", // the simulator, or any local stand-in, on loopback
		"--metrics-bind-address=" + o.MetricsAddr, "--metrics-secure=false",
		"--health-probe-bind-address=" + o.ProbeAddr,
		"--oauth-callback-bind-address=0",
		"--operator-namespace=default",
	}, o.Args...)
	cmd := exec.Command(o.Bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = endsWithParent()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	exited := make(chan struct{})
	o.cmd, o.exited, o.state = cmd, exited, nil
	o.starts++
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		o.state = cmd.ProcessState
		close(exited)
	}()
	return o.waitReady(ctx)
}

func (o *Operator) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-o.exited:
			return fmt.Errorf("operator exited during start-up; see %s", o.LogPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := http.Get("http://" + o.ProbeAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("operator not ready within a minute")
}

// Kill ends the process with SIGKILL: no cleanup, no lease release. It
// fails when the process was not ended by that SIGKILL but had exited on its
// own (a crash) before it landed: a test counting survived kills must not
// count that one.
func (o *Operator) Kill() error {
	if o.cmd == nil {
		return nil
	}
	if err := o.signal(syscall.SIGKILL); err != nil {
		return err
	}
	if ws, ok := o.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return nil
	}
	return fmt.Errorf("%w (%s) before it was to be killed; see %s", ErrExitedOnItsOwn, o.state, o.LogPath)
}

// ErrExitedOnItsOwn is Kill's error for a process that had already exited.
var ErrExitedOnItsOwn = errors.New("the operator had exited on its own")

// Stop ends the process gracefully (SIGTERM).
func (o *Operator) Stop() error { return o.signal(syscall.SIGTERM) }

func (o *Operator) signal(sig syscall.Signal) error {
	if o.cmd == nil || o.cmd.Process == nil {
		return nil
	}
	select {
	case <-o.exited:
		return nil
	default:
	}
	// ErrProcessDone: it exited and was reaped meanwhile; Kill tells why.
	if err := o.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-o.exited:
		return nil
	case <-time.After(45 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
		return fmt.Errorf("operator ignored %s for 45s", sig)
	}
}

// Running says whether the process is alive.
func (o *Operator) Running() bool {
	if o.cmd == nil {
		return false
	}
	select {
	case <-o.exited:
		return false
	default:
		return true
	}
}

// Starts is how many times the process was started.
func (o *Operator) Starts() int { return o.starts }

// Memory reads the process's resident set size now and at its peak, in bytes.
func (o *Operator) Memory() (rss, peak uint64, err error) {
	if !o.Running() {
		return 0, 0, errors.New("operator is not running")
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", o.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseUint(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb * 1024
		case "VmHWM:":
			peak = kb * 1024
		}
	}
	return rss, peak, scanner.Err()
}

// Metrics scrapes the operator's Prometheus metrics: series name with its
// labels as written ("rest_client_requests_total{code=\"200\",...}") → value.
func (o *Operator) Metrics() (map[string]float64, error) {
	resp, err := http.Get("http://" + o.MetricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, scanner.Err()
}

// Sum adds every series of a metric whose labels contain all of match
// (e.g. `verb="PATCH"`).
func Sum(metrics map[string]float64, name string, match ...string) float64 {
	total := 0.0
	for series, v := range metrics {
		if series != name && !strings.HasPrefix(series, name+"{") {
			continue
		}
		ok := true
		for _, m := range match {
			if !strings.Contains(series, m) {
				ok = false
				break
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// FreeAddr is a free 127.0.0.1:port, for a server a test hands to a process.
func FreeAddr() string { return freeAddr() }

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
