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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// APIError is a non-2xx answer from the endpoint: the platform's, or that of
// a proxy or gateway in front of it.
type APIError struct {
	StatusCode      int
	Operation       string
	Message         string        `json:"message"`
	ProviderMessage string        `json:"providerMessage"`
	RequestID       string        `json:"requestId"`
	RetryAfter      time.Duration // from Retry-After on 429/503, 0 when absent

	// PlatformError is true when the body was the platform's JSON error: an
	// object whose "message" is a non-empty string. A proxy's HTML page, an
	// empty body or plain text leaves it false. IsNotFound requires it.
	PlatformError bool

	// RedirectOrigin is, for a 3xx answer (never followed), the scheme and
	// host (with any port) of its Location, resolved against the request
	// URL; never its path, query or user information. Empty otherwise, and
	// when the answer had no usable Location.
	RedirectOrigin string

	// retryAfterSet tells a Retry-After of zero (or a date already past)
	// from an absent header.
	retryAfterSet bool

	// cause is ErrResponseTooLarge when the body was over the limit.
	cause error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("cloud elements")
	if e.Operation != "" {
		b.WriteString(" " + e.Operation)
	}
	fmt.Fprintf(&b, ": %d", e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.ProviderMessage != "" {
		b.WriteString(" (provider: " + e.ProviderMessage + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// Unwrap returns ErrResponseTooLarge when the body was over MaxResponseBytes,
// nil otherwise.
func (e *APIError) Unwrap() error { return e.cause }

// DecodeError is a 2xx answer whose body is not what the operation returns:
// not JSON, truncated, empty, of the wrong shape, or over MaxResponseBytes
// (Err is then ErrResponseTooLarge and Size is -1). It is not retryable; the
// caller's work queue still retries with backoff.
type DecodeError struct {
	Operation   string
	StatusCode  int
	ContentType string
	Size        int
	Err         error
}

func (e *DecodeError) Error() string {
	if errors.Is(e.Err, ErrResponseTooLarge) {
		return fmt.Sprintf("cloud elements %s: %d %s: %v (%s)",
			e.Operation, e.StatusCode, http.StatusText(e.StatusCode), e.Err, describeContentType(e.ContentType))
	}
	what := "cannot decode response body"
	var syntaxErr *json.SyntaxError
	if errors.As(e.Err, &syntaxErr) {
		what = "response body is not valid JSON"
	}
	return fmt.Sprintf("cloud elements %s: %d %s: %s (%s, %d bytes): %v",
		e.Operation, e.StatusCode, http.StatusText(e.StatusCode), what, describeContentType(e.ContentType), e.Size, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// maxMessageBytes bounds each message field kept from an error body, so that
// an HTML page or a stack trace does not flood conditions and logs.
const maxMessageBytes = 1024

// MaxRetryAfter caps the delay a Retry-After header can ask for, so that an
// endpoint cannot park a resource for days (or overflow a Duration). The
// operator may cap it further.
const MaxRetryAfter = time.Hour

func newAPIError(operation string, status int, header http.Header, body []byte, scrub func(string) string, now time.Time) *APIError {
	e := &APIError{StatusCode: status, Operation: operation}
	e.Message, e.ProviderMessage, e.RequestID, e.PlatformError = parseErrorBody(header.Get("Content-Type"), body)
	e.Message = truncate(scrub(e.Message))
	e.ProviderMessage = truncate(scrub(e.ProviderMessage))
	e.RequestID = truncate(scrub(e.RequestID))
	e.setRetryAfter(header, now)
	return e
}

func (e *APIError) setRetryAfter(header http.Header, now time.Time) {
	if e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter, e.retryAfterSet = parseRetryAfter(header.Get("Retry-After"), now)
	}
}

// newTooLargeAPIError is a non-2xx answer whose body was over
// MaxResponseBytes: its classification follows the status, but it is not the
// platform's error.
func newTooLargeAPIError(operation string, status int, header http.Header, now time.Time) *APIError {
	e := &APIError{StatusCode: status, Operation: operation, cause: ErrResponseTooLarge,
		Message: fmt.Sprintf("%v (%s)", ErrResponseTooLarge, describeContentType(header.Get("Content-Type")))}
	e.setRetryAfter(header, now)
	return e
}

// newRedirectError is a 3xx answer, which the client never follows. It names
// where the redirect pointed, without the path or query, which could carry
// what the client sent.
func newRedirectError(operation string, status int, requestURL *url.URL, locations []string, scrub func(string) string) *APIError {
	e := &APIError{StatusCode: status, Operation: operation}
	var location *url.URL
	if len(locations) > 0 && locations[0] != "" {
		location, _ = requestURL.Parse(locations[0])
	}
	switch {
	case location == nil || location.Host == "":
		e.Message = "redirect without a usable Location; redirects are not followed"
	default:
		e.RedirectOrigin = truncate(scrub(location.Scheme + "://" + location.Host))
		e.Message = "redirect to " + e.RedirectOrigin + " not followed (the client never follows redirects); set the endpoint to the URL the platform answers on"
	}
	return e
}

// parseErrorBody reads {"message","providerMessage","requestId"}. When the
// body is not such an object the message says what it was instead, so that a
// proxy's HTML page reads as such rather than as a silent empty error.
// platform is true only for an object whose "message" is a non-empty string,
// the platform's error shape.
func parseErrorBody(contentType string, body []byte) (message, providerMessage, requestID string, platform bool) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return "empty response body", "", "", false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return fmt.Sprintf("response body is not valid JSON (%s, %d bytes): %v", describeContentType(contentType), len(body), err), "", "", false
		}
		return fmt.Sprintf("response body is JSON but not an object (%s, %d bytes)", describeContentType(contentType), len(body)), "", "", false
	}
	var text string
	platform = json.Unmarshal(fields["message"], &text) == nil && strings.TrimSpace(text) != ""
	return jsonText(fields["message"]), jsonText(fields["providerMessage"]), jsonText(fields["requestId"]), platform
}

// jsonText returns a string field's value, or the compact JSON of any other
// value: providers put objects in providerMessage.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}

func truncate(s string) string {
	if len(s) <= maxMessageBytes {
		return s
	}
	cut := maxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func describeContentType(contentType string) string {
	if contentType == "" {
		return "no content type"
	}
	if mediaType, _, err := mime.ParseMediaType(contentType); err == nil {
		return mediaType
	}
	return "unparsable content type"
}

// parseRetryAfter accepts delay-seconds or an HTTP date (RFC 9110 §10.2.3).
// A date in the past means "now".
func parseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds < 0 {
			return 0, false
		}
		if seconds > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		return time.Duration(seconds) * time.Second, true
	}
	when, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	delay := when.Sub(now)
	switch {
	case delay < 0:
		delay = 0
	case delay > MaxRetryAfter:
		delay = MaxRetryAfter
	}
	return delay, true
}

func statusCode(err error) (int, bool) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode, true
	}
	return 0, false
}

// IsNotFound reports a 404 that carries the platform's JSON error: the
// instance (or element) does not exist. A 404 with any other body (a proxy's
// or gateway's page, an empty body, plain text) says nothing about the
// instance; it is not IsNotFound but IsRetryable.
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && apiErr.PlatformError
}

// IsRateLimited reports a 429 answer from the endpoint (not the client's own
// limiter, ErrClientRateLimited). Usually a rate limit, but SAP's Open
// Connectors also answers 429 for payload-size and timeout limits, which
// waiting does not lift.
func IsRateLimited(err error) bool {
	code, ok := statusCode(err)
	return ok && code == http.StatusTooManyRequests
}

// IsRedirect reports a 3xx answer, which the client never follows: the
// endpoint is not the platform's own URL, or something in front of it
// redirects. It is a refusal (IsInvalidRequest), not retryable.
func IsRedirect(err error) bool {
	code, ok := statusCode(err)
	return ok && code >= 300 && code <= 399
}

// IsUnauthorized reports a 401 or 403: the user or organization secret is wrong.
func IsUnauthorized(err error) bool {
	code, ok := statusCode(err)
	return ok && (code == http.StatusUnauthorized || code == http.StatusForbidden)
}

// IsInvalidRequest reports that the request was refused as such (400, 409,
// 415, 422, or a redirect, see IsRedirect); sending it again unchanged will
// fail again.
func IsInvalidRequest(err error) bool {
	code, ok := statusCode(err)
	if !ok {
		return false
	}
	if code >= 300 && code <= 399 {
		return true
	}
	switch code {
	case http.StatusBadRequest, http.StatusConflict, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// IsRetryable reports a failure that may pass if the same request is sent
// later: 429, any 5xx, a 404 that is not the platform's JSON error (a proxy
// or gateway failed, as with a 502), a timeout, a dropped or refused
// connection, or the client-side rate limit. A cancellation by the caller is
// not retryable: the caller chose to stop.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		code := apiErr.StatusCode
		return code == http.StatusTooManyRequests || code >= 500 ||
			(code == http.StatusNotFound && !apiErr.PlatformError)
	}
	var decodeErr *DecodeError
	if errors.As(err, &decodeErr) {
		return false
	}
	if errors.Is(err, ErrClientRateLimited) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// RetryAfter returns the delay a 429 or 503 asked for in its Retry-After
// header. ok is false when there was no such header.
func RetryAfter(err error) (time.Duration, bool) {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return 0, false
	}
	return apiErr.RetryAfter, apiErr.RetryAfter > 0 || apiErr.retryAfterSet
}
