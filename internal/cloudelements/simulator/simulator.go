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

package simulator

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// Operation names, used by the counters and the faults.
const (
	OpOAuthURL    = "oauthUrl"
	OpCreate      = "create"
	OpGet         = "get"
	OpList        = "list"
	OpUpdate      = "update"
	OpReauthorize = "reauthorize"
	OpPatch       = "patch"
	OpDelete      = "delete"
	OpConsent     = "consent"
	// OpConfiguration reads an instance's configuration one key at a time:
	// the list and a single entry.
	OpConfiguration = "configuration"
	// OpSetConfiguration changes one configuration key.
	OpSetConfiguration = "setConfiguration"
	// OpEnable enables or disables an instance, by id or by element token.
	OpEnable = "enable"
	// OpUnknown counts requests that matched no route or method.
	OpUnknown = "unknown"
)

// Operations lists every operation a fault can be set on.
var Operations = []string{OpOAuthURL, OpCreate, OpGet, OpList, OpUpdate, OpReauthorize, OpPatch, OpDelete, OpConsent,
	OpConfiguration, OpSetConfiguration, OpEnable}

// APIPrefix is the path the platform API is served under, as on the real host.
const APIPrefix = "/elements/api-v2"

const (
	knobPrefix        = "/simulator/"
	consentPath       = "/simulator/hubspot/oauth/authorize"
	legacyConsentPath = "/simulator/hubspot/auth/authenticate"

	maxBodyBytes    = 1 << 20
	maxPageSize     = 200
	defaultCodeTTL  = 10 * time.Minute
	defaultHangFor  = 2 * time.Minute
	defaultRetryAft = time.Second

	unauthorizedMessage = "Invalid Organization or User secret, or invalid Element token provided."
)

// Options configures a Simulator.
type Options struct {
	UserSecret, OrganizationSecret string
	Seed                           int64            // 0 → time-based; see Seed
	CodeTTL                        time.Duration    // 0 → 10m
	Now                            func() time.Time // nil → time.Now
	BaseURL                        string           // scheme://host for oauthUrl; "" → from the request
	Logger                         *log.Logger      // request log, redacted; nil → none
	// IgnoreTagFilter plays the reading of the record in which GET
	// /instances ignores tags[] and lists the whole account; by default the
	// list keeps the instances carrying every tag given.
	IgnoreTagFilter bool
	// EmptyListNotFound plays the reading in which GET /instances answers an
	// empty page (no instances, a tags[] filter matching none, or the page
	// after the last) with 404 {"message":"No instances found"}; by default
	// it answers 200 [].
	EmptyListNotFound bool
	// NextPageTokenOnLastPage plays the reading in which every list page
	// carries elements-next-page-token, the last and empty ones included, so
	// that a client reads one more, empty, page; by default the last page
	// has none.
	NextPageTokenOnLastPage bool
	// ObjectTags plays the reading in which instances come back with tags
	// as objects, [{"id":1,"name":"foo"}]; by default they are strings.
	ObjectTags bool
	// TypedConfigurationValues plays the reading in which configuration
	// values come back as typed JSON: "true" and "false" as booleans, digits
	// as numbers; by default every value is a string. Masked secrets stay
	// strings.
	TypedConfigurationValues bool
	// OmitExtraInstanceFields leaves out the fields the client does not use
	// (user, createdDate, updatedDate, elementId, traceLoggingEnabled), as an
	// older or thinner answer would; by default instances carry them, since
	// the platform's own test suite requires user.
	OmitExtraInstanceFields bool
	// PutDropsOAuthTokens plays the reading in which a PUT with a
	// configuration replaces it whole: the OAuth tokens the platform keeps
	// there (oauth.user.token, oauth.user.refresh_token) are lost unless the
	// body carries them, and an OAuth instance turns valid:false until it is
	// re-authorized. By default such a PUT merges, keeping every key it does
	// not receive. A PUT without configuration, PATCH and the per-key PATCH
	// keep the tokens either way.
	PutDropsOAuthTokens bool
	// ClearClientID plays the reading in which oauth.api.key, the OAuth
	// client id, comes back in clear; by default it is masked like the
	// secrets, as the platform's test suite shows.
	ClearClientID bool
	// StrictEventKeys plays the strict reading of the event keys: with
	// events on, event.vendor.type and event.notification.callback.url are
	// required, and event.vendor.type is "polling" or "webhook" only. By
	// default both are optional and "webhooks" is accepted too.
	StrictEventKeys bool
}

// Simulator is an http.Handler that plays the Cloud Elements platform for
// the hubspotcrm element, and HubSpot's consent page. It is safe for
// concurrent use.
type Simulator struct {
	// accountMu guards the account's secrets, which RotateAccountSecrets changes.
	accountMu                      sync.RWMutex
	userSecret, organizationSecret string
	seed                           int64
	codeTTL                        time.Duration
	now                            func() time.Time
	baseURL                        string
	logger                         *log.Logger
	ignoreTagFilter                bool
	emptyListNotFound              bool
	nextPageTokenOnLastPage        bool
	putDropsOAuthTokens            bool
	strictEventKeys                bool
	shape                          wireShape

	// rngMu is separate from mu so that an error response can draw a request
	// id whatever lock a handler holds.
	rngMu sync.Mutex
	rng   *rand.Rand

	mu     sync.Mutex
	nextID int64
	// nextConfigID numbers configuration entries across every instance, so
	// that an entry id never names a key of another instance.
	nextConfigID int64
	instances    map[int64]*record
	codes        map[string]*grant
	faults       map[string]*Fault
	counts       map[string]map[int]int
	commits      map[string]map[string]int // outcome → operation → requests
}

// New returns a Simulator with no instances.
func New(opts Options) *Simulator {
	s := &Simulator{
		userSecret:              opts.UserSecret,
		organizationSecret:      opts.OrganizationSecret,
		seed:                    opts.Seed,
		codeTTL:                 opts.CodeTTL,
		now:                     opts.Now,
		baseURL:                 strings.TrimRight(opts.BaseURL, "/"),
		logger:                  opts.Logger,
		ignoreTagFilter:         opts.IgnoreTagFilter,
		emptyListNotFound:       opts.EmptyListNotFound,
		nextPageTokenOnLastPage: opts.NextPageTokenOnLastPage,
		putDropsOAuthTokens:     opts.PutDropsOAuthTokens,
		strictEventKeys:         opts.StrictEventKeys,
		shape: wireShape{
			objectTags:    opts.ObjectTags,
			typedValues:   opts.TypedConfigurationValues,
			omitExtra:     opts.OmitExtraInstanceFields,
			clearClientID: opts.ClearClientID,
		},
		nextID:       1,
		nextConfigID: 1,
		instances:    map[int64]*record{},
		codes:        map[string]*grant{},
		faults:       map[string]*Fault{},
		counts:       map[string]map[int]int{},
		commits:      map[string]map[string]int{},
	}
	if s.seed == 0 {
		s.seed = time.Now().UnixNano()
	}
	if s.codeTTL <= 0 {
		s.codeTTL = defaultCodeTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.rng = rand.New(rand.NewPCG(uint64(s.seed), uint64(s.seed)^0x9e3779b97f4a7c15))
	return s
}

// Seed returns the seed of the simulator's randomness (tokens, codes,
// request ids, fault draws); pass it back in Options.Seed to repeat a run.
func (s *Simulator) Seed() int64 { return s.seed }

// ServeHTTP routes a request to the platform API, the consent pages or the knobs.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	op, handle := s.route(r)
	sw := &statusWriter{ResponseWriter: w}
	if op != "" {
		// Counted as the status goes out, not after the handler returns, so
		// that a test reading the counters right after its call sees it.
		sw.onStatus = func(status int) { s.count(op, status) }
	}
	defer func() {
		sw.commit(http.StatusOK)
		s.logRequest(r, op, sw.status, time.Since(started))
	}()
	if op != "" && op != OpUnknown && s.injectFault(sw, r, op, handle) {
		return
	}
	handle(sw, r)
}

// route returns the operation ("" for a knob) and its handler.
func (s *Simulator) route(r *http.Request) (string, http.HandlerFunc) {
	path := r.URL.Path
	switch {
	case path == consentPath || path == legacyConsentPath:
		switch r.Method {
		case http.MethodGet:
			return OpConsent, s.handleConsent
		case http.MethodPost:
			return OpConsent, s.handleConsentDecision
		}
		return OpUnknown, s.methodNotAllowed(http.MethodGet, http.MethodPost)
	case strings.HasPrefix(path, knobPrefix) || path == strings.TrimSuffix(knobPrefix, "/"):
		return "", s.handleKnob
	case path == APIPrefix || strings.HasPrefix(path, APIPrefix+"/"):
		return s.routeAPI(r, splitPath(strings.TrimPrefix(path, APIPrefix)))
	}
	return OpUnknown, s.notFoundRoute
}

func (s *Simulator) routeAPI(r *http.Request, segments []string) (string, http.HandlerFunc) {
	switch {
	case len(segments) == 1 && segments[0] == "instances":
		switch r.Method {
		case http.MethodGet:
			return OpList, s.platform(s.handleList)
		case http.MethodPost:
			return OpCreate, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handleCreate(w, r, "") })
		}
		return OpUnknown, s.methodNotAllowed(http.MethodGet, http.MethodPost)

	case len(segments) == 2 && segments[0] == "instances" && segments[1] == "enabled":
		// Matched before /instances/{id}: "enabled" is no instance id.
		switch r.Method {
		case http.MethodPut, http.MethodDelete:
			return OpEnable, s.elementToken(s.handleEnabledByToken)
		}
		return OpUnknown, s.methodNotAllowed(http.MethodPut, http.MethodDelete)

	case len(segments) == 3 && segments[0] == "instances" && segments[2] == "enabled":
		id := segments[1]
		switch r.Method {
		case http.MethodPut, http.MethodDelete:
			return OpEnable, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handleEnabled(w, r, id) })
		}
		return OpUnknown, s.methodNotAllowed(http.MethodPut, http.MethodDelete)

	case len(segments) == 3 && segments[0] == "instances" && segments[2] == "configuration":
		id := segments[1]
		if r.Method != http.MethodGet {
			return OpUnknown, s.methodNotAllowed(http.MethodGet)
		}
		return OpConfiguration, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handleConfigurationList(w, r, id) })

	case len(segments) == 4 && segments[0] == "instances" && segments[2] == "configuration":
		id, entry := segments[1], segments[3]
		switch r.Method {
		case http.MethodGet:
			return OpConfiguration, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handleConfigurationEntry(w, r, id, entry) })
		case http.MethodPatch:
			return OpSetConfiguration, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handleSetConfiguration(w, r, id, entry) })
		}
		return OpUnknown, s.methodNotAllowed(http.MethodGet, http.MethodPatch)

	case len(segments) == 2 && segments[0] == "instances":
		id := segments[1]
		switch r.Method {
		case http.MethodGet:
			return OpGet, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handleGet(w, r, id) })
		case http.MethodPut:
			if strings.EqualFold(r.URL.Query().Get("reAuthenticate"), "true") {
				return OpReauthorize, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handlePut(w, r, id, true) })
			}
			return OpUpdate, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handlePut(w, r, id, false) })
		case http.MethodPatch:
			return OpPatch, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handlePatch(w, r, id) })
		case http.MethodDelete:
			return OpDelete, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handleDelete(w, r, id) })
		}
		return OpUnknown, s.methodNotAllowed(http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete)

	case len(segments) == 3 && segments[0] == "elements" && segments[2] == "instances":
		key := segments[1]
		if r.Method != http.MethodPost {
			return OpUnknown, s.methodNotAllowed(http.MethodPost)
		}
		return OpCreate, s.platform(func(w http.ResponseWriter, r *http.Request) { s.handleCreate(w, r, key) })

	case len(segments) == 4 && segments[0] == "elements" && segments[2] == "oauth" && segments[3] == "url":
		key := segments[1]
		if r.Method != http.MethodGet {
			return OpUnknown, s.methodNotAllowed(http.MethodGet)
		}
		// Documented with no Authorization header, so none is checked.
		return OpOAuthURL, func(w http.ResponseWriter, r *http.Request) { s.handleOAuthURL(w, r, key) }
	}
	return OpUnknown, s.notFoundRoute
}

func splitPath(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// platform guards a handler with the account check the real gateway makes
// before anything else.
func (s *Simulator) platform(handle http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r.Header.Get("Authorization")) {
			s.writeError(w, http.StatusUnauthorized, unauthorizedMessage, "")
			return
		}
		handle(w, r)
	}
}

// elementToken guards a handler with the three-part header, "User …,
// Organization …, Element <token>", which names the instance by its token.
// Every refusal is the same 401, so that an answer never tells a caller
// which part was wrong.
func (s *Simulator) elementToken(handle func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		token := authorizationParts(header)["Element"]
		if !s.authorized(header) || token == "" {
			s.writeError(w, http.StatusUnauthorized, unauthorizedMessage, "")
			return
		}
		handle(w, r, token)
	}
}

// authorized checks "User <secret>, Organization <secret>[, Element <token>]".
// An empty configured secret matches nothing, so a misconfigured simulator
// fails loudly instead of accepting everyone.
func (s *Simulator) authorized(header string) bool {
	parts := authorizationParts(header)
	user, organization := parts["User"], parts["Organization"]
	s.accountMu.RLock()
	defer s.accountMu.RUnlock()
	return s.userSecret != "" && s.organizationSecret != "" &&
		subtle.ConstantTimeCompare([]byte(user), []byte(s.userSecret)) == 1 &&
		subtle.ConstantTimeCompare([]byte(organization), []byte(s.organizationSecret)) == 1
}

// authorizationParts splits the platform's Authorization header into its
// named parts, in any order.
func authorizationParts(header string) map[string]string {
	parts := map[string]string{}
	for _, part := range strings.Split(header, ",") {
		kind, value, _ := strings.Cut(strings.TrimSpace(part), " ")
		switch kind {
		case "User", "Organization", "Element":
			parts[kind] = strings.TrimSpace(value)
		}
	}
	return parts
}

func (s *Simulator) notFoundRoute(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, http.StatusNotFound, "No resource found at "+r.URL.Path, "")
}

func (s *Simulator) methodNotAllowed(allowed ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %s is not allowed here; allowed: %s", r.Method, strings.Join(allowed, ", ")), "")
	}
}

// errorBody is the platform's error shape.
type errorBody struct {
	RequestID       string `json:"requestId"`
	Message         string `json:"message"`
	ProviderMessage string `json:"providerMessage,omitempty"`
}

func (s *Simulator) writeError(w http.ResponseWriter, status int, message, providerMessage string) {
	writeJSON(w, status, errorBody{RequestID: s.requestID(), Message: message, ProviderMessage: providerMessage})
}

// writeJSON leaves "&" and "<" unescaped, as the platform does, so that an
// oauthUrl reads the same as in the documentation.
func writeJSON(w http.ResponseWriter, status int, body any) {
	var buf bytes.Buffer
	encoder := json.NewEncoder(&buf)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(body); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"message":"simulator could not encode its response"}`)
	}
	encoded := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(encoded)))
	w.WriteHeader(status)
	_, _ = w.Write(encoded)
}

// statusWriter remembers the status for the counters and the log. Status 0
// stands for a connection closed without an answer.
type statusWriter struct {
	http.ResponseWriter
	status    int
	committed bool
	onStatus  func(int)
}

func (w *statusWriter) commit(status int) {
	if w.committed {
		return
	}
	w.committed = true
	w.status = status
	if w.onStatus != nil {
		w.onStatus(status)
	}
}

func (w *statusWriter) WriteHeader(status int) {
	w.commit(status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.commit(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if flusher, ok := w.ResponseWriter.(http.Flusher); ok {
		flusher.Flush()
	}
}

func (s *Simulator) count(op string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts[op] == nil {
		s.counts[op] = map[int]int{}
	}
	s.counts[op][status]++
}

// Count returns how many requests of op were answered with code.
func (s *Simulator) Count(op string, code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op][code]
}

// Total returns how many requests of op were answered, whatever the code.
func (s *Simulator) Total(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, n := range s.counts[op] {
		total += n
	}
	return total
}

// Counts returns a copy of the counters: operation → status code → requests.
func (s *Simulator) Counts() map[string]map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := make(map[string]map[int]int, len(s.counts))
	for op, byCode := range s.counts {
		counts[op] = make(map[int]int, len(byCode))
		for code, n := range byCode {
			counts[op][code] = n
		}
	}
	return counts
}

// ResetCounts zeroes the counters, the commit counters too.
func (s *Simulator) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]map[int]int{}
	s.commits = map[string]map[string]int{}
}

// secretQueryParams are blanked in the request log.
var secretQueryParams = map[string]bool{
	"apiSecret": true, "code": true, "access_token": true, "refresh_token": true, "client_secret": true,
}

// logRequest never prints headers or bodies: they hold the secrets.
func (s *Simulator) logRequest(r *http.Request, op string, status int, elapsed time.Duration) {
	if s.logger == nil {
		return
	}
	target := r.URL.Path
	if r.URL.RawQuery != "" {
		query := r.URL.Query()
		for key := range query {
			if secretQueryParams[key] {
				query[key] = []string{"REDACTED"}
			}
		}
		target += "?" + query.Encode()
	}
	if op == "" {
		op = "knob"
	}
	s.logger.Printf("%s %s op=%s status=%d duration=%s", r.Method, target, op, status, elapsed.Round(time.Microsecond))
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// randomToken looks like the platform's element tokens.
func (s *Simulator) randomToken(length int) string {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	b := make([]byte, length)
	for i := range b {
		b[i] = tokenAlphabet[s.rng.IntN(len(tokenAlphabet))]
	}
	return string(b)
}

func (s *Simulator) requestID() string {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return fmt.Sprintf("%08x%016x", s.rng.Uint32(), s.rng.Uint64())
}

// randomCode looks like HubSpot's authorization codes (a UUID).
func (s *Simulator) randomCode() string {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	hi, lo := s.rng.Uint64(), s.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, (hi>>16)&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

func (s *Simulator) draw() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

func (s *Simulator) pick(choices []int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return choices[s.rng.IntN(len(choices))]
}

// externalBase is where the simulator's own consent pages are reachable.
func (s *Simulator) externalBase(r *http.Request) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host}).String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

// elementBlock is the element as the seed shows it, with the element's real
// id: the seed's 43 belongs to the older "hubspot" marketing element.
func elementBlock() cloudelements.Element {
	return cloudelements.Element{
		ID:                         cloudelements.ElementID,
		Name:                       "HubSpot CRM",
		Key:                        cloudelements.ElementKey,
		Description:                "HubSpot is an inbound marketing software platform that helps companies attract visitors, convert leads, and close customers.",
		Image:                      "elements/provider_hubspot.png",
		Active:                     true,
		Deleted:                    false,
		TypeOauth:                  true,
		TrialAccount:               false,
		ExistingAccountDescription: "Give your application access to your existing HubSpot accountEnter your credentials and details for your HubSpot Account",
		ConfigDescription:          "If you do not have a HubSpot account, you can create one at HubSpot Signup",
	}
}

// isHubSpotCRM resolves {keyOrId}.
func isHubSpotCRM(keyOrID string) bool {
	return keyOrID == cloudelements.ElementKey || keyOrID == strconv.Itoa(cloudelements.ElementID)
}

func (s *Simulator) writeNoElement(w http.ResponseWriter, keyOrID string) {
	s.fail(w, noElement(keyOrID))
}

func noElement(keyOrID string) *apiError {
	return &apiError{status: http.StatusNotFound, message: "No element found with key " + clip(keyOrID)}
}

// clip keeps echoed client input short in messages.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
