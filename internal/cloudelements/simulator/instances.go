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
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// authMode is how an instance authenticates against HubSpot.
type authMode int

const (
	modeOAuth2 authMode = iota
	modeLegacy
	modeAPIKey
	modeExternal // created from an existing refresh token
)

// record is a stored instance, secrets in clear.
type record struct {
	id                     int64
	name                   string
	token                  string
	tags                   []string
	configuration          map[string]string
	valid, disabled        bool
	mode                   authMode
	externalAuthentication string
	// elementKey, when set, names another element than hubspotcrm: an
	// instance of another element in the same account (SetElementKey).
	elementKey string
	// created and updated feed createdDate and updatedDate.
	created, updated time.Time
	// configIDs names each configuration key by the id the per-key
	// sub-resource lists it under; an id once given to a key stays with it.
	configIDs map[string]int64
}

// configOAuthUserToken is where the platform keeps the provider's access
// token; the client has no use for the key, so only the simulator names it.
const configOAuthUserToken = "oauth.user.token"

// oauth reports whether the mode's authorization lives in the provider's
// tokens, which the platform keeps in the configuration.
func (m authMode) oauth() bool {
	return m == modeOAuth2 || m == modeLegacy || m == modeExternal
}

// isValid is valid as the platform reports it: for an OAuth mode, HubSpot
// can only be reached while the provider's tokens are in the configuration,
// whatever else has happened to the instance.
func (rec *record) isValid() bool {
	if !rec.valid {
		return false
	}
	if rec.mode.oauth() {
		return present(rec.configuration, configOAuthUserToken) && present(rec.configuration, ce.ConfigOAuthUserRefreshToken)
	}
	return true
}

// instanceJSON is the simulator's own wire form of an instance. The
// simulator shares the client's constants (configuration keys, the masked
// value) but none of its wire types, for two reasons. The client's types
// are what is under test: decoded by the same structs, a wrong JSON tag in
// the client would be mirrored here and the contract tests would pass.
// And they cannot say what a platform says: the readings of the record the
// Options choose (tags as objects, typed configuration values, the extra
// instance fields the client never reads) need looser types on the way out,
// and on the way in the simulator must tell an absent field from an empty
// one and refuse a value of the wrong type by name, where the client's
// types only ever hold what the client sends.
type instanceJSON struct {
	ID                     int64             `json:"id"`
	Name                   string            `json:"name"`
	Token                  string            `json:"token"`
	Element                elementJSON       `json:"element"`
	ProvisionInteractions  []json.RawMessage `json:"provisionInteractions"`
	Valid                  bool              `json:"valid"`
	Disabled               bool              `json:"disabled"`
	MaxCacheSize           int64             `json:"maxCacheSize"`
	CacheTimeToLive        int64             `json:"cacheTimeToLive"`
	CachingEnabled         bool              `json:"cachingEnabled"`
	Tags                   any               `json:"tags"`          // []string, or []tagJSON (ObjectTags)
	Configuration          map[string]any    `json:"configuration"` // strings, or typed (TypedConfigurationValues)
	EventsEnabled          bool              `json:"eventsEnabled"`
	ExternalAuthentication string            `json:"externalAuthentication"`
	// Left out with Options.OmitExtraInstanceFields.
	User                *userJSON `json:"user,omitempty"`
	CreatedDate         string    `json:"createdDate,omitempty"`
	UpdatedDate         string    `json:"updatedDate,omitempty"`
	ElementID           *int64    `json:"elementId,omitempty"`
	TraceLoggingEnabled *bool     `json:"traceLoggingEnabled,omitempty"`
}

// wireShape is how the simulator writes instances: the readings of the
// record chosen in Options.
type wireShape struct {
	objectTags    bool // Options.ObjectTags
	typedValues   bool // Options.TypedConfigurationValues
	omitExtra     bool // Options.OmitExtraInstanceFields
	clearClientID bool // Options.ClearClientID
}

// masks reports whether the value of key is masked on read: every secret,
// and the client id unless Options.ClearClientID.
func (shape wireShape) masks(key string) bool {
	return ce.IsSecretConfigKey(key) || (!shape.clearClientID && key == ce.ConfigOAuthAPIKey)
}

// readValue is a stored value as a read shows it.
func (shape wireShape) readValue(key, value string) any {
	if shape.masks(key) && value != "" {
		return ce.MaskedValue
	}
	if shape.typedValues {
		return typedValue(value)
	}
	return value
}

type tagJSON struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type userJSON struct {
	ID           int64  `json:"id"`
	EmailAddress string `json:"emailAddress"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
}

// platformDate is the platform's date form, as in "2017-08-07T18:46:38Z".
const platformDate = "2006-01-02T15:04:05Z"

type elementJSON struct {
	ID                         int64  `json:"id"`
	Name                       string `json:"name"`
	Key                        string `json:"key"`
	Description                string `json:"description"`
	Image                      string `json:"image"`
	Active                     bool   `json:"active"`
	Deleted                    bool   `json:"deleted"`
	TypeOauth                  bool   `json:"typeOauth"`
	TrialAccount               bool   `json:"trialAccount"`
	ExistingAccountDescription string `json:"existingAccountDescription"`
	ConfigDescription          string `json:"configDescription"`
}

func (rec *record) wire(shape wireShape) instanceJSON {
	e := elementBlock()
	configuration := make(map[string]any, len(rec.configuration))
	for key, value := range rec.configuration {
		configuration[key] = shape.readValue(key, value)
	}
	var tags any = append([]string{}, rec.tags...)
	if shape.objectTags {
		objects := make([]tagJSON, 0, len(rec.tags))
		for i, tag := range rec.tags {
			objects = append(objects, tagJSON{ID: i + 1, Name: tag})
		}
		tags = objects
	}
	if rec.elementKey != "" {
		e.Key, e.Name = rec.elementKey, rec.elementKey
	}
	body := instanceJSON{
		ID:    rec.id,
		Name:  rec.name,
		Token: rec.token,
		Element: elementJSON{
			ID: e.ID, Name: e.Name, Key: e.Key, Description: e.Description, Image: e.Image, Active: e.Active,
			Deleted: e.Deleted, TypeOauth: e.TypeOauth, TrialAccount: e.TrialAccount,
			ExistingAccountDescription: e.ExistingAccountDescription, ConfigDescription: e.ConfigDescription,
		},
		ProvisionInteractions:  []json.RawMessage{},
		Valid:                  rec.isValid(),
		Disabled:               rec.disabled,
		Tags:                   tags,
		Configuration:          configuration,
		EventsEnabled:          rec.configuration[ce.ConfigEventsEnabled] == "true",
		ExternalAuthentication: rec.externalAuthentication,
	}
	if !shape.omitExtra {
		traceLogging := false
		body.User = &userJSON{ID: 1, EmailAddress: "simulator@example.com", FirstName: "Simulator", LastName: "User"}
		body.CreatedDate = rec.created.UTC().Format(platformDate)
		body.UpdatedDate = rec.updated.UTC().Format(platformDate)
		body.ElementID = &e.ID
		body.TraceLoggingEnabled = &traceLogging
	}
	return body
}

// typedValue is a configuration value as typed JSON: "true" and "false" as
// booleans, digits (without a leading zero, which JSON refuses) as numbers,
// anything else as the string.
func typedValue(value string) any {
	switch {
	case value == "true":
		return true
	case value == "false":
		return false
	case allDigits(value) && (value == "0" || value[0] != '0'):
		return json.Number(value)
	}
	return value
}

// instance is the unmasked snapshot the Go API hands to tests.
func (rec *record) instance() ce.Instance {
	return ce.Instance{
		ID:                     rec.id,
		Name:                   rec.name,
		Token:                  rec.token,
		Element:                elementBlock(),
		ProvisionInteractions:  []json.RawMessage{},
		Valid:                  rec.isValid(),
		Disabled:               rec.disabled,
		Tags:                   append([]string{}, rec.tags...),
		Configuration:          copyMap(rec.configuration),
		EventsEnabled:          rec.configuration[ce.ConfigEventsEnabled] == "true",
		ExternalAuthentication: rec.externalAuthentication,
	}
}

func copyMap(m map[string]string) map[string]string {
	copied := make(map[string]string, len(m))
	for key, value := range m {
		copied[key] = value
	}
	return copied
}

// instanceRequestJSON decodes POST and PUT bodies. Values stay raw so that a
// value of the wrong type can be refused by name.
type instanceRequestJSON struct {
	Element *struct {
		Key string `json:"key"`
		ID  int64  `json:"id"`
	} `json:"element"`
	ProviderData           map[string]json.RawMessage `json:"providerData"`
	Configuration          map[string]json.RawMessage `json:"configuration"`
	Tags                   []string                   `json:"tags"`
	Name                   *string                    `json:"name"`
	ExternalAuthentication string                     `json:"externalAuthentication"`
}

// provision is a decoded, not yet validated, create or replace. Name and
// tags are already HTML-sanitised.
type provision struct {
	elementKey             string // "" when the body names none
	name                   string
	tags                   []string
	configuration          map[string]string
	providerData           map[string]string
	externalAuthentication string
	// What the body carried at all, for a PUT that changes name and tags
	// only: a body without configuration is that PUT.
	nameGiven, tagsGiven, configurationGiven bool
}

// apiError is an answer a handler decided on.
type apiError struct {
	status          int
	message         string
	providerMessage string
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

func (s *Simulator) fail(w http.ResponseWriter, e *apiError) {
	s.writeError(w, e.status, e.message, e.providerMessage)
}

var errInvalidJSON = &apiError{status: http.StatusBadRequest, message: "Invalid JSON in request body"}

// readJSON applies the platform's checks on a request body in the order a
// gateway would: media type, size, syntax.
func readJSON(r *http.Request, v any) *apiError {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return &apiError{status: http.StatusUnsupportedMediaType, message: "Unsupported Media Type: the request body must be application/json"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return badRequest("Could not read the request body")
	}
	if len(body) > maxBodyBytes {
		return &apiError{status: http.StatusRequestEntityTooLarge, message: fmt.Sprintf("Request body larger than %d bytes", maxBodyBytes)}
	}
	decoder := json.NewDecoder(bytes.NewReader(body))
	if err := decoder.Decode(v); err != nil {
		return errInvalidJSON
	}
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return errInvalidJSON
	}
	return nil
}

func decodeProvision(r *http.Request) (*provision, *apiError) {
	var body instanceRequestJSON
	if e := readJSON(r, &body); e != nil {
		return nil, e
	}
	p := &provision{
		tags:                   sanitizeAll(body.Tags),
		externalAuthentication: body.ExternalAuthentication,
		nameGiven:              body.Name != nil,
		tagsGiven:              body.Tags != nil,
		configurationGiven:     body.Configuration != nil,
	}
	if body.Name != nil {
		p.name = sanitize(*body.Name)
	}
	if body.Element != nil {
		p.elementKey = body.Element.Key
		if p.elementKey == "" && body.Element.ID != 0 {
			p.elementKey = strconv.FormatInt(body.Element.ID, 10)
		}
	}
	var problems []string
	p.configuration, problems = configurationValues(body.Configuration)
	var more []string
	p.providerData, more = stringValues("providerData", body.ProviderData, true)
	if problems = append(problems, more...); len(problems) > 0 {
		sort.Strings(problems)
		return nil, badRequest("%s", strings.Join(problems, "; "))
	}
	return p, nil
}

// configurationValues keeps configuration values as text: the vendor's own
// bodies send booleans and numbers, and an object for
// event.poller.configuration, where its test suite sends strings, so the
// platform takes both. A list is refused: no source shows one.
func configurationValues(raw map[string]json.RawMessage) (map[string]string, []string) {
	values := make(map[string]string, len(raw))
	var problems []string
	for key, value := range raw {
		text, ok, err := configurationText(value)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("configuration value for %s %s", clip(key), err))
		case ok:
			values[key] = text
		}
	}
	return values, problems
}

var errConfigurationValueType = errors.New("must be a string, a boolean, a number or an object")

// configurationText is one configuration value as stored; ok is false for
// null, which counts as absent.
func configurationText(value json.RawMessage) (text string, ok bool, err error) {
	value = bytes.TrimSpace(value)
	if len(value) == 0 || string(value) == "null" {
		return "", false, nil
	}
	switch value[0] {
	case '"':
		if json.Unmarshal(value, &text) == nil {
			return text, true, nil
		}
	case 't', 'f', '{', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var compact bytes.Buffer
		if json.Compact(&compact, value) == nil {
			return compact.String(), true, nil
		}
	}
	return "", false, errConfigurationValueType
}

// stringValues keeps string values (and null as empty). Provider data may
// also carry numbers, as expires_in often does.
func stringValues(field string, raw map[string]json.RawMessage, numbersAllowed bool) (map[string]string, []string) {
	values := make(map[string]string, len(raw))
	var problems []string
	for key, value := range raw {
		var text string
		var number json.Number
		switch {
		case string(value) == "null":
		case json.Unmarshal(value, &text) == nil:
			values[key] = text
		case numbersAllowed && json.Unmarshal(value, &number) == nil:
			values[key] = number.String()
		default:
			problems = append(problems, fmt.Sprintf("%s value for %s must be a string", field, clip(key)))
		}
	}
	return values, problems
}

func (s *Simulator) handleCreate(w http.ResponseWriter, r *http.Request, pathElement string) {
	if pathElement != "" && !isHubSpotCRM(pathElement) {
		s.writeNoElement(w, pathElement)
		return
	}
	p, e := decodeProvision(r)
	if e != nil {
		s.fail(w, e)
		return
	}
	switch {
	case p.elementKey != "" && !isHubSpotCRM(p.elementKey):
		s.writeNoElement(w, p.elementKey)
		return
	case p.elementKey == "" && pathElement == "":
		s.fail(w, badRequest("missing required field: element.key"))
		return
	}

	s.mu.Lock()
	mode, e := s.admit(p, nil, true)
	if e != nil {
		s.mu.Unlock()
		s.fail(w, e)
		return
	}
	rec := &record{
		id:                     s.nextID,
		token:                  s.randomToken(40),
		valid:                  true,
		externalAuthentication: ce.ExternalAuthenticationNone,
		created:                s.now(),
	}
	rec.updated = rec.created
	s.nextID++
	rec.apply(p, mode, nil)
	s.storeOAuthTokens(rec, p)
	s.ensureConfigIDs(rec)
	s.instances[rec.id] = rec
	body := rec.wire(s.shape)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// apply stores a create or a full replace. With base set the configuration
// sent is merged over it, so keys the body does not carry are kept.
func (rec *record) apply(p *provision, mode authMode, base map[string]string) {
	rec.name = p.name
	rec.tags = append([]string{}, p.tags...)
	rec.configuration = copyMap(base)
	for key, value := range p.configuration {
		rec.configuration[key] = value
	}
	rec.mode = mode
	rec.externalAuthentication = ce.ExternalAuthenticationNone
	if mode == modeExternal {
		rec.externalAuthentication = ce.ExternalAuthenticationInitial
	}
}

// storeOAuthTokens keeps the provider's tokens in the configuration, as the
// platform does once it has redeemed a code or been handed tokens. HubSpot
// is not called, so the tokens of a code, and the access token of an
// instance created from a refresh token, are made up.
func (s *Simulator) storeOAuthTokens(rec *record, p *provision) {
	switch rec.mode {
	case modeOAuth2:
		rec.configuration[configOAuthUserToken] = s.randomToken(40)
		rec.configuration[ce.ConfigOAuthUserRefreshToken] = s.randomToken(40)
	case modeLegacy:
		rec.configuration[configOAuthUserToken] = p.providerData["access_token"]
		rec.configuration[ce.ConfigOAuthUserRefreshToken] = p.providerData["refresh_token"]
	case modeExternal:
		rec.configuration[configOAuthUserToken] = s.randomToken(40)
	}
}

// admit validates a create (stored == nil), a re-authorization (stored set,
// withProvider) or a replace (stored set, !withProvider), and redeems the
// authorization code last, so that a refused request never uses it up.
// The caller holds s.mu.
func (s *Simulator) admit(p *provision, stored *record, withProvider bool) (authMode, *apiError) {
	if stored != nil {
		keepMaskedSecrets(p.configuration, stored.configuration, s.shape)
	}
	mode, e := detectMode(p, stored, withProvider)
	if e != nil {
		return 0, e
	}
	if missing := missingEntries(p, mode, withProvider, s.strictEventKeys); len(missing) > 0 {
		return 0, badRequest("missing required configuration: %s", strings.Join(missing, ", "))
	}
	if problems := invalidValues(p, mode, s.strictEventKeys); len(problems) > 0 {
		return 0, badRequest("%s", strings.Join(problems, "; "))
	}
	if stored != nil && !withProvider && mode != stored.mode && mode != modeAPIKey {
		return 0, badRequest("changing how the instance authenticates needs PUT ?reAuthenticate=true with new providerData")
	}
	if mode == modeOAuth2 && withProvider {
		if e := s.redeem(p.providerData["code"], p.configuration[ce.ConfigOAuthAPIKey]); e != nil {
			return 0, e
		}
	}
	return mode, nil
}

// keepMaskedSecrets lets a client send back the masked values it read, as the
// platform does: "********" for a masked key means "keep what you have".
func keepMaskedSecrets(configuration, stored map[string]string, shape wireShape) {
	for key, value := range configuration {
		if value != ce.MaskedValue || !shape.masks(key) {
			continue
		}
		if kept, ok := stored[key]; ok {
			configuration[key] = kept
		} else {
			delete(configuration, key)
		}
	}
}

func detectMode(p *provision, stored *record, withProvider bool) (authMode, *apiError) {
	switch p.externalAuthentication {
	case "", ce.ExternalAuthenticationNone:
	case ce.ExternalAuthenticationInitial:
		return modeExternal, nil
	default:
		return 0, badRequest("unsupported externalAuthentication %q: use %q or %q", clip(p.externalAuthentication), ce.ExternalAuthenticationNone, ce.ExternalAuthenticationInitial)
	}
	switch authType := p.configuration[ce.ConfigAuthenticationType]; authType {
	case ce.AuthenticationTypeAPIKey:
		return modeAPIKey, nil
	case "", ce.AuthenticationTypeOAuth2:
		if withProvider {
			if present(p.providerData, "apikey") || present(p.providerData, "access_token") {
				return modeLegacy, nil
			}
			return modeOAuth2, nil
		}
		if stored != nil && (stored.mode == modeLegacy || stored.mode == modeExternal) {
			return stored.mode, nil
		}
		return modeOAuth2, nil
	default:
		return 0, badRequest("unsupported %s %q: use %q or %q", ce.ConfigAuthenticationType, clip(authType), ce.AuthenticationTypeAPIKey, ce.AuthenticationTypeOAuth2)
	}
}

func present(values map[string]string, key string) bool {
	return strings.TrimSpace(values[key]) != ""
}

// requiredConfiguration lists, per mode, what the platform needs to reach HubSpot.
var requiredConfiguration = map[authMode][]string{
	modeOAuth2:   {ce.ConfigOAuthAPIKey, ce.ConfigOAuthAPISecret, ce.ConfigOAuthCallbackURL},
	modeLegacy:   {ce.ConfigOAuthAPIKey, ce.ConfigOAuthAPISecret, ce.ConfigOAuthCallbackURL, ce.ConfigOAuthScope},
	modeAPIKey:   {ce.ConfigHubSpotAPIKey},
	modeExternal: {ce.ConfigOAuthAPIKey, ce.ConfigOAuthAPISecret, ce.ConfigOAuthUserRefreshToken},
}

var requiredProviderData = map[authMode][]string{
	modeOAuth2: {"code"},
	modeLegacy: {"access_token", "refresh_token"},
}

func missingEntries(p *provision, mode authMode, withProvider, strictEvents bool) []string {
	var missing []string
	for _, key := range requiredConfiguration[mode] {
		if !present(p.configuration, key) {
			missing = append(missing, key)
		}
	}
	if withProvider {
		for _, key := range requiredProviderData[mode] {
			if !present(p.providerData, key) {
				missing = append(missing, "providerData."+key)
			}
		}
	}
	if strictEvents && p.configuration[ce.ConfigEventsEnabled] == "true" {
		for _, key := range []string{ce.ConfigEventCallbackURL, ce.ConfigEventVendorType} {
			if !present(p.configuration, key) {
				missing = append(missing, key)
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// configEventPollerConfiguration holds, per resource, how the platform polls
// it: a JSON object.
const configEventPollerConfiguration = "event.poller.configuration"

var allowedValues = map[string][]string{
	ce.ConfigCreateBulkProperties:  {"true", "false"},
	ce.ConfigEventsEnabled:         {"true", "false"},
	ce.ConfigFilterResponseNulls:   {"true", "false"},
	ce.ConfigEventVendorType:       {"webhook", "polling", "webhooks"},
	ce.ConfigEventNotificationType: {"webhook"},
}

// strictAllowedValues are the values the strict reading of the event keys
// (Options.StrictEventKeys) admits where they differ: the HubSpot example's
// plural "webhooks" is not in the documented table.
var strictAllowedValues = map[string][]string{
	ce.ConfigEventVendorType: {"webhook", "polling"},
}

func allowed(key string, strictEvents bool) ([]string, bool) {
	if values, ok := strictAllowedValues[key]; ok && strictEvents {
		return values, true
	}
	values, ok := allowedValues[key]
	return values, ok
}

// invalidValue says what is wrong with one configuration value, "" if
// nothing; it never echoes the value.
func invalidValue(key, value string, strictEvents bool) string {
	if values, ok := allowed(key, strictEvents); ok && !slices.Contains(values, value) {
		return fmt.Sprintf("%s must be %s", key, quotedAlternatives(values))
	}
	if key == configEventPollerConfiguration && strings.TrimSpace(value) != "" && !isJSONObject(value) {
		return key + " must be a JSON object"
	}
	return ""
}

func isJSONObject(text string) bool {
	var object map[string]json.RawMessage
	return json.Unmarshal([]byte(text), &object) == nil && object != nil
}

// invalidValues never echoes a value: any of them might be a secret typed
// into the wrong key.
func invalidValues(p *provision, mode authMode, strictEvents bool) []string {
	var problems []string
	for _, key := range sortedKeys(p.configuration) {
		if problem := invalidValue(key, p.configuration[key], strictEvents); problem != "" {
			problems = append(problems, problem)
		}
	}
	if mode == modeLegacy && !allDigits(p.configuration[ce.ConfigOAuthAPISecret]) {
		problems = append(problems, ce.ConfigOAuthAPISecret+" must be the HubSpot portal id (digits only) for OAuth 2 Legacy")
	}
	if strings.TrimSpace(p.name) == "" {
		problems = append(problems, "missing required field: name")
	}
	return problems
}

func quotedAlternatives(values []string) string {
	quoted := make([]string, len(values))
	for i, value := range values {
		quoted[i] = strconv.Quote(value)
	}
	return strings.Join(quoted, " or ")
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// lookup parses {id} and finds the instance; the caller holds s.mu.
func (s *Simulator) lookup(rawID string) (*record, *apiError) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if rec, ok := s.instances[id]; err == nil && ok {
		return rec, nil
	}
	return nil, &apiError{status: http.StatusNotFound, message: "No instance found with ID " + clip(rawID)}
}

// serve is the shape of every request on one instance, or on one of its
// configuration entries, in the order the package doc lists: find looks up
// what the path names (404); then, when read is not nil, read takes the
// body, outside the lock so that a slow client holds nobody up, and find
// looks again, as what the path names may have gone meanwhile; act runs on
// what find found, under the lock. The answer is the first error, or act's
// body as JSON, or, for a nil body, an empty 200.
func serve[T any](s *Simulator, w http.ResponseWriter, find func() (T, *apiError), read func() *apiError, act func(T) (any, *apiError)) {
	if read != nil {
		s.mu.Lock()
		_, e := find()
		s.mu.Unlock()
		if e == nil {
			e = read()
		}
		if e != nil {
			s.fail(w, e)
			return
		}
	}
	s.mu.Lock()
	found, e := find()
	var body any
	if e == nil {
		body, e = act(found)
	}
	s.mu.Unlock()
	switch {
	case e != nil:
		s.fail(w, e)
	case body == nil:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

// instanceOf is serve's find for the instance rawID names.
func (s *Simulator) instanceOf(rawID string) func() (*record, *apiError) {
	return func() (*record, *apiError) { return s.lookup(rawID) }
}

func (s *Simulator) handleGet(w http.ResponseWriter, _ *http.Request, rawID string) {
	serve(s, w, s.instanceOf(rawID), nil, func(rec *record) (any, *apiError) { return rec.wire(s.shape), nil })
}

func (s *Simulator) handlePut(w http.ResponseWriter, r *http.Request, rawID string, reauthenticate bool) {
	var p *provision
	read := func() (e *apiError) {
		if p, e = decodeProvision(r); e != nil {
			return e
		}
		if p.elementKey != "" && !isHubSpotCRM(p.elementKey) {
			return noElement(p.elementKey)
		}
		if !reauthenticate && !p.configurationGiven {
			return checkName(p.nameGiven, p.name)
		}
		return nil
	}
	serve(s, w, s.instanceOf(rawID), read, func(rec *record) (any, *apiError) {
		if !reauthenticate && !p.configurationGiven {
			return s.rename(rec, p.nameGiven, p.name, p.tagsGiven, p.tags), nil
		}
		mode, e := s.admit(p, rec, reauthenticate)
		if e != nil {
			return nil, e
		}
		var base map[string]string
		if !s.putDropsOAuthTokens {
			base = rec.configuration
		}
		rec.apply(p, mode, base)
		rec.updated = s.now()
		if reauthenticate {
			s.storeOAuthTokens(rec, p)
			rec.valid = true
		}
		s.ensureConfigIDs(rec)
		return rec.wire(s.shape), nil
	})
}

// checkName refuses an empty name, for PATCH and for a PUT without
// configuration.
func checkName(nameGiven bool, name string) *apiError {
	if nameGiven && strings.TrimSpace(name) == "" {
		return badRequest("name must not be empty")
	}
	return nil
}

// rename changes name and tags only, for PATCH and for a PUT without
// configuration; an absent field is kept, and tags replace the old ones whole.
func (s *Simulator) rename(rec *record, nameGiven bool, name string, tagsGiven bool, tags []string) instanceJSON {
	if nameGiven {
		rec.name = name
	}
	if tagsGiven {
		rec.tags = append([]string{}, tags...)
	}
	rec.updated = s.now()
	return rec.wire(s.shape)
}

// patchJSON tells an absent field from an empty one: "tags": [] clears.
// Other fields, such as element, are tolerated and ignored.
type patchJSON struct {
	ID   json.RawMessage `json:"id"`
	Name *string         `json:"name"`
	Tags *[]string       `json:"tags"`
}

func (s *Simulator) handlePatch(w http.ResponseWriter, r *http.Request, rawID string) {
	var patch patchJSON
	var name string
	var tags []string
	read := func() *apiError {
		if e := readJSON(r, &patch); e != nil {
			return e
		}
		if !sameID(patch.ID, rawID) {
			return badRequest("id in the body does not match the instance")
		}
		if patch.Name != nil {
			name = sanitize(*patch.Name)
		}
		if patch.Tags != nil {
			tags = sanitizeAll(*patch.Tags)
		}
		return checkName(patch.Name != nil, name)
	}
	serve(s, w, s.instanceOf(rawID), read, func(rec *record) (any, *apiError) {
		return s.rename(rec, patch.Name != nil, name, patch.Tags != nil, tags), nil
	})
}

// sameID reports whether an id in a body, absent, null, a number or a
// string of digits, names the id in the path.
func sameID(raw json.RawMessage, pathID string) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var text string
	if json.Unmarshal(raw, &text) != nil {
		var number json.Number
		if json.Unmarshal(raw, &number) != nil {
			return false
		}
		text = number.String()
	}
	want, err := strconv.ParseInt(pathID, 10, 64)
	got, err2 := strconv.ParseInt(text, 10, 64)
	return err == nil && err2 == nil && got == want
}

// htmlTag matches markup and comments; text between tags is kept, as the
// platform keeps "churros-xss" of <a …>churros-xss</a>.
var htmlTag = regexp.MustCompile(`<!--[\s\S]*?-->|</?[A-Za-z][^<>]*>`)

// sanitize strips HTML from a name or a tag, as the platform does on write.
// Text without "<" is never touched, so that an owner tag reads back as sent.
func sanitize(text string) string {
	if !strings.Contains(text, "<") {
		return text
	}
	return htmlTag.ReplaceAllString(text, "")
}

func sanitizeAll(texts []string) []string {
	if texts == nil {
		return nil
	}
	sanitized := make([]string, len(texts))
	for i, text := range texts {
		sanitized[i] = sanitize(text)
	}
	return sanitized
}

func (s *Simulator) handleDelete(w http.ResponseWriter, _ *http.Request, rawID string) {
	serve(s, w, s.instanceOf(rawID), nil, func(rec *record) (any, *apiError) {
		delete(s.instances, rec.id)
		return nil, nil
	})
}

// pageToken is opaque to clients; it names the last id served, so that
// paging stays consistent while instances come and go.
func pageToken(lastID int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("after:" + strconv.FormatInt(lastID, 10)))
}

func parsePageToken(token string) (int64, bool) {
	decoded, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(decoded), "after:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// carriesAll: the tags[] filter keeps instances carrying every tag given.
func carriesAll(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}

// matches is the searchText filter: the name or the element key contains
// the text, whatever the case. The record does not say how loosely the
// platform matches; a substring is the loosest reading that still filters.
func (rec *record) matches(lowerText string) bool {
	if lowerText == "" {
		return true
	}
	key := rec.elementKey
	if key == "" {
		key = ce.ElementKey
	}
	return strings.Contains(strings.ToLower(rec.name), lowerText) || strings.Contains(strings.ToLower(key), lowerText)
}

func (s *Simulator) handleList(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	pageSize := maxPageSize
	if raw := query.Get("pageSize"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			s.fail(w, badRequest("pageSize must be a positive integer"))
			return
		}
		pageSize = min(n, maxPageSize)
	}
	var after int64
	if raw := query.Get("nextPage"); raw != "" {
		var ok bool
		if after, ok = parsePageToken(raw); !ok {
			s.fail(w, badRequest("Invalid nextPage token"))
			return
		}
	}

	tags := query["tags[]"]
	if s.ignoreTagFilter {
		tags = nil
	}
	searchText := strings.ToLower(query.Get("searchText"))
	s.mu.Lock()
	ids := make([]int64, 0, len(s.instances))
	total := 0
	for id, rec := range s.instances {
		if !carriesAll(rec.tags, tags) || !rec.matches(searchText) {
			continue
		}
		total++
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	more := len(ids) > pageSize
	if more {
		ids = ids[:pageSize]
	}
	page := make([]instanceJSON, 0, len(ids))
	for _, id := range ids {
		page = append(page, s.instances[id].wire(s.shape))
	}
	s.mu.Unlock()

	if len(page) == 0 && s.emptyListNotFound {
		s.writeError(w, http.StatusNotFound, "No instances found", "")
		return
	}
	w.Header().Set(ce.TotalCountHeader, strconv.Itoa(total))
	switch {
	case more:
		w.Header().Set(ce.NextPageHeader, pageToken(ids[len(ids)-1]))
	case s.nextPageTokenOnLastPage && len(ids) > 0:
		w.Header().Set(ce.NextPageHeader, pageToken(ids[len(ids)-1]))
	case s.nextPageTokenOnLastPage:
		// An empty page still names where the next would start.
		w.Header().Set(ce.NextPageHeader, pageToken(after))
	}
	writeJSON(w, http.StatusOK, page)
}
