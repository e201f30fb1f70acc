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
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
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

// consentRequest is what a consent page is asked: the query of its GET, or
// the form its own page posts back.
type consentRequest struct {
	params   url.Values
	legacy   bool
	redirect *url.URL
}

// parseConsentRequest checks what HubSpot's consent pages check before they
// show anything: the client, the portal (legacy) and an absolute redirect_uri.
func parseConsentRequest(path string, params url.Values) (*consentRequest, *apiError) {
	legacy := path == legacyConsentPath
	required := []string{"client_id", "redirect_uri"}
	if legacy {
		required = append(required, "portalId")
	}
	var missing []string
	for _, name := range required {
		if strings.TrimSpace(params.Get(name)) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, badRequest("missing required query parameter: %s", strings.Join(missing, ", "))
	}
	redirect, err := url.Parse(params.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() || redirect.Host == "" {
		return nil, badRequest("redirect_uri must be an absolute URL")
	}
	return &consentRequest{params: params, legacy: legacy, redirect: redirect}, nil
}

// handleConsent plays HubSpot's consent page. A browser (a request that
// accepts text/html) is shown the page, with an Allow and a Deny button that
// post the person's answer back (handleConsentDecision). Any other client
// plays a user who answers at once: allow, or deny when the URL carries
// simulate=deny or error=access_denied — those knobs answer at once for a
// browser too.
func (s *Simulator) handleConsent(w http.ResponseWriter, r *http.Request) {
	c, e := parseConsentRequest(r.URL.Path, r.URL.Query())
	if e != nil {
		s.fail(w, e)
		return
	}
	switch {
	case c.params.Get("simulate") == "deny" || c.params.Get("error") == "access_denied":
		s.redirectConsent(w, c, false, "The user denied access to the app (simulated)", http.StatusFound)
	case acceptsHTML(r):
		writeConsentPage(w, c)
	default:
		s.redirectConsent(w, c, true, "", http.StatusFound)
	}
}

// handleConsentDecision receives the consent page's form: decision=allow or
// decision=deny with the request it was shown for, and sends the browser to
// redirect_uri with 303 See Other, so that it follows with a GET.
func (s *Simulator) handleConsentDecision(w http.ResponseWriter, r *http.Request) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/x-www-form-urlencoded" {
		s.fail(w, &apiError{status: http.StatusUnsupportedMediaType, message: "Unsupported Media Type: the consent form is application/x-www-form-urlencoded"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		s.fail(w, badRequest("Could not read the request body"))
		return
	}
	if len(body) > maxBodyBytes {
		s.fail(w, &apiError{status: http.StatusRequestEntityTooLarge, message: "Request body larger than " + strconv.Itoa(maxBodyBytes) + " bytes"})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.fail(w, badRequest("the consent form is not valid application/x-www-form-urlencoded"))
		return
	}
	c, e := parseConsentRequest(r.URL.Path, form)
	if e != nil {
		s.fail(w, e)
		return
	}
	switch form.Get("decision") {
	case "allow":
		s.redirectConsent(w, c, true, "", http.StatusSeeOther)
	case "deny":
		s.redirectConsent(w, c, false, "The user denied access to the app", http.StatusSeeOther)
	default:
		s.fail(w, badRequest("decision must be allow or deny"))
	}
}

// redirectConsent sends the browser back to redirect_uri, keeping its own
// query, with the answer: a code (OAuth 2) or the tokens (legacy) when the
// user allowed, error=access_denied otherwise, and the state unchanged.
func (s *Simulator) redirectConsent(w http.ResponseWriter, c *consentRequest, allow bool, denial string, status int) {
	redirect := *c.redirect
	answer := redirect.Query()
	switch {
	case !allow:
		answer.Set("error", "access_denied")
		answer.Set("error_description", denial)
	case c.legacy:
		answer.Set("access_token", s.randomToken(40))
		answer.Set("refresh_token", s.randomToken(40))
		answer.Set("expires_in", legacyExpiresIn)
	default:
		answer.Set("code", s.IssueCode(c.params.Get("client_id")))
	}
	if c.params.Has("state") {
		answer.Set("state", c.params.Get("state"))
	}
	redirect.RawQuery = answer.Encode()
	w.Header().Set("Location", redirect.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

// acceptsHTML tells a browser's navigation, which names text/html in
// Accept, from an API client or a plain HTTP client (Go's sends no Accept,
// curl's */*), which get the user who answers at once.
func acceptsHTML(r *http.Request) bool {
	for _, accept := range r.Header.Values("Accept") {
		for _, mediaRange := range strings.Split(accept, ",") {
			mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(mediaRange))
			if err != nil || mediaType != "text/html" {
				continue
			}
			if q, ok := params["q"]; ok {
				if weight, err := strconv.ParseFloat(q, 64); err != nil || weight <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// consentFormFields are carried from the consent page's URL into its form,
// in this order, when present.
var consentFormFields = []string{"client_id", "portalId", "redirect_uri", "scope", "state"}

type hiddenField struct{ Name, Value string }

// consentPage is what the consent page shows: who asks, for what, and where
// the answer goes.
type consentPage struct {
	Action         string
	ClientID       string
	PortalID       string
	Scopes         []string
	RedirectOrigin string
	Hidden         []hiddenField
}

// consentPageTemplate is self-contained (inline style, no script, image or
// font), like the operator's callback page, so its Content-Security-Policy
// forbids everything else. Every value goes through html/template.
var consentPageTemplate = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Connect an app to HubSpot · Cloud Elements simulator</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#33475b;background:#f5f8fa}
main{background:#fff;border:1px solid #cbd6e2;border-radius:8px;padding:1.5rem 2rem}
.brand{color:#ff7a59;font-weight:600;margin:0}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
code{background:#eaf0f6;padding:0 .25rem;border-radius:3px;word-break:break-all}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}
button{font:inherit;padding:.5rem 1.25rem;border-radius:4px;cursor:pointer}
#allow{background:#ff7a59;border:1px solid #ff7a59;color:#fff;font-weight:600}
#deny{background:#fff;border:1px solid #cbd6e2;color:#33475b}
footer{margin-top:1rem;color:#7c98b6;font-size:.85rem;text-align:center}
</style>
</head>
<body>
<main>
<p class="brand">HubSpot</p>
<h1>Allow access to your HubSpot account?</h1>
<p>The app <code>{{.ClientID}}</code> asks to connect to {{if .PortalID}}HubSpot account (portal) <code>{{.PortalID}}</code>{{else}}your HubSpot account{{end}}.</p>
<p>It asks for these scopes:</p>
<ul>
{{- range .Scopes}}
<li><code>{{.}}</code></li>
{{- else}}
<li>every object the app may reach (no scope named)</li>
{{- end}}
</ul>
<p>Your answer is sent to <code>{{.RedirectOrigin}}</code>.</p>
<form method="post" action="{{.Action}}">
{{- range .Hidden}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
<div class="actions">
<button type="submit" id="allow" name="decision" value="allow">Allow</button>
<button type="submit" id="deny" name="decision" value="deny">Deny</button>
</div>
</form>
</main>
<footer>HubSpot's consent page, played by the Cloud Elements simulator</footer>
</body>
</html>
`))

// consentPageCSP forbids everything the page does not use. It names no
// form-action: the answer is a redirect to the app's redirect_uri, which a
// form-action would have to allow too.
const consentPageCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"

func writeConsentPage(w http.ResponseWriter, c *consentRequest) {
	p := consentPage{
		Action:         consentPath,
		ClientID:       c.params.Get("client_id"),
		Scopes:         strings.Fields(c.params.Get("scope")),
		RedirectOrigin: c.redirect.Scheme + "://" + c.redirect.Host,
	}
	if c.legacy {
		p.Action, p.PortalID = legacyConsentPath, c.params.Get("portalId")
	}
	if !c.params.Has("scope") {
		p.Scopes = strings.Fields(defaultScope)
	}
	for _, name := range consentFormFields {
		if c.params.Has(name) {
			p.Hidden = append(p.Hidden, hiddenField{Name: name, Value: c.params.Get(name)})
		}
	}
	var body bytes.Buffer
	if err := consentPageTemplate.Execute(&body, p); err != nil {
		http.Error(w, "the simulator could not render its consent page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", consentPageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes())
}
