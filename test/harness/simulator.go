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
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// Simulator is the Cloud Elements simulator served on a loopback port.
type Simulator struct {
	*simulator.Simulator
	// URL is the server's base URL; Endpoint is what a HubSpotInstance's
	// spec.platform.endpoint points at.
	URL, Endpoint string
	server        *http.Server
}

// StartSimulator serves a new simulator on 127.0.0.1 and a free port.
func StartSimulator(opts simulator.Options) (*Simulator, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	url := "http://" + ln.Addr().String()
	if opts.BaseURL == "" {
		opts.BaseURL = url
	}
	sim := simulator.New(opts)
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return &Simulator{Simulator: sim, URL: url, Endpoint: url + "/elements/api-v2", server: srv}, nil
}

// Close stops serving; hanging requests are cut off.
func (s *Simulator) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.server.Shutdown(ctx); err != nil {
		_ = s.server.Close()
	}
}
