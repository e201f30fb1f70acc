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

package cloudelements

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/hubspot-operator/hubspot-operator/internal/keyedrate"
)

// DefaultEndpoint is the platform's public base URL; other regions and hosts exist.
const DefaultEndpoint = "https://api.cloud-elements.com/elements/api-v2"

// Defaults applied by New for zero Options fields.
const (
	DefaultTimeout = 30 * time.Second
	DefaultQPS     = 10
	DefaultBurst   = 20
	// DefaultListTimeout bounds one whole listing. 100 pages at the
	// client's rate take 10 seconds, and a page that is slow but within
	// DefaultTimeout still leaves time for several; without it, 100 pages
	// of 30 seconds each would hold a listing for 50 minutes.
	DefaultListTimeout = 3 * time.Minute
)

// Version is the operator version reported in the User-Agent; set by -ldflags.
var Version = "dev"

// Bounds on what the endpoint, which a namespace user may choose, can make the
// operator do. They hold against an endpoint that is hostile or broken.
const (
	// MaxResponseBytes caps every response body the client reads, success or
	// error. A full page of 200 instances is well under a megabyte; a larger
	// body is refused without being read further (see ErrResponseTooLarge),
	// so that no endpoint can make the operator buffer more than this per
	// call.
	MaxResponseBytes = 4 << 20

	// MaxListPages caps the pages one ListInstances call reads: 100 pages of
	// 200 is 20,000 instances. An endpoint that sends a fresh next-page token
	// on every page makes the call fail with ErrTooManyPages instead of
	// paging forever.
	MaxListPages = 100
)

// Options configures a Client.
type Options struct {
	Endpoint           string        // base URL; "" → DefaultEndpoint
	UserSecret         string        //
	OrganizationSecret string        //
	HTTPClient         *http.Client  // copied, never followed redirects; nil → &http.Client{Timeout: DefaultTimeout}
	Limiter            *rate.Limiter // nil → shared per endpoint and account, see New
	QPS                float64       // 0 → DefaultQPS; used only when Limiter is nil
	Burst              int           // 0 → DefaultBurst; used only when Limiter is nil
	UserAgent          string        // "" → "hubspot-operator/" + Version
	ListTimeout        time.Duration // bounds one whole listing, every page; 0 → DefaultListTimeout
}

func (o Options) String() string {
	return fmt.Sprintf("{Endpoint:%q UserSecret:%s OrganizationSecret:%s QPS:%g Burst:%d UserAgent:%q}",
		o.Endpoint, mask(o.UserSecret), mask(o.OrganizationSecret), o.QPS, o.Burst, o.UserAgent)
}

func (o Options) GoString() string { return "cloudelements.Options" + o.String() }

// Client calls the Cloud Elements platform API for one account. It is safe
// for concurrent use. It never retries: the caller's work queue owns backoff,
// and a hidden retry loop would hold a reconcile worker for minutes.
type Client struct {
	endpoint      string
	authorization string
	httpClient    *http.Client
	// limiter is asked for on every call, not kept: a shared limiter may be
	// forgotten while this Client lives (see sharedLimiter).
	limiter     func() *rate.Limiter
	userAgent   string
	secrets     []string
	listTimeout time.Duration
}

// New returns a Client. The endpoint must be an http or https URL with a
// host and no credentials, query or fragment.
//
// Without an explicit Limiter, every Client for the same endpoint and account
// shares one limiter, so that the operator as a whole stays within the rate
// however many clients its reconcilers build. The first Client for an account
// fixes that limiter's QPS and Burst.
func New(opts Options) (*Client, error) {
	endpoint, err := normalizeEndpoint(opts.Endpoint)
	if err != nil {
		return nil, err
	}
	if opts.QPS < 0 || math.IsNaN(opts.QPS) {
		return nil, fmt.Errorf("cloud elements client: QPS must not be negative, got %g", opts.QPS)
	}
	if opts.Burst < 0 {
		return nil, fmt.Errorf("cloud elements client: Burst must not be negative, got %d", opts.Burst)
	}
	c := &Client{
		endpoint:      endpoint,
		authorization: "User " + opts.UserSecret + ", Organization " + opts.OrganizationSecret,
		userAgent:     opts.UserAgent,
		secrets:       []string{opts.UserSecret, opts.OrganizationSecret},
	}
	c.httpClient = noRedirects(opts.HTTPClient)
	if c.userAgent == "" {
		c.userAgent = "hubspot-operator/" + Version
	}
	c.listTimeout = opts.ListTimeout
	if c.listTimeout <= 0 {
		c.listTimeout = DefaultListTimeout
	}
	if opts.Limiter != nil {
		c.limiter = func() *rate.Limiter { return opts.Limiter }
	} else {
		qps, burst := opts.QPS, opts.Burst
		if qps == 0 {
			qps = DefaultQPS
		}
		if burst == 0 {
			burst = DefaultBurst
		}
		key := sharedLimiterKey(endpoint, opts.UserSecret, opts.OrganizationSecret)
		c.limiter = func() *rate.Limiter { return sharedLimiters.Get(key, rate.Limit(qps), burst) }
	}
	return c, nil
}

// noRedirects returns a copy of the caller's http.Client (or a new one with
// DefaultTimeout) that never follows a redirect. Following one would re-send
// the body of a 307 or 308 (client secret, API key, tokens, code) to whatever
// host the endpoint names, and Go keeps the Authorization header when only the
// scheme or the port changes. The caller's client is left as it was.
//
// CheckRedirect alone is not enough: http.Client parses the Location before
// asking it, and fails with an error that quotes the whole Location, query
// included, when it does not parse. So the copy's transport also moves the
// Location of every 3xx answer out of the client's sight (see
// redirectLocationKey); without one, http.Client returns the answer as is.
func noRedirects(caller *http.Client) *http.Client {
	client := &http.Client{Timeout: DefaultTimeout}
	if caller != nil {
		copied := *caller
		client = &copied
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client.Transport = hideLocation{next: client.Transport}
	return client
}

// redirectLocationKey holds a 3xx answer's Location in its header. It is not a
// valid header name, so no endpoint can send it.
const redirectLocationKey = "redirect location"

// hideLocation moves the Location of 3xx answers to redirectLocationKey.
type hideLocation struct{ next http.RoundTripper }

func (h hideLocation) RoundTrip(req *http.Request) (*http.Response, error) {
	next := h.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err == nil && resp.StatusCode >= 300 && resp.StatusCode <= 399 && resp.Header != nil {
		if location, ok := resp.Header["Location"]; ok {
			resp.Header[redirectLocationKey] = location
			delete(resp.Header, "Location")
		}
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// wrapped transport.
func (h hideLocation) CloseIdleConnections() {
	next := h.next
	if next == nil {
		next = http.DefaultTransport
	}
	if closer, ok := next.(interface{ CloseIdleConnections() }); ok {
		closer.CloseIdleConnections()
	}
}

// Endpoint returns the normalized base URL, without a trailing slash.
func (c *Client) Endpoint() string { return c.endpoint }

func (c *Client) String() string { return "cloudelements.Client(" + c.endpoint + ")" }

func (c *Client) GoString() string { return c.String() }

func normalizeEndpoint(raw string) (string, error) {
	if raw == "" {
		return DefaultEndpoint, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The url.Error would repeat the raw URL, which could carry credentials.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return "", fmt.Errorf("cloud elements endpoint does not parse as a URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("cloud elements endpoint %q must use http or https, not %q", u.Redacted(), u.Scheme)
	case u.Host == "":
		return "", fmt.Errorf("cloud elements endpoint %q has no host", u.Redacted())
	case u.User != nil:
		return "", fmt.Errorf("cloud elements endpoint %q must not carry credentials; use the user and organization secrets", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("cloud elements endpoint %q must not have a query", u.Redacted())
	case u.Fragment != "":
		return "", fmt.Errorf("cloud elements endpoint %q must not have a fragment", u.Redacted())
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// sharedLimiters are the limiters of every endpoint and account the process
// calls. Credentials a tenant rotates in a loop make a new account each
// time; the limiter of one no longer used is forgotten once it is full
// again, so the registry holds the accounts in use, not every one ever seen.
var sharedLimiters = keyedrate.New()

// sharedLimiterKey is hashed so that the registry never holds the secrets
// themselves.
func sharedLimiterKey(endpoint, userSecret, organizationSecret string) string {
	account := sha256.Sum256([]byte(userSecret + "\x00" + organizationSecret))
	return endpoint + "\x00" + hex.EncodeToString(account[:])
}

// ErrClientRateLimited marks a request that was never sent because the
// client-side rate limit would not admit it before the context's deadline.
var ErrClientRateLimited = errors.New("client-side rate limit")

// call describes one HTTP exchange.
type call struct {
	operation string // human name, e.g. "create instance"
	method    string
	path      string // below the endpoint, starting with "/"
	query     url.Values
	body      any
	anonymous bool     // send no Authorization header
	secrets   []string // request values never to print
}

// secretQueryParams are blanked wherever the client prints a request URL.
var secretQueryParams = map[string]bool{"apiSecret": true, "code": true}

// response is what a caller of do needs beyond the decoded body.
type response struct {
	status int
	header http.Header // carries the paging tokens
}

// do sends the call and decodes a 2xx body into out (when out is not nil).
func (c *Client) do(ctx context.Context, req call, out any) (response, error) {
	scrub := c.scrubber(req.secrets)
	if err := c.limiter().Wait(ctx); err != nil {
		return response{}, fmt.Errorf("cloud elements %s: %w: %w", req.operation, ErrClientRateLimited, err)
	}

	target, printable := c.endpoint+req.path, c.endpoint+req.path
	if len(req.query) > 0 {
		target += "?" + encodeQuery(req.query)
		printable += "?" + encodeQuery(redactQuery(req.query))
	}
	var body io.Reader
	if req.body != nil {
		encoded, err := json.Marshal(req.body)
		if err != nil {
			return response{}, fmt.Errorf("cloud elements %s: encoding request body: %w", req.operation, err)
		}
		body = bytes.NewReader(encoded)
	}
	httpReq, err := http.NewRequestWithContext(ctx, req.method, target, body)
	if err != nil {
		return response{}, &scrubbedError{msg: scrub(fmt.Sprintf("cloud elements %s: building request for %s: %v", req.operation, printable, err)), err: err}
	}
	httpReq.Header.Set("Accept", "application/json")
	httpReq.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	if !req.anonymous {
		httpReq.Header.Set("Authorization", c.authorization)
	}

	started := time.Now()
	resp, err := c.httpClient.Do(httpReq)
	if err != nil {
		observe(req.operation, "error", started)
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			urlErr.URL = printable
		}
		return response{}, &scrubbedError{msg: scrub(fmt.Sprintf("cloud elements %s: %v", req.operation, err)), err: err}
	}
	// Closing an unread body drops the connection rather than draining it.
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		// Not followed (see noRedirects); the body is of no interest.
		observe(req.operation, strconv.Itoa(resp.StatusCode), started)
		return response{}, newRedirectError(req.operation, resp.StatusCode, httpReq.URL, resp.Header[redirectLocationKey], scrub)
	}
	data, err := readBody(resp)
	observe(req.operation, strconv.Itoa(resp.StatusCode), started)
	contentType := resp.Header.Get("Content-Type")
	success := resp.StatusCode >= 200 && resp.StatusCode <= 299
	switch {
	case errors.Is(err, ErrResponseTooLarge) && success:
		return response{}, &DecodeError{Operation: req.operation, StatusCode: resp.StatusCode, ContentType: contentType, Size: -1, Err: err}
	case errors.Is(err, ErrResponseTooLarge):
		return response{}, newTooLargeAPIError(req.operation, resp.StatusCode, resp.Header, time.Now())
	case err != nil:
		return response{}, &scrubbedError{msg: scrub(fmt.Sprintf("cloud elements %s: reading the %d response body: %v", req.operation, resp.StatusCode, err)), err: err}
	case !success:
		return response{}, newAPIError(req.operation, resp.StatusCode, resp.Header, data, scrub, time.Now())
	}
	if out != nil {
		if err := decodeBody(data, out); err != nil {
			return response{}, &DecodeError{Operation: req.operation, StatusCode: resp.StatusCode, ContentType: contentType, Size: len(data), Err: err}
		}
	}
	return response{status: resp.StatusCode, header: resp.Header}, nil
}

// ErrResponseTooLarge marks a response whose body is over MaxResponseBytes.
// The client stops reading at the limit, or before reading when the
// Content-Length announces more.
var ErrResponseTooLarge = fmt.Errorf("response body is larger than the %d MiB limit (%d bytes); not read further", MaxResponseBytes>>20, MaxResponseBytes)

// readBody reads at most MaxResponseBytes, and fails with ErrResponseTooLarge
// as soon as the body turns out to be longer.
func readBody(resp *http.Response) ([]byte, error) {
	if resp.ContentLength > MaxResponseBytes {
		return nil, ErrResponseTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if len(data) > MaxResponseBytes {
		return nil, ErrResponseTooLarge
	}
	return data, err
}

var errEmptyBody = errors.New("empty response body")

func decodeBody(data []byte, out any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errEmptyBody
	}
	return json.Unmarshal(data, out)
}

// encodeQuery writes spaces as %20, as the platform's documentation does,
// rather than url.Values' "+", which a literal "+" in a scope would confuse.
func encodeQuery(query url.Values) string {
	return strings.ReplaceAll(query.Encode(), "+", "%20")
}

func redactQuery(query url.Values) url.Values {
	redacted := make(url.Values, len(query))
	for key, values := range query {
		if secretQueryParams[key] {
			values = []string{"REDACTED"}
		}
		redacted[key] = values
	}
	return redacted
}

// minScrubLength keeps scrubbing from mangling messages when a secret is so
// short that it would match ordinary text; such a secret protects nothing.
const minScrubLength = 4

// scrubber returns a function that blanks the account's and the request's
// secrets out of text the platform or the transport produced, in case either
// echoes them.
func (c *Client) scrubber(requestSecrets []string) func(string) string {
	var pairs []string
	for _, secret := range append(append([]string(nil), c.secrets...), requestSecrets...) {
		if len(secret) >= minScrubLength {
			pairs = append(pairs, secret, "[REDACTED]")
			if escaped := url.QueryEscape(secret); escaped != secret {
				pairs = append(pairs, escaped, "[REDACTED]")
			}
		}
	}
	if len(pairs) == 0 {
		return func(s string) string { return s }
	}
	replacer := strings.NewReplacer(pairs...)
	return replacer.Replace
}

// scrubbedError keeps the wrapped error for errors.Is and errors.As while
// printing a message with the secrets removed.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

func requestSecrets(req InstanceRequest) []string {
	var secrets []string
	for key, value := range req.Configuration {
		if IsSecretConfigKey(key) {
			secrets = append(secrets, value)
		}
	}
	if p := req.ProviderData; p != nil {
		secrets = append(secrets, p.Code, p.AccessToken, p.RefreshToken)
	}
	return secrets
}
