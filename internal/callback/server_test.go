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

package callback

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/manager"
)

var (
	_ manager.Runnable               = (*Server)(nil)
	_ manager.LeaderElectionRunnable = (*Server)(nil)
)

func TestServerServesUntilCancelledThenStopsCleanly(t *testing.T) {
	// A handler slow enough to still be running when shutdown begins.
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = io.WriteString(w, "done")
	})
	s := NewServer("127.0.0.1:0", slow)
	if s.NeedLeaderElection() {
		t.Fatal("every replica must answer callbacks")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- s.Start(ctx) }()

	deadline := time.Now().Add(5 * time.Second)
	for s.Addr() == "" {
		if time.Now().After(deadline) {
			t.Fatal("the server never bound")
		}
		time.Sleep(10 * time.Millisecond)
	}
	answered := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/")
		if err != nil {
			answered <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answered <- string(body)
	}()
	time.Sleep(100 * time.Millisecond) // the request is now in the handler
	cancel()
	time.Sleep(100 * time.Millisecond)
	close(release)

	if got := <-answered; got != "done" {
		t.Fatalf("the in-flight request got %q, want it finished", got)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Start returned %v after a clean shutdown", err)
		}
	case <-time.After(shutdownTimeout):
		t.Fatal("Start did not return after its context was cancelled")
	}
}

func TestServerReportsABusyAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	err = NewServer(taken.Addr().String(), http.NotFoundHandler()).Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listening for OAuth callbacks") {
		t.Fatalf("Start on a busy address returned %v", err)
	}
}
