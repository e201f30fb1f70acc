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

// Command e2e-workload is the workload of the end-to-end tests on the node
// `make cluster` runs: it reads an element token the way an application does,
// from an environment variable (fixed when the container starts) and from a
// file of a Secret volume (updated by the kubelet), and serves what it reads
// on :8080/token as SHA-256 digests, so that a test can compare them with the
// Secret without the token ever leaving the Pod.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Reading is what the workload sees of the token right now.
type Reading struct {
	Env  string `json:"env"`  // sha256 of $TOKEN
	File string `json:"file"` // sha256 of the file $TOKEN_FILE
}

func digest(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, _ *http.Request) {
		r := Reading{Env: digest([]byte(os.Getenv("TOKEN")))}
		if path := os.Getenv("TOKEN_FILE"); path != "" {
			// The kubelet swaps the volume's files through a symlink: each
			// read sees one whole version.
			if b, err := os.ReadFile(path); err == nil {
				r.File = digest(b)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
