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
// docs/cloud-elements-api.md at the repository root; the sources are cited
// here by the same labels: [seed] the HubSpot CRM Create Instance page,
// [devportal …] the vendor's developer-portal source, [churros …] the
// platform's own test suite, [doctor] the vendor's command-line tools,
// [ce-docs …] the vendor's help centre and [sap …] SAP Open Connectors.
// "[silent]" marks a choice the simulator made where the record says
// nothing. Where the record is ambiguous, an Options field plays the other
// reading (see "Readings of the record" below).
//
// # Platform API (under /elements/api-v2)
//
//	GET    /elements/{keyOrId}/oauth/url                no credentials
//	POST   /instances                                   body names the element
//	POST   /elements/{keyOrId}/instances                path names the element
//	GET    /instances                                   pageSize, nextPage, tags[], searchText
//	GET    /instances/{id}
//	PUT    /instances/{id}                              ?reAuthenticate=true to re-authorize
//	PATCH  /instances/{id}
//	DELETE /instances/{id}
//	GET    /instances/{id}/configuration                every key, one entry each
//	GET    /instances/{id}/configuration/{configId}
//	PATCH  /instances/{id}/configuration/{configId}     one key
//	PUT    /instances/{id}/enabled                      enable
//	DELETE /instances/{id}/enabled                      disable
//	PUT    /instances/enabled                           enable, by element token
//	DELETE /instances/enabled                           disable, by element token
//
// For all of them:
//
//   - {keyOrId} is "hubspotcrm" or "168" [devportal
//     `_includes/Elements/Hubspot/authenticate.md`]. The element block
//     returned is the seed's, with id 168: the seed's 43 is the older
//     "hubspot" marketing element, which the simulator does not serve. Any
//     other element answers 404 "No element found with key …".
//   - Every platform call but the OAuth URL needs
//     "Authorization: User <secret>, Organization <secret>" (parts in any
//     order; an extra "Element <token>" part is ignored) [seed; devportal
//     `_includes/authentication.md`]; anything else gets the documented 401
//     [ce-docs `error-codes`]. /instances/enabled needs the three-part header
//     "User …, Organization …, Element <token>" and acts on the instance
//     holding that token; a missing or unknown token is the same 401 [ce-docs
//     `disabling-and-enabling-instances`]. A simulator configured without
//     both secrets refuses every request.
//   - Checks run in this order [silent]: route (404, 405 with Allow), faults,
//     401, the element or instance the path names (404), Content-Type (415
//     unless application/json for POST, PUT and PATCH), body size (413 over 1
//     MiB), JSON syntax (400 "Invalid JSON in request body", also for
//     trailing data), the element the body names (404), then the content.
//   - Every error body is {"requestId", "message"} plus "providerMessage"
//     when HubSpot is the one refusing (codes) or failing (simulated 502s)
//     [ce-docs `error-codes`].
//   - Configuration values may be JSON strings, booleans, numbers or objects,
//     and are stored as their text ("true", "15", compact JSON) [devportal
//     `_includes/Elements/Hubspot/authenticate.md`, `events.md`,
//     `docs/platform-api/instances/index.md` send booleans and an object;
//     churros sends strings]. A list is a 400 [silent]; null counts as
//     absent. providerData values may be strings or numbers, as expires_in
//     often is [seed].
//
// # Creating, validating, replacing
//
//   - The mode is read from the body [seed]: externalAuthentication
//     "initial" → created from a refresh token (needs oauth.api.key,
//     oauth.api.secret, oauth.user.refresh_token); authentication.type
//     "apiKey" → API key (needs hubspot.authorization.apikey); else
//     providerData apikey or access_token → OAuth 2 Legacy (needs
//     oauth.api.key, oauth.api.secret, which must be digits: the portal id,
//     oauth.callback.url, oauth.scope, providerData.access_token and
//     providerData.refresh_token); else OAuth 2 (needs oauth.api.key,
//     oauth.api.secret, oauth.callback.url and providerData.code). An
//     authentication.type other than "apiKey" or "oauth2", or an
//     externalAuthentication other than "none" or "initial", is a 400.
//   - Event keys [devportal `_includes/common-instance-config.md`,
//     `_includes/Elements/Hubspot/events.md`]: event.vendor.type and
//     event.notification.callback.url are optional, also with events on, and
//     event.vendor.type may be "polling", "webhook" or "webhooks" (the
//     HubSpot example's spelling). event.poller.configuration, when given,
//     must be a JSON object (an object, or a string holding one); 400 naming
//     the key otherwise. event.poller.urls may be any string [churros
//     `provisioner.js`].
//   - Every missing entry is named in one 400, sorted:
//     "missing required configuration: oauth.api.secret, oauth.callback.url".
//     Empty and white-space values count as missing. The status is not
//     documented; the message naming the entries is [seed]. Only then are
//     values checked, all problems in one message: create.bulk.properties,
//     event.notification.enabled and filter.response.nulls must be "true" or
//     "false", event.vendor.type as above, event.notification.type "webhook",
//     the legacy portal id digits, and the instance name must not be empty
//     [silent; strict so that a caller's bug shows]. Values are never echoed
//     in messages, as any of them might be a secret in the wrong key.
//     Callback URLs are not checked: the seed's own legacy example has none
//     with a scheme.
//   - Names and tags are HTML-sanitised on create, PUT and PATCH: markup is
//     stripped and the text between tags kept, so
//     `<a href="#" onClick="…">churros-xss</a>` reads back "churros-xss"
//     [churros `instances.js` "should sanitize element instance name/tags"].
//     Text without "<" is never touched, so owner tags read back as sent. A
//     name that is only markup is an empty name.
//   - The authorization code is redeemed last, so a request refused for any
//     other reason does not use it up [silent]. It must have been minted by
//     the consent page or IssueCode, for the client id in oauth.api.key, be
//     unused and younger than CodeTTL; otherwise 400 with a providerMessage
//     starting BAD_AUTH_CODE or BAD_CLIENT_ID [seed: a code is short-lived
//     and used once]. The client secret is not checked against the code.
//     Legacy access and refresh tokens are not checked at all.
//   - Instances get ids from 1 up and a 40-character token drawn from the
//     base64 alphabet [silent], valid, enabled, with externalAuthentication
//     "none" (or "initial") and eventsEnabled from event.notification.enabled
//     [seed; devportal `docs/platform-api/instances/index.md`]. They are
//     stored with what was sent plus the provider's tokens: an OAuth 2 or
//     OAuth 2 Legacy instance, at create and at PUT ?reAuthenticate=true,
//     gets oauth.user.token and oauth.user.refresh_token in its configuration
//     [ce-docs `steps-to-re-authenticate-a-salesforce-instance-with-the-api`]:
//     made up for a code, the providerData tokens for legacy; one created
//     from a refresh token gets a made-up oauth.user.token. For these modes
//     valid reads true only while both tokens are in the configuration and
//     no lapse was simulated (Invalidate). API-key instances carry no tokens.
//   - Every read (create, get, list, put, patch, enable, the configuration
//     entries) masks as "********" the secret values
//     (cloudelements.IsSecretConfigKey, so the legacy portal id and the
//     oauth.user.* tokens too) and oauth.api.key, the client id [churros
//     `instances.js`, the filter.response.nulls test, shows both
//     oauth.api.key and oauth.api.secret masked]. Every instance read
//     includes the token, as the platform does for the owning account
//     [devportal `_includes/Elements/index.md`].
//   - Instances carry user{id, emailAddress, firstName, lastName},
//     createdDate and updatedDate (UTC, "2006-01-02T15:04:05Z", from
//     Options.Now; updatedDate moves on every change), elementId and
//     traceLoggingEnabled false [churros instance schema, which requires
//     user; sap `api-reference-instances`; devportal
//     `_includes/Elements/Hubspot/authenticate.md`].
//   - PUT with a configuration replaces name and tags, and is validated as a
//     create without providerData; a masked key sent as "********" keeps the
//     stored value (absent if none was stored) [silent]. The configuration
//     sent is merged over the stored one: keys the body does not carry, the
//     oauth.user.* tokens included, are kept (the record does not say; see
//     PutDropsOAuthTokens). The mode stays the stored one unless
//     authentication.type says otherwise; moving to an API key is allowed,
//     moving to an OAuth mode needs ?reAuthenticate=true. A plain PUT leaves
//     valid alone [silent].
//   - PUT without a configuration (null or absent; {} is a configuration)
//     changes name and/or tags only, keeping whichever is absent, and touches
//     nothing else; element may be given or left out [devportal
//     `docs/platform-api/instances/index.md` shows a PUT of {name, tags}]. An
//     empty name is a 400.
//   - PUT ?reAuthenticate=true is validated exactly as a create, providerData
//     included, redeems the code, stores fresh oauth.user.* tokens and sets
//     valid back to true [ce-docs
//     `steps-to-re-authenticate-a-salesforce-instance-with-the-api`]. The
//     configuration sent is merged, or replaces, as on a plain PUT.
//     providerData on a plain PUT or a PATCH is ignored [silent; churros
//     re-provisions that way, which the simulator does not model].
//   - PATCH takes "name" and "tags"; tags, when present, replace the old ones
//     whole, and [] clears them. "id", when present, must be the instance's
//     (a number or a string of digits), else 400 [devportal
//     `docs/platform-api/instances/index.md`; churros "should support updating
//     the tags"]. Other fields (element, providerData…) are ignored. An empty
//     name is a 400. Nothing else changes.
//   - GET /instances/{id}/configuration lists one {"id", "key",
//     "propertyValue"} per key, sorted by key: every key the hubspotcrm
//     element knows (the cloudelements Config* keys, oauth.user.token,
//     event.poller.configuration, event.poller.urls, document.tagging), ""
//     when unset, and any other key the instance holds [churros
//     `instances.js`; devportal `docs/guides/event-management/index.md`].
//     Entry ids are given per (instance, key) from one counter, so that an
//     id never names a key of another instance, and never change [silent].
//     GET …/configuration/{configId} answers one entry; an id the list does
//     not show is 404 "No configuration found with ID …".
//   - PATCH …/configuration/{configId} takes {"id", "key", "propertyValue"},
//     the entry as listed [churros `instances.js`]: id and key, when present,
//     must match (400), propertyValue is required and may be any JSON but a
//     list (stored as text; null unsets the key; "********" on a masked key
//     keeps it). The value is checked as on create, and authentication.type
//     cannot change this way [silent]. Only that key changes: no other key is
//     validated or dropped, and the OAuth tokens stay. The answer is the
//     entry, masked.
//   - PUT and DELETE …/enabled set disabled false and true and answer the
//     instance [churros; ce-docs `disabling-and-enabling-instances`; the
//     answer's body is silent]. Hub calls are not simulated, so the 403 a
//     disabled instance's token gets is not either.
//   - DELETE /instances/{id} answers 200 with an empty body [devportal
//     `docs/platform-api/instances/index.md`]; an unknown id is 404 "No
//     instance found with ID …", as for every instance route [ce-docs
//     `error-codes`].
//   - GET /instances serves instances in id order, pageSize 200 by default,
//     larger sizes capped at 200 [ce-docs `elements-api-reference`],
//     non-positive ones a 400. The elements-next-page-token header is set
//     only when more remain; the token is opaque, names the last id served
//     (so pages stay consistent while instances come and go) and goes back in
//     ?nextPage [ce-docs `how-does-cursor-pagination-work`]. An unreadable
//     token is a 400. elements-total-count, which no source names, is the
//     number of instances matching the filters. tags[] keeps the instances
//     carrying every tag given [churros "should support search tags"].
//     searchText keeps those whose name or element key contains the text,
//     whatever the case [devportal `_posts/2018-04-23-ReleaseNotes-2.163.md`;
//     how loosely it matches is silent]; it combines with tags[]. An empty
//     page is 200 [].
//   - /instances/{id}/events and everything under /hubs are not simulated;
//     they answer 404.
//
// # Readings of the record
//
// Where docs/cloud-elements-api.md lists several readings, the defaults above
// play one, and an Options field plays another. They combine freely:
//
//   - PutDropsOAuthTokens: a PUT with a configuration replaces it whole, so
//     a body without oauth.user.token and oauth.user.refresh_token loses them
//     and an OAuth instance reads valid:false until PUT ?reAuthenticate=true
//     brings fresh ones. PUT without configuration, PATCH and the per-key
//     PATCH keep them. Default: merge, nothing is lost.
//   - ClearClientID: oauth.api.key comes back in clear. Default: masked.
//   - StrictEventKeys: with events on, event.vendor.type and
//     event.notification.callback.url are required (named in the missing
//     entries' 400), and event.vendor.type is "polling" or "webhook" only.
//     Default: both optional, "webhooks" accepted.
//   - OmitExtraInstanceFields: instances come back without user,
//     createdDate, updatedDate, elementId and traceLoggingEnabled. Default:
//     with them.
//   - IgnoreTagFilter: GET /instances ignores tags[] and lists the whole
//     account (searchText still applies). Default: tags[] applied.
//   - EmptyListNotFound: an empty list page (no instances, filters matching
//     none, the page after the last) is 404 {"requestId",
//     "message":"No instances found"} [devportal
//     `docs/guides/account-user-mgmt/account-managementAPI.md`; doctor].
//     Default: 200 [].
//   - NextPageTokenOnLastPage: every list page carries
//     elements-next-page-token, the last one (naming its last id) and an
//     empty one (naming where it started) included, so a client reads one
//     more, empty, page: 200 [], or the 404 with EmptyListNotFound [ce-docs
//     `how-does-cursor-pagination-work`]. Default: no token on the last page.
//   - ObjectTags: instances come back with tags as [{"id":1,"name":"…"}],
//     ids numbering the tags from 1 [devportal
//     `docs/platform-api/instances/index.md`]. Default: strings.
//   - TypedConfigurationValues: configuration values, in instances and in
//     configuration entries, come back as typed JSON, "true" and "false" as
//     booleans and digits (without a leading zero) as numbers; masked values
//     and every other value stay strings. Default: strings.
//
// These shape only the platform API's answers; the Go knobs and the HTTP
// knobs return the client's Instance as stored, secrets and client id in
// clear, and valid as the platform would report it.
//
// # OAuth
//
//   - GET /elements/{keyOrId}/oauth/url needs apiKey, apiSecret and
//     callbackUrl (400 naming the missing ones) [seed]. scope absent →
//     "contacts timeline files"; present but empty → kept empty ("all
//     objects") [devportal `_includes/Elements/Hubspot/authenticate.md`;
//     the marketing scopes an empty scope adds are not modelled]; runs of
//     spaces collapse to one, as the seed's example shows. state absent →
//     the element key [seed]. The answer points at this simulator's consent
//     page: Options.BaseURL, else the request's scheme and Host.
//   - When apiSecret is all digits and the scope contains "contacts-rw" the
//     URL has the legacy shape, /simulator/hubspot/auth/authenticate with
//     portalId; otherwise /simulator/hubspot/oauth/authorize [seed].
//   - The consent pages need client_id and an absolute redirect_uri (and
//     portalId for legacy) and answer 302 to redirect_uri, keeping its own
//     query, with code (OAuth 2) or access_token, refresh_token and
//     expires_in=21600 (legacy, as query parameters), and state passed through
//     unchanged when given [seed]. simulate=deny or error=access_denied on the
//     consent URL makes the user refuse: error=access_denied and an
//     error_description instead of the code.
//   - A browser (a GET whose Accept names text/html) is shown the consent
//     page itself instead, as HubSpot shows it: the app, the scopes, where
//     the answer goes, and a form with an "Allow" and a "Deny" button that
//     POSTs (application/x-www-form-urlencoded) decision=allow or deny with
//     the request back to the same path, answered 303 See Other to
//     redirect_uri with the same code, tokens or refusal as above. Any other
//     client (Go's, which sends no Accept; curl's */*) plays a user who
//     answers at once, and so do the deny knobs for a browser. The page runs
//     no script and loads nothing: its Content-Security-Policy is
//     default-src 'none' with inline style.
//
// # Faults, counters, randomness
//
//   - SetFault(op, Fault) per operation (OpOAuthURL, OpCreate, OpGet, OpList,
//     OpUpdate, OpReauthorize, OpPatch, OpDelete, OpConsent, OpConfiguration
//     for the configuration list and entry reads, OpSetConfiguration for the
//     per-key PATCH, OpEnable for both enable/disable forms); "" or "*" sets
//     every operation. Each request first sleeps Latency, then: FailNext
//     answers Status (default 500; a 400 or 502 carries a providerMessage; a
//     429 carries Retry-After unless NoRetryAfter) with Message or the raw
//     Body (served as text/html when it starts with "<", else as
//     application/json); the commit Next counts (below); FailAlways answers
//     the same as FailNext on every request and is never used up; else
//     HangRate hangs until the client goes away or HangFor (default 2m)
//     passes, then answers 504; else RateLimitRate answers 429 with
//     Retry-After (RetryAfter, default 1s, in whole seconds rounded up, or as
//     an HTTP date with RetryAfterHTTPDate; none with NoRetryAfter); else
//     ErrorRate answers 500, 502 or 503.
//   - A 429 that resending cannot pass, as SAP answers for a payload or a run
//     time over its limits [sap `technical-restrictions`], is
//     Fault{FailAlways: true, Status: 429, NoRetryAfter: true, Message:
//     "Request payload exceeds the maximum size"}; clear it with SetFault(op,
//     Fault{}). A transient one is FailNext or RateLimitRate, with
//     Retry-After.
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
//   - Tokens (element and OAuth), codes, request ids and fault draws come
//     from one PCG generator seeded with Options.Seed (0 → the clock; Seed()
//     tells which), so a sequential run repeats exactly. Instance ids always
//     start at 1.
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
// "retryAfterHttpDate":false, "noRetryAfter":false, "latency":"50ms",
// "hangRate":0.05, "hangFor":"30s", "failNext":1, "failAlways":false,
// "status":503, "message":"…", "body":"<html>…", "commitLateRate":0.1,
// "commitLateNext":1, "answerAfter":"5s", "commitLateReset":false,
// "commitFailRate":0.1, "commitFailNext":1, "commitFailStatus":503,
// "commitFailBody":"…", "commitDelay":"3s"}. Durations are Go duration
// strings or numbers of milliseconds; rates must lie in [0, 1]; status and
// commitFailStatus in 200–599. Out-of-range values are a 400.
//
// # Log
//
// With Options.Logger each request is logged once, as method, path, query,
// operation, status and duration. Headers and bodies are never logged, and
// the apiSecret, code, access_token, refresh_token and client_secret query
// parameters read REDACTED.
package simulator
