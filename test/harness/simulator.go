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
