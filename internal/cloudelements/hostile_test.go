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

package cloudelements_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// The endpoint is chosen by a namespace user: these tests play an endpoint
// that is hostile or broken, with plain httptest servers.

// hostile starts a server with handler and a client for it; edit changes the
// client's options.
func hostile(t *testing.T, handler http.HandlerFunc, edit ...func(*ce.Options)) (*ce.Client, *httptest.Server) {
	t.Helper()
	server := httptest.NewServer(handler)
	t.Cleanup(server.Close)
	opts := ce.Options{
		Endpoint:           server.URL + "/elements/api-v2",
		UserSecret:         userSecret,
		OrganizationSecret: organizationSecret,
		Limiter:            rate.NewLimiter(rate.Inf, 1),
	}
	for _, f := range edit {
		f(&opts)
	}
	return newClient(t, opts), server
}

// counting counts the requests it receives and answers 200 with an instance.
type counting struct{ requests atomic.Int64 }

func (c *counting) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	c.requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":1,"oauthUrl":"https://stolen.example"}`))
}

func TestRedirectsAreNeverFollowed(t *testing.T) {
	// Every target trusts the client (its transport trusts the TLS server's
	// certificate), so that only the refusal to follow keeps the request
	// from arriving.
	plain, secure := &counting{}, &counting{}
	plainServer := httptest.NewServer(plain)
	t.Cleanup(plainServer.Close)
	tlsServer := httptest.NewTLSServer(secure)
	t.Cleanup(tlsServer.Close)
	callerClient := tlsServer.Client()

	port := func(s *httptest.Server) string { return s.URL[strings.LastIndex(s.URL, ":")+1:] }
	targets := map[string]struct {
		origin  string
		counter *counting
	}{
		"another host":                    {origin: "http://localhost:" + port(plainServer), counter: plain},
		"the same host on another port":   {origin: plainServer.URL, counter: plain},
		"the same host on another scheme": {origin: tlsServer.URL, counter: secure},
	}
	const code = "consent-code-77aa11"

	for name, target := range targets {
		for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			t.Run(fmt.Sprintf("%d to %s", status, name), func(t *testing.T) {
				// A Location whose path and query repeat what was sent.
				location := target.origin + "/steal/" + code + "?apiSecret=" + clientSecret + "&code=" + code
				client, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, location, status)
				}, func(o *ce.Options) { o.HTTPClient = callerClient })
				ctx := context.Background()
				before := target.counter.requests.Load()

				calls := map[string]func() error{
					"create": func() error { _, err := client.CreateInstance(ctx, oauth2Request(code)); return err },
					"oauth url": func() error {
						_, err := client.OAuthURL(ctx, ce.OAuthURLRequest{APIKey: clientID, APISecret: clientSecret, CallbackURL: callbackURL})
						return err
					},
					"reauthorize": func() error { _, err := client.ReauthorizeInstance(ctx, 1, oauth2Request(code)); return err },
					"delete":      func() error { return client.DeleteInstance(ctx, 1) },
				}
				for op, call := range calls {
					err := call()
					if err == nil {
						t.Fatalf("%s: the redirect was followed and answered", op)
					}
					if !ce.IsRedirect(err) || !ce.IsInvalidRequest(err) || ce.IsRetryable(err) || ce.IsNotFound(err) || ce.IsUnauthorized(err) {
						t.Errorf("%s: %v: want a refusal (IsRedirect, IsInvalidRequest), not retryable", op, err)
					}
					apiErr := apiError(t, err)
					if apiErr.StatusCode != status || apiErr.RedirectOrigin != target.origin {
						t.Errorf("%s: StatusCode=%d RedirectOrigin=%q; want %d, %q", op, apiErr.StatusCode, apiErr.RedirectOrigin, status, target.origin)
					}
					msg := err.Error()
					if want := strconv.Itoa(status) + " " + http.StatusText(status); !strings.Contains(msg, want) || !strings.Contains(msg, target.origin) {
						t.Errorf("%s: error %q should name %q and %s", op, msg, want, target.origin)
					}
					if strings.Contains(msg, "steal") || strings.Contains(msg, "?") || strings.Contains(msg, code) {
						t.Errorf("%s: error shows the Location's path or query: %q", op, msg)
					}
					assertNoSecrets(t, op+" error", msg)
				}
				if got := target.counter.requests.Load() - before; got != 0 {
					t.Errorf("the redirect target received %d requests", got)
				}
			})
		}
	}
	if callerClient.CheckRedirect != nil {
		t.Error("the caller's http.Client was changed")
	}

	t.Run("without a Location", func(t *testing.T) {
		client, _ := hostile(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusMultipleChoices) })
		_, err := client.GetInstance(context.Background(), 1)
		if !ce.IsRedirect(err) || ce.IsRetryable(err) || !strings.Contains(err.Error(), "300 Multiple Choices") || apiError(t, err).RedirectOrigin != "" {
			t.Errorf("got %v; want a 300 refusal without an origin", err)
		}
	})
	t.Run("unparsable Location", func(t *testing.T) {
		// http.Client would quote this Location whole in its own error.
		client, _ := hostile(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "https://evil.example/%zz?apiSecret="+clientSecret)
			w.WriteHeader(http.StatusTemporaryRedirect)
		})
		_, err := client.OAuthURL(context.Background(), ce.OAuthURLRequest{APIKey: clientID, APISecret: clientSecret, CallbackURL: callbackURL})
		if !ce.IsRedirect(err) || strings.Contains(err.Error(), "evil") || strings.Contains(err.Error(), "?") {
			t.Errorf("got %v; want a 307 refusal that shows nothing of the Location", err)
		}
		assertNoSecrets(t, "error", err.Error())
	})
	t.Run("relative Location", func(t *testing.T) {
		client, server := hostile(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "/elsewhere?apiSecret=x")
			w.WriteHeader(http.StatusTemporaryRedirect)
		})
		_, err := client.GetInstance(context.Background(), 1)
		if got := apiError(t, err).RedirectOrigin; got != server.URL {
			t.Errorf("RedirectOrigin = %q, want the endpoint's own origin %s", got, server.URL)
		}
	})
}

// endless streams a body that never ends (until the client hangs up, or
// 1 GiB) and counts what it managed to write.
type endless struct {
	status  int
	prefix  string
	written atomic.Int64
	done    chan error // the write error that stopped the handler
}

func (e *endless) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	n, _ := w.Write([]byte(e.prefix))
	e.written.Add(int64(n))
	chunk := []byte(strings.Repeat("x", 32<<10))
	for e.written.Load() < 1<<30 {
		n, err := w.Write(chunk)
		e.written.Add(int64(n))
		if err != nil {
			e.done <- err
			return
		}
	}
	e.done <- nil
}

func TestResponseBodiesAreBounded(t *testing.T) {
	const slack = 16 << 20 // what the loopback's socket buffers can hold beyond the limit
	cases := map[string]struct {
		status    int
		prefix    string
		decode    bool // a *DecodeError rather than an *APIError
		retryable bool
	}{
		"200":                 {status: 200, prefix: `{"id":1,"name":"`, decode: true},
		"502":                 {status: 502, prefix: "<html>", retryable: true},
		"404 with JSON start": {status: 404, prefix: `{"message":"No instance found `, retryable: true},
		"400":                 {status: 400, prefix: `{"message":"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			server := &endless{status: tc.status, prefix: tc.prefix, done: make(chan error, 1)}
			client, _ := hostile(t, server.ServeHTTP)
			started := time.Now()
			_, err := client.GetInstance(context.Background(), 1)
			if err == nil {
				t.Fatal("an endless body was accepted")
			}
			if !errors.Is(err, ce.ErrResponseTooLarge) {
				t.Errorf("got %v; want ErrResponseTooLarge", err)
			}
			var decodeErr *ce.DecodeError
			if tc.decode != errors.As(err, &decodeErr) {
				t.Errorf("got %T, decode error wanted: %t", err, tc.decode)
			}
			if !tc.decode {
				if apiErr := apiError(t, err); apiErr.StatusCode != tc.status || apiErr.PlatformError {
					t.Errorf("APIError = %+v; want status %d, not the platform's error", apiErr, tc.status)
				}
			}
			if ce.IsNotFound(err) || ce.IsRetryable(err) != tc.retryable {
				t.Errorf("got %v: IsNotFound=%t IsRetryable=%t; want false, %t", err, ce.IsNotFound(err), ce.IsRetryable(err), tc.retryable)
			}
			msg := err.Error()
			for _, want := range []string{"get instance", strconv.Itoa(tc.status) + " " + http.StatusText(tc.status), "4 MiB limit"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			select {
			case writeErr := <-server.done:
				if writeErr == nil {
					t.Errorf("the server wrote its whole 1 GiB body")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the server is still writing: the client did not hang up")
			}
			written := server.written.Load()
			if written > ce.MaxResponseBytes+slack {
				t.Errorf("the server wrote %d bytes before the client stopped reading", written)
			}
			t.Logf("the server wrote %d bytes before the client hung up", written)
			if elapsed := time.Since(started); elapsed > 10*time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}

	t.Run("announced Content-Length is refused unread", func(t *testing.T) {
		client, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(ce.MaxResponseBytes+1))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"id":1,`))
			w.(http.Flusher).Flush()
			<-r.Context().Done() // never sends the rest
		}, func(o *ce.Options) { o.HTTPClient = &http.Client{Timeout: 20 * time.Second} })
		started := time.Now()
		_, err := client.GetInstance(context.Background(), 1)
		if !errors.Is(err, ce.ErrResponseTooLarge) || time.Since(started) > 5*time.Second {
			t.Errorf("got %v after %v; want ErrResponseTooLarge at once", err, time.Since(started))
		}
	})

	t.Run("a body of exactly the limit is read", func(t *testing.T) {
		body := `{"id":1,"name":"` + strings.Repeat("x", ce.MaxResponseBytes-len(`{"id":1,"name":""}`)) + `"}`
		client, _ := hostile(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) })
		if _, err := client.GetInstance(context.Background(), 1); err != nil {
			t.Errorf("a body of %d bytes: %v", len(body), err)
		}
	})
}

func TestListPagingIsBounded(t *testing.T) {
	endlessPages := func(requests *atomic.Int64) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			n := requests.Add(1)
			w.Header().Set(ce.NextPageHeader, fmt.Sprintf("token-%d", n))
			_, _ = fmt.Fprintf(w, `[{"id":%d,"tags":["n=%d"]}]`, n, n)
		}
	}
	for name, match := range map[string]func(ce.Instance) bool{
		"all":      nil,
		"no match": func(ce.Instance) bool { return false },
	} {
		t.Run(name, func(t *testing.T) {
			var requests atomic.Int64
			client, _ := hostile(t, endlessPages(&requests))
			found, err := client.ListInstances(context.Background(), match)
			if !errors.Is(err, ce.ErrTooManyPages) || found != nil {
				t.Fatalf("got %d instances, %v; want ErrTooManyPages", len(found), err)
			}
			if got := requests.Load(); got != ce.MaxListPages {
				t.Errorf("read %d pages, want %d", got, ce.MaxListPages)
			}
			if !strings.Contains(err.Error(), "list instances") || !strings.Contains(err.Error(), "100 pages") || ce.IsRetryable(err) {
				t.Errorf("error %q should name the operation and the page limit, and not be retryable", err)
			}
		})
	}

	t.Run("a match on the last allowed page is found", func(t *testing.T) {
		var requests atomic.Int64
		client, _ := hostile(t, endlessPages(&requests))
		last := fmt.Sprintf("n=%d", ce.MaxListPages)
		found, err := client.ListInstances(context.Background(), func(i ce.Instance) bool { return i.Tags[0] == last })
		if err != nil || len(found) != 1 {
			t.Errorf("got %v, %v", found, err)
		}
	})

	t.Run("an oversized token", func(t *testing.T) {
		var requests atomic.Int64
		client, _ := hostile(t, func(w http.ResponseWriter, _ *http.Request) {
			requests.Add(1)
			w.Header().Set(ce.NextPageHeader, strings.Repeat("t", 9<<10))
			_, _ = w.Write([]byte(`[{"id":1}]`))
		})
		_, err := client.ListInstances(context.Background(), nil)
		if err == nil || !strings.Contains(err.Error(), "next-page token") || requests.Load() != 1 {
			t.Errorf("got %v after %d requests; want an error after the first page", err, requests.Load())
		}
	})
}

func TestNotFoundOnlyFromThePlatform(t *testing.T) {
	cases := map[string]struct {
		contentType string
		body        string
		notFound    bool
	}{
		"platform JSON":              {contentType: "application/json", body: `{"requestId":"5f0c","message":"No instance found with ID 5"}`, notFound: true},
		"platform JSON, no id":       {contentType: "application/json;charset=UTF-8", body: `{"message":"No instance found with ID 5"}`, notFound: true},
		"gateway HTML":               {contentType: "text/html", body: "<html><body><h1>404 Not Found</h1>nginx</body></html>"},
		"empty":                      {contentType: "", body: ""},
		"text":                       {contentType: "text/plain", body: "404 page not found\n"},
		"JSON without a message":     {contentType: "application/json", body: `{"error":"not found","status":404}`},
		"JSON with an empty message": {contentType: "application/json", body: `{"message":"  "}`},
		"JSON with a message object": {contentType: "application/json", body: `{"message":{"text":"gone"}}`},
		"JSON array":                 {contentType: "application/json", body: `[{"message":"No instance found"}]`},
		"JSON string":                {contentType: "application/json", body: `"No instance found"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			client, _ := hostile(t, func(w http.ResponseWriter, _ *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(tc.body))
			})
			ctx := context.Background()
			_, getErr := client.GetInstance(ctx, 5)
			deleteErr := client.DeleteInstance(ctx, 5)
			for op, err := range map[string]error{"get": getErr, "delete": deleteErr} {
				apiErr := apiError(t, err)
				if apiErr.StatusCode != 404 || apiErr.PlatformError != tc.notFound {
					t.Errorf("%s: StatusCode=%d PlatformError=%t; want 404, %t", op, apiErr.StatusCode, apiErr.PlatformError, tc.notFound)
				}
				if ce.IsNotFound(err) != tc.notFound || ce.IsRetryable(err) == tc.notFound || ce.IsInvalidRequest(err) || ce.IsUnauthorized(err) {
					t.Errorf("%s: %v: IsNotFound=%t IsRetryable=%t; want %t, %t", op, err, ce.IsNotFound(err), ce.IsRetryable(err), tc.notFound, !tc.notFound)
				}
			}
		})
	}
}

func TestRetryAfterIsCappedAtAnHour(t *testing.T) {
	for _, value := range []string{"86400", "3601", time.Now().Add(48 * time.Hour).UTC().Format(http.TimeFormat)} {
		client, _ := hostile(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", value)
			w.WriteHeader(http.StatusTooManyRequests)
		})
		_, err := client.GetInstance(context.Background(), 1)
		if delay, ok := ce.RetryAfter(err); !ok || delay != time.Hour {
			t.Errorf("Retry-After %q gave %v, %t; want an hour", value, delay, ok)
		}
	}
}

func TestAWholeListingHasADeadline(t *testing.T) {
	// Every page answers, slowly, well within the client's per-request
	// timeout, and offers another: only a deadline on the whole listing
	// stops it before the page limit.
	var requests atomic.Int64
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slowPages := func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		select {
		case <-time.After(50 * time.Millisecond):
		case <-r.Context().Done():
			return
		case <-release:
			return
		}
		w.Header().Set(ce.NextPageHeader, fmt.Sprintf("token-%d", n))
		_, _ = fmt.Fprintf(w, `[{"id":%d,"tags":["%s"]}]`, n, "managed")
	}
	tests := map[string]func(*ce.Client) error{
		"VisitInstancesByTag": func(c *ce.Client) error {
			return c.VisitInstancesByTag(context.Background(), "managed", func(ce.Instance) {})
		},
		"FindInstancesByTag": func(c *ce.Client) error {
			_, err := c.FindInstancesByTag(context.Background(), "managed")
			return err
		},
		"ListInstances": func(c *ce.Client) error {
			_, err := c.ListInstances(context.Background(), nil)
			return err
		},
	}
	for name, list := range tests {
		t.Run(name, func(t *testing.T) {
			requests.Store(0)
			client, _ := hostile(t, slowPages, func(o *ce.Options) { o.ListTimeout = 300 * time.Millisecond })
			err := list(client)
			if !errors.Is(err, ce.ErrListDeadline) || !errors.Is(err, context.DeadlineExceeded) || !ce.IsRetryable(err) {
				t.Fatalf("the listing ended with %v after %d pages; want a retryable ErrListDeadline", err, requests.Load())
			}
			if got := requests.Load(); got >= ce.MaxListPages/2 {
				t.Errorf("the listing read %d pages before its deadline", got)
			}
			if !strings.Contains(err.Error(), "list instances") || !strings.Contains(err.Error(), "300ms") {
				t.Errorf("error %q should name the operation and the deadline", err)
			}
		})
	}
}
