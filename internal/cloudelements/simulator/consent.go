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
	"net/http"
	"net/url"
	"strings"
	"time"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// defaultScope is what the element asks for when the caller names no scope.
const defaultScope = "contacts timeline files"

// legacyExpiresIn is the lifetime, in seconds, the legacy consent reports for
// its access token: HubSpot's legacy tokens lasted six hours.
const legacyExpiresIn = "21600"

// grant is an authorization code HubSpot would exchange once.
type grant struct {
	clientID string
	expires  time.Time
	used     bool
}

// IssueCode mints a valid code for clientID, as if its user had just consented.
func (s *Simulator) IssueCode(clientID string) string {
	code := s.randomCode()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for old, g := range s.codes {
		// Kept a while past expiry so that a late reuse still reads "expired".
		if now.After(g.expires.Add(s.codeTTL)) {
			delete(s.codes, old)
		}
	}
	s.codes[code] = &grant{clientID: clientID, expires: now.Add(s.codeTTL)}
	return code
}

// redeem exchanges a code the way HubSpot's token endpoint would; the caller
// holds s.mu. The message is the platform's, the providerMessage HubSpot's.
func (s *Simulator) redeem(code, clientID string) *apiError {
	refuse := func(reason string) *apiError {
		return &apiError{
			status:          http.StatusBadRequest,
			message:         "Failed to exchange the OAuth code for an access token with HubSpot",
			providerMessage: reason,
		}
	}
	g, ok := s.codes[code]
	switch {
	case !ok:
		return refuse("BAD_AUTH_CODE: the authorization code is unknown")
	case g.used:
		return refuse("BAD_AUTH_CODE: the authorization code was already used")
	case !s.now().Before(g.expires):
		return refuse("BAD_AUTH_CODE: the authorization code has expired")
	case g.clientID != clientID:
		return refuse("BAD_CLIENT_ID: the authorization code was issued to a different client_id than " + ce.ConfigOAuthAPIKey)
	}
	g.used = true
	return nil
}

func (s *Simulator) handleOAuthURL(w http.ResponseWriter, r *http.Request, keyOrID string) {
	if !isHubSpotCRM(keyOrID) {
		s.writeNoElement(w, keyOrID)
		return
	}
	query := r.URL.Query()
	var missing []string
	for _, name := range []string{"apiKey", "apiSecret", "callbackUrl"} {
		if strings.TrimSpace(query.Get(name)) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		s.fail(w, badRequest("missing required query parameter: %s", strings.Join(missing, ", ")))
		return
	}
	scope := defaultScope
	if query.Has("scope") {
		// The seed's own example sends "contacts  timeline" and gets one space back.
		scope = strings.Join(strings.Fields(query.Get("scope")), " ")
	}
	state := ce.ElementKey
	if query.Has("state") {
		state = query.Get("state")
	}
	consent := url.Values{
		"client_id":    {query.Get("apiKey")},
		"redirect_uri": {query.Get("callbackUrl")},
		"scope":        {scope},
		"state":        {state},
	}
	path := consentPath
	if apiSecret := query.Get("apiSecret"); allDigits(apiSecret) && strings.Contains(scope, "contacts-rw") {
		path = legacyConsentPath
		consent.Set("portalId", apiSecret)
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"element":  ce.ElementKey,
		"oauthUrl": s.externalBase(r) + path + "?" + strings.ReplaceAll(consent.Encode(), "+", "%20"),
	})
}

// handleConsent plays HubSpot's consent page with a user who always answers
// at once: allow, or deny when the URL carries simulate=deny or
// error=access_denied.
func (s *Simulator) handleConsent(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	legacy := r.URL.Path == legacyConsentPath
	required := []string{"client_id", "redirect_uri"}
	if legacy {
		required = append(required, "portalId")
	}
	var missing []string
	for _, name := range required {
		if strings.TrimSpace(query.Get(name)) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		s.fail(w, badRequest("missing required query parameter: %s", strings.Join(missing, ", ")))
		return
	}
	redirect, err := url.Parse(query.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() || redirect.Host == "" {
		s.fail(w, badRequest("redirect_uri must be an absolute URL"))
		return
	}

	answer := redirect.Query()
	switch {
	case query.Get("simulate") == "deny" || query.Get("error") == "access_denied":
		answer.Set("error", "access_denied")
		answer.Set("error_description", "The user denied access to the app (simulated)")
	case legacy:
		answer.Set("access_token", s.randomToken(40))
		answer.Set("refresh_token", s.randomToken(40))
		answer.Set("expires_in", legacyExpiresIn)
	default:
		answer.Set("code", s.IssueCode(query.Get("client_id")))
	}
	if query.Has("state") {
		answer.Set("state", query.Get("state"))
	}
	redirect.RawQuery = answer.Encode()
	w.Header().Set("Location", redirect.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
