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

// Package simulator is a stand-in for the Cloud Elements platform API, for
// the hubspotcrm element only, and for HubSpot's consent page. It is a test
// fixture, not the real service: it holds its state in memory and never
// talks to HubSpot. It accepts only the authorization codes it minted itself,
// but any legacy access and refresh tokens. The binary hack/cloud-elements-simulator
// serves it on 127.0.0.1:8090.
//
// New returns an http.Handler; wrap it in httptest.NewServer and use
// server.URL + APIPrefix as the client's endpoint, exactly as
// https://api.cloud-elements.com/elements/api-v2 would be used.
//
// The contract, with the public source of each fact, is
// docs/cloud-elements-api.md at the repository root. Where the record is
// ambiguous, that file names the reading the simulator plays and the readings
// it does not model yet. Where the record is silent, the simulator chose as
// follows.
//
// # Platform API (under /elements/api-v2)
//
//	GET    /elements/{keyOrId}/oauth/url   no credentials
//	POST   /instances                      body names the element
//	POST   /elements/{keyOrId}/instances   path names the element
//	GET    /instances                      pageSize, nextPage
//	GET    /instances/{id}
//	PUT    /instances/{id}                 ?reAuthenticate=true to re-authorize
//	PATCH  /instances/{id}
//	DELETE /instances/{id}
//
// For all of them:
//
//   - {keyOrId} is "hubspotcrm" or "168". The element block returned is the
//     seed's, with id 168: the seed's 43 is the older "hubspot" marketing
//     element, which the simulator does not serve. Any other element answers
//     404 "No element found with key …".
//   - Every platform call but the OAuth URL needs
//     "Authorization: User <secret>, Organization <secret>" (parts in any
//     order; an extra "Element <token>" part is ignored); anything else gets
//     the documented 401. A simulator configured without both secrets refuses
//     every request.
//   - Checks run in this order: route (404, 405 with Allow), faults, 401,
//     the element or instance the path names (404), Content-Type (415 unless
//     application/json for POST, PUT and PATCH), body size (413 over 1 MiB),
//     JSON syntax (400 "Invalid JSON in request body", also for trailing
//     data), the element the body names (404), then the content.
//   - Every error body is {"requestId", "message"} plus "providerMessage"
//     when HubSpot is the one refusing (codes) or failing (simulated 502s).
//   - Configuration values must be JSON strings (null counts as absent);
//     providerData values may also be numbers, as expires_in often is.
//
// # Creating, validating, replacing
//
//   - The mode is read from the body: externalAuthentication "initial" →
//     created from a refresh token (needs oauth.api.key, oauth.api.secret,
//     oauth.user.refresh_token); authentication.type "apiKey" → API key
//     (needs hubspot.authorization.apikey); else providerData apikey or
//     access_token → OAuth 2 Legacy (needs oauth.api.key, oauth.api.secret,
//     which must be digits: the portal id, oauth.callback.url, oauth.scope,
//     providerData.access_token and providerData.refresh_token); else OAuth 2
//     (needs oauth.api.key, oauth.api.secret, oauth.callback.url and
//     providerData.code). An authentication.type other than "apiKey" or
//     "oauth2", or an externalAuthentication other than "none" or "initial",
//     is a 400.
//   - With event.notification.enabled "true", event.notification.callback.url
//     and event.vendor.type are required too.
//   - Every missing entry is named in one 400, sorted:
//     "missing required configuration: oauth.api.secret, oauth.callback.url".
//     Empty and white-space values count as missing. Only then are values
//     checked, all problems in one message: create.bulk.properties,
//     event.notification.enabled and filter.response.nulls must be "true" or
//     "false", event.vendor.type "webhook" or "polling",
//     event.notification.type "webhook", the legacy portal id digits, and the
//     instance name must not be empty (the record is silent; the simulator is
//     strict so that a caller's bug shows). Values are never echoed in
//     messages, as any of them might be a secret in the wrong key. Callback
//     URLs are not checked: the seed's own legacy example has none with a
//     scheme.
//   - The authorization code is redeemed last, so a request refused for any
//     other reason does not use it up. It must have been minted by the
//     consent page or IssueCode, for the client id in oauth.api.key, be
//     unused and younger than CodeTTL; otherwise 400 with a providerMessage
//     starting BAD_AUTH_CODE or BAD_CLIENT_ID. The client secret is not
//     checked against the code. Legacy access and refresh tokens are not
//     checked at all.
//   - Instances get ids from 1 up and a 40-character token drawn from the
//     base64 alphabet. They are stored with what was sent and nothing more
//     (no oauth.user.token or defaults are added), valid, enabled, with
//     externalAuthentication "none" (or "initial") and eventsEnabled from
//     event.notification.enabled. Every read (create, get, list, put, patch)
//     masks secret values (cloudelements.IsSecretConfigKey, so the legacy
//     portal id too) as "********" and includes the token, as the platform
//     does for the owning account.
//   - PUT replaces name, tags and configuration, validated as a create
//     without providerData; a secret sent as "********" keeps the stored
//     value (absent if none was stored). The mode stays the stored one unless
//     authentication.type says otherwise; moving to an API key is allowed,
//     moving to an OAuth mode needs ?reAuthenticate=true. PUT
//     ?reAuthenticate=true is validated exactly as a create, providerData
//     included, redeems the code and sets valid back to true; a plain PUT
//     leaves valid alone.
//   - PATCH takes "name" and "tags" (other fields are ignored); tags, when
//     present, replace the old ones whole, and [] clears them. An empty name
//     is a 400.
//   - DELETE answers 200 with an empty body; an unknown id is 404 "No instance
//     found with ID …", as for every instance route.
//   - GET /instances serves instances in id order, pageSize 200 by default,
//     larger sizes capped at 200, non-positive ones a 400. The
//     elements-next-page-token header is set only when more remain; the
//     token is opaque, names the last id served (so pages stay consistent
//     while instances come and go) and goes back in ?nextPage. An unreadable
//     token is a 400. elements-total-count is the number of instances.
//     tags[] keeps the instances carrying every tag given; searchText is
//     ignored. An empty page is 200 [].
//   - Enable/disable (/instances/enabled) and everything under /hubs are not
//     simulated; they answer 404.
//
// # Readings of the record
//
// Where docs/cloud-elements-api.md lists several readings, the defaults above
// play one, and an Options field plays another. They combine freely:
//
//   - IgnoreTagFilter: GET /instances ignores tags[] and lists the whole
//     account.
//   - EmptyListNotFound: an empty list page (no instances, a tags[] filter
//     matching none, the page after the last) is 404 {"requestId",
//     "message":"No instances found"} instead of 200 [].
//   - NextPageTokenOnLastPage: every list page carries
//     elements-next-page-token, the last one (naming its last id) and an
//     empty one (naming where it started) included, so a client reads one
//     more, empty, page: 200 [], or the 404 with EmptyListNotFound.
//   - ObjectTags: instances come back with tags as [{"id":1,"name":"…"}],
//     ids numbering the tags from 1.
//   - TypedConfigurationValues: configuration values come back as typed JSON,
//     "true" and "false" as booleans and digits (without a leading zero) as
//     numbers; masked secrets and every other value stay strings. Writes
//     still take strings only.
//   - ExtraInstanceFields: instances come back with a fixed user object and
//     createdDate and updatedDate (UTC, "2006-01-02T15:04:05Z", from
//     Options.Now; updatedDate moves on PUT and PATCH).
//
// These shape only the platform API's answers; the Go knobs and the HTTP
// knobs return the client's Instance as it is.
//
// # OAuth
//
//   - GET /elements/{keyOrId}/oauth/url needs apiKey, apiSecret and
//     callbackUrl (400 naming the missing ones). scope absent → "contacts
//     timeline files"; present but empty → kept empty ("all objects"); runs
//     of spaces collapse to one, as the seed's example shows. state absent →
//     the element key. The answer points at this simulator's consent page:
//     Options.BaseURL, else the request's scheme and Host.
//   - When apiSecret is all digits and the scope contains "contacts-rw" the
//     URL has the legacy shape, /simulator/hubspot/auth/authenticate with
//     portalId; otherwise /simulator/hubspot/oauth/authorize.
//   - The consent pages need client_id and an absolute redirect_uri (and
//     portalId for legacy) and answer 302 to redirect_uri, keeping its own
//     query, with code (OAuth 2) or access_token, refresh_token and
//     expires_in=21600 (legacy, as query parameters), and state passed through
//     unchanged when given. simulate=deny or error=access_denied on the
//     consent URL makes the user refuse: error=access_denied and an
//     error_description instead of the code.
//
// # Faults, counters, randomness
//
//   - SetFault(op, Fault) per operation (OpOAuthURL, OpCreate, OpGet, OpList,
//     OpUpdate, OpReauthorize, OpPatch, OpDelete, OpConsent); "" or "*" sets
//     every operation. Each request first sleeps Latency, then: FailNext
//     answers Status (default 500; a 400 or 502 carries a providerMessage; a
//     429 carries Retry-After) or the raw Body (served as text/html when it
//     starts with "<", else as application/json); else HangRate hangs until
//     the client goes away or HangFor (default 2m) passes, then answers 504;
//     else RateLimitRate answers 429 with Retry-After (RetryAfter, default
//     1s, in whole seconds rounded up, or as an HTTP date with
//     RetryAfterHTTPDate); else ErrorRate answers 500, 502 or 503.
//   - The commit faults apply the request and then answer late or badly, as
//     a platform that commits after its client timed out, or a proxy that
//     answers 503 after forwarding: CommitLateNext or CommitLateRate answer
//     what the operation answered AnswerAfter later (default 2m), or with
//     CommitLateReset close the connection (counted as status 0);
//     CommitFailNext or CommitFailRate answer CommitFailStatus (default 503)
//     with CommitFailBody or the JSON error body. CommitDelay applies the
//     request that long after arrival instead of at once. The Next counts
//     follow FailNext; the rates are drawn after ErrorRate. CommittedLate,
//     CommittedFailed and CommitCounts count the requests applied.
//   - Counters count every answered request by operation and final status,
//     faults included, at the moment the status is written; requests that
//     match no route count under OpUnknown; the knobs are not counted.
//   - Tokens, codes, request ids and fault draws come from one PCG generator
//     seeded with Options.Seed (0 → the clock; Seed() tells which), so a
//     sequential run repeats exactly. Instance ids always start at 1.
//   - The Go knobs (SetFault, Invalidate, SetDisabled, Remove, Instances,
//     IssueCode…) and the HTTP ones act on the same state. Instances and the
//     HTTP knobs show secrets in clear: they are for tests.
//
// # HTTP knobs (under /simulator/, JSON, no credentials)
//
//	GET    /simulator/instances                  all instances, secrets in clear
//	GET    /simulator/instances/{id}
//	DELETE /simulator/instances/{id}             delete behind the operator's back
//	POST   /simulator/instances/{id}/invalidate  valid=false
//	POST   /simulator/instances/{id}/disable     disabled=true
//	POST   /simulator/instances/{id}/enable      disabled=false
//	GET    /simulator/faults
//	PUT    /simulator/faults/{op|*}              body: a Fault, see below
//	DELETE /simulator/faults/{op|*}
//	DELETE /simulator/faults                     clear all
//	GET    /simulator/counts                     {"get":{"200":3,"503":1},…}
//	GET    /simulator/commits                    {"committedLate":{"create":1},…}
//	POST   /simulator/counts/reset               the commit counts too
//	POST   /simulator/codes?client_id=…          {"code":"…"}, as after a consent
//	GET    /simulator/seed                       {"seed":…}
//	GET    /simulator/hubspot/oauth/authorize    fake HubSpot consent (OAuth 2)
//	GET    /simulator/hubspot/auth/authenticate  fake HubSpot consent (legacy)
//
// A Fault in JSON: {"errorRate":0.1, "rateLimitRate":0.1, "retryAfter":"2s",
// "retryAfterHttpDate":false, "latency":"50ms", "hangRate":0.05,
// "hangFor":"30s", "failNext":1, "status":503, "body":"<html>…",
// "commitLateRate":0.1, "commitLateNext":1, "answerAfter":"5s",
// "commitLateReset":false, "commitFailRate":0.1, "commitFailNext":1,
// "commitFailStatus":503, "commitFailBody":"…", "commitDelay":"3s"}. Durations
// are Go duration strings or numbers of milliseconds; rates must lie in
// [0, 1]; status and commitFailStatus in 200–599. Out-of-range values are a 400.
//
// # Log
//
// With Options.Logger each request is logged once, as method, path, query,
// operation, status and duration. Headers and bodies are never logged, and
// the apiSecret, code, access_token, refresh_token and client_secret query
// parameters read REDACTED.
package simulator
