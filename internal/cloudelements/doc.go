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

// Package cloudelements is a client for the Cloud Elements platform API, as
// far as the operator needs it to provision "hubspotcrm" element instances:
// the OAuth URL, and creating, reading, listing, replacing, re-authorizing,
// patching and deleting instances. It knows nothing of Kubernetes; the
// reconciler reaches it through a small interface, and the tests point it at
// the simulator in the simulator subpackage.
//
// The contract, with the public source of each fact and the readings the
// operator must survive where the record is ambiguous, is
// docs/cloud-elements-api.md at the repository root. Where it leaves a choice
// to the client, this package chose as follows.
//
// # Endpoint, rate and identity
//
//   - An empty Options.Endpoint means DefaultEndpoint. Any other endpoint must
//     be an absolute http or https URL with a host, and without credentials, a
//     query or a fragment; a trailing slash is dropped.
//   - Every request first waits on a token-bucket limiter. Without
//     Options.Limiter, all clients for the same endpoint and account (user and
//     organization secret) share one limiter from a package registry, keyed
//     by a hash of the secrets, never the secrets themselves. The first
//     client for an account fixes that limiter's rate (default 10 req/s, burst
//     20). When the limiter cannot admit a request before the context's
//     deadline the request is not sent, and the error wraps
//     ErrClientRateLimited (retryable) and is not counted in the metrics.
//   - Empty secrets are not refused locally: the request goes out and the
//     platform's 401 makes IsUnauthorized true, as for any wrong secret.
//   - The OAuth URL call is documented without an Authorization header and
//     is sent without one.
//
// # Requests
//
//   - Spaces in query values are sent as %20, as in the platform's examples.
//     OAuthURLRequest.Scopes are split on white space and joined with one
//     space; with no scopes the scope parameter is left out, so the element
//     applies its defaults (contacts, timeline, files). An empty State is left
//     out, and the provider then echoes the element key as the state.
//   - An empty InstanceRequest.Element.Key means ElementKey.
//   - ReauthorizeInstance refuses, without sending anything, a request with no
//     providerData.code: that is a bug in the caller, not a platform answer.
//   - ListInstances asks for pages of 200 (the platform's maximum) and stops
//     at a page without elements-next-page-token, at an empty page, or with an
//     error if the endpoint repeats a token, sends one over 8 KiB, or still
//     sends one after MaxListPages (100) pages: ErrTooManyPages. A 404 on a
//     list page that is the platform's JSON error with a message "No … found"
//     (as "No instances found") is an empty page, on the first page or after
//     a token, and ends the listing without an error; any other 404 there (a
//     gateway's HTML page, an empty body, another message) is an error. The
//     whole listing, every page, has one deadline, Options.ListTimeout
//     (DefaultListTimeout): past it, the listing fails with ErrListDeadline.
//   - FindInstancesByTag sends tags[] and still checks each instance's tags
//     itself.
//   - The client never retries. The operator's work queue owns backoff, and
//     IsRetryable and RetryAfter tell it how to requeue.
//
// # Responses and errors
//
//   - A non-2xx answer is an *APIError with the status, and the message,
//     providerMessage and requestId of the body. A body that is empty, not
//     JSON (a proxy's HTML page) or not a JSON object still gives an
//     *APIError, whose Message says what the body was, with its content type
//     and size; its classification follows the status. PlatformError records
//     whether the body was the platform's JSON error (an object whose
//     "message" is a non-empty string). A providerMessage that is a JSON
//     object is kept as compact JSON text. Each message field is cut at 1 KiB.
//   - A 2xx answer whose body cannot be decoded into the operation's result,
//     or an instance without an id, is a *DecodeError naming the status. It is
//     not retryable: the platform answered, just not sensibly.
//   - An instance decodes whatever the shape of its tags and configuration
//     (Instance.UnmarshalJSON): object tags give their name, non-string
//     configuration values their compact JSON text ("true", "15", an
//     object's JSON), null values "", and unknown fields (user, createdDate,
//     …) are ignored. Masked secrets read as MaskedValue.
//   - IsNotFound is a 404 with the platform's JSON error only. A 404 with any
//     other body (a gateway's page, an empty body, text) says nothing about
//     the instance: it is retryable, like a 502.
//   - IsUnauthorized covers 401 and 403; IsInvalidRequest 400, 409, 415, 422
//     and every 3xx (IsRedirect); IsRetryable 429, every 5xx, a 404 that is
//     not the platform's, timeouts (the http.Client's, or the context's
//     deadline), refused, reset or dropped connections and the client-side
//     rate limit, but not a context the caller cancelled.
//   - Retry-After is read on 429 and 503, as delay-seconds or an HTTP date; a
//     date in the past reads as zero (RetryAfter's ok is still true), and
//     anything over MaxRetryAfter (1 hour) is cut to 1 hour.
//
// # A hostile or broken endpoint
//
// The endpoint is chosen by whoever writes the resource, so the client
// assumes it may be hostile or broken.
//
//   - Redirects are never followed: a 307 or 308 would re-send the body
//     (client secret, API key, tokens, code) to another host, and Go keeps
//     the Authorization header when only the scheme or port changes. New uses
//     a copy of Options.HTTPClient (the caller's is not changed) whose
//     CheckRedirect returns http.ErrUseLastResponse and whose transport hides
//     a 3xx answer's Location from http.Client, which would otherwise quote an
//     unparsable one whole in its error. Every 3xx is an *APIError naming the
//     status and, in RedirectOrigin, the scheme and host of the Location,
//     never its path or query. It is a refusal (IsRedirect, IsInvalidRequest),
//     not retryable.
//   - Every response body, success or error, is read up to MaxResponseBytes
//     (4 MiB) and no further; a Content-Length over it is refused unread. A
//     larger 2xx body is a *DecodeError, a larger non-2xx body an *APIError
//     classified by its status (a 404 then not IsNotFound); both wrap
//     ErrResponseTooLarge and name the operation, the status and the limit.
//   - ListInstances reads at most MaxListPages pages per call (20,000
//     instances). With a nil match it keeps every instance of those pages;
//     the operator always passes a match, so it holds one page at a time.
//
// # Secrets
//
//   - No error carries a secret. Request URLs in transport errors have their
//     apiSecret replaced by REDACTED, and every error message is scrubbed of
//     the account's secrets and of the request's secret values (secret
//     configuration keys, providerData code and tokens), in case the platform
//     or a proxy echoes them. Values shorter than four characters are not
//     scrubbed: they would mangle messages and protect nothing.
//   - Options, OAuthURLRequest, ProviderData, InstanceRequest and Instance
//     print with %v, %+v and %#v with secrets, and the element token, masked.
//     RedactConfiguration masks a configuration map for logs.
//   - IsSecretConfigKey decides what is secret: the known secret keys, and any
//     key containing "secret", "token", "password" or "apikey". For OAuth 2
//     Legacy, oauth.api.secret holds the portal id, which is treated as
//     secret too, as the platform masks it.
//
// # Metrics
//
// Metrics returns them for the caller to register (the controllers package
// does, at init, on controller-runtime's metrics.Registry):
// cloudelements_requests_total{operation,code} and
// cloudelements_request_duration_seconds{operation}. The operation label is
// one of oauth_url, create_instance, get_instance, list_instances (one count
// per page), update_instance, reauthorize_instance, patch_instance and
// delete_instance; code is the HTTP status, or "error" when no response
// arrived. The duration runs from sending the request to reading the whole
// response, without the time spent waiting on the limiter.
package cloudelements
