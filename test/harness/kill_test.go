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

package harness_test

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// fakeOperatorEnv makes the test binary stand in for the operator: ready at
// once on its probe address, and exiting on its own (status 2, as a panic
// does) when /crash is asked for.
const fakeOperatorEnv = "HARNESS_TEST_FAKE_OPERATOR"

func TestMain(m *testing.M) {
	if os.Getenv(fakeOperatorEnv) != "" {
		fakeOperator()
	}
	os.Exit(m.Run())
}

func fakeOperator() {
	fs := flag.NewFlagSet("fake-operator", flag.ContinueOnError)
	probe := fs.String("health-probe-bind-address", "", "")
	fs.String("kubeconfig", "", "")
	fs.Bool("allow-loopback-endpoints", false, "")
	fs.String("metrics-bind-address", "", "")
	fs.Bool("metrics-secure", true, "")
	fs.String("oauth-callback-bind-address", "", "")
	fs.String("operator-namespace", "", "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(3)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/crash", func(http.ResponseWriter, *http.Request) { os.Exit(2) })
	srv := &http.Server{Addr: *probe, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	_ = srv.ListenAndServe()
	os.Exit(3)
}

// Kill tells a process it ended from one that had already exited on its own.
func TestKillTellsACrashFromAKill(t *testing.T) {
	t.Setenv(fakeOperatorEnv, "1")
	dir := t.TempDir()
	op := &harness.Operator{Bin: os.Args[0], Kubeconfig: filepath.Join(dir, "kubeconfig"), LogPath: filepath.Join(dir, "log")}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if err := op.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := op.Kill(); err != nil {
		t.Errorf("Kill of a running process: %v, want nil", err)
	}

	if err := op.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get("http://" + op.ProbeAddr + "/crash"); err == nil {
		resp.Body.Close()
	}
	for op.Running() {
		time.Sleep(10 * time.Millisecond)
	}
	if err := op.Kill(); !errors.Is(err, harness.ErrExitedOnItsOwn) {
		t.Errorf("Kill of a process that had crashed: %v, want ErrExitedOnItsOwn", err)
	}
}
