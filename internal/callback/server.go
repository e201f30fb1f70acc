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
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Timeouts of the callback server. A callback is one small GET answered in
// well under a second, so anything slower is a stuck or hostile client.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = defaultRequestTimeout + 10*time.Second
	idleTimeout       = 60 * time.Second
	// maxHeaderBytes covers the request line (and so the query, itself
	// limited to 16 KiB) plus a browser's usual headers and cookies.
	maxHeaderBytes = 64 << 10
	// shutdownTimeout lets in-flight callbacks finish their writes; it is
	// below the manager's default graceful shutdown timeout of 30s.
	shutdownTimeout = 15 * time.Second
)

// Server serves a handler over plain HTTP as a manager.Runnable; TLS, if
// any, is terminated in front of it (an Ingress or a Gateway).
type Server struct {
	addr    string
	handler http.Handler

	mu    sync.Mutex
	bound net.Addr
}

// NewServer returns a Server that listens on addr once started.
func NewServer(addr string, handler http.Handler) *Server {
	return &Server{addr: addr, handler: handler}
}

// NeedLeaderElection is false: whichever replica the browser reaches must
// answer, and the callback's writes are safe to make from any of them.
func (s *Server) NeedLeaderElection() bool { return false }

// Addr is the address the server listens on, once it does; with a port of
// 0 it tells which port was chosen. Empty before Start has bound.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound == nil {
		return ""
	}
	return s.bound.String()
}

// Start serves until ctx is done, then lets in-flight requests finish.
func (s *Server) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("oauth-callback")
	var lc net.ListenConfig
	listener, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listening for OAuth callbacks on %s: %w", s.addr, err)
	}
	s.mu.Lock()
	s.bound = listener.Addr()
	s.mu.Unlock()

	srv := s.httpServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()
	logger.Info("serving OAuth callbacks", "address", listener.Addr().String(), "path", Path)

	select {
	case err := <-served:
		return fmt.Errorf("serving OAuth callbacks on %s: %w", listener.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down the OAuth callback server: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving OAuth callbacks on %s: %w", listener.Addr(), err)
	}
	logger.Info("OAuth callback server stopped")
	return nil
}

// httpServer bounds every phase of a connection, since the address is public:
// a client that sends its headers, its body or reads the answer too slowly,
// or holds an idle connection, is cut off.
func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// Requests are not tied to ctx on purpose: at shutdown, a callback
		// half-way between writing the Secret and clearing the nonce should
		// finish, not be cut off.
	}
}
