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
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// elementConfigurationKeys are the keys the hubspotcrm element knows. The
// per-key list shows each of them, "" when unset, as the platform lists an
// element's whole configuration and not only what was sent.
var elementConfigurationKeys = []string{
	ce.ConfigOAuthAPIKey,
	ce.ConfigOAuthAPISecret,
	ce.ConfigOAuthCallbackURL,
	ce.ConfigOAuthScope,
	configOAuthUserToken,
	ce.ConfigOAuthUserRefreshToken,
	ce.ConfigAuthenticationType,
	ce.ConfigHubSpotAPIKey,
	ce.ConfigCreateBulkProperties,
	ce.ConfigEventsEnabled,
	ce.ConfigEventVendorType,
	ce.ConfigEventNotificationType,
	ce.ConfigEventCallbackURL,
	ce.ConfigEventSignatureKey,
	ce.ConfigEventPollerRefreshInterval,
	configEventPollerConfiguration,
	"event.poller.urls",
	ce.ConfigEventObjects,
	ce.ConfigFilterResponseNulls,
	"document.tagging",
}

// configEntryJSON is one entry of GET /instances/{id}/configuration.
type configEntryJSON struct {
	ID            int64  `json:"id"`
	Key           string `json:"key"`
	PropertyValue any    `json:"propertyValue"`
}

// listedKeys are the keys the per-key list shows for rec, sorted.
func (rec *record) listedKeys() []string {
	keys := slices.Clone(elementConfigurationKeys)
	for key := range rec.configuration {
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}

// ensureConfigIDs gives every listed key that has none the next id; the
// caller holds s.mu. Keys are numbered in sorted order, so that a seeded run
// repeats its ids.
func (s *Simulator) ensureConfigIDs(rec *record) {
	if rec.configIDs == nil {
		rec.configIDs = map[string]int64{}
	}
	for _, key := range rec.listedKeys() {
		if _, ok := rec.configIDs[key]; !ok {
			rec.configIDs[key] = s.nextConfigID
			s.nextConfigID++
		}
	}
}

func (s *Simulator) entry(rec *record, key string) configEntryJSON {
	return configEntryJSON{ID: rec.configIDs[key], Key: key, PropertyValue: s.shape.readValue(key, rec.configuration[key])}
}

// lookupEntry finds a listed key by its id; the caller holds s.mu.
func (s *Simulator) lookupEntry(rawInstanceID, rawEntryID string) (*record, string, *apiError) {
	rec, e := s.lookup(rawInstanceID)
	if e != nil {
		return nil, "", e
	}
	s.ensureConfigIDs(rec)
	if id, err := strconv.ParseInt(rawEntryID, 10, 64); err == nil {
		for _, key := range rec.listedKeys() {
			if rec.configIDs[key] == id {
				return rec, key, nil
			}
		}
	}
	return nil, "", &apiError{status: http.StatusNotFound, message: "No configuration found with ID " + clip(rawEntryID)}
}

func (s *Simulator) handleConfigurationList(w http.ResponseWriter, _ *http.Request, rawID string) {
	s.mu.Lock()
	rec, e := s.lookup(rawID)
	if e != nil {
		s.mu.Unlock()
		s.fail(w, e)
		return
	}
	s.ensureConfigIDs(rec)
	keys := rec.listedKeys()
	entries := make([]configEntryJSON, 0, len(keys))
	for _, key := range keys {
		entries = append(entries, s.entry(rec, key))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, entries)
}

func (s *Simulator) handleConfigurationEntry(w http.ResponseWriter, _ *http.Request, rawID, rawEntryID string) {
	s.mu.Lock()
	rec, key, e := s.lookupEntry(rawID, rawEntryID)
	if e != nil {
		s.mu.Unlock()
		s.fail(w, e)
		return
	}
	body := s.entry(rec, key)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// setConfigurationJSON is the body churros sends: the entry as listed, with
// a new propertyValue.
type setConfigurationJSON struct {
	ID            json.RawMessage `json:"id"`
	Key           *string         `json:"key"`
	PropertyValue json.RawMessage `json:"propertyValue"`
}

// handleSetConfiguration changes one key and nothing else: no other key is
// validated or dropped, and the provider's tokens stay where they are.
func (s *Simulator) handleSetConfiguration(w http.ResponseWriter, r *http.Request, rawID, rawEntryID string) {
	s.mu.Lock()
	_, _, e := s.lookupEntry(rawID, rawEntryID)
	s.mu.Unlock()
	if e != nil {
		s.fail(w, e)
		return
	}
	var body setConfigurationJSON
	if e := readJSON(r, &body); e != nil {
		s.fail(w, e)
		return
	}
	if len(body.PropertyValue) == 0 {
		s.fail(w, badRequest("missing required field: propertyValue"))
		return
	}
	value, set, err := configurationText(body.PropertyValue)
	if err != nil {
		s.fail(w, badRequest("propertyValue %s", err))
		return
	}
	if !sameID(body.ID, rawEntryID) {
		s.fail(w, badRequest("id in the body does not match the configuration entry"))
		return
	}

	s.mu.Lock()
	// Looked up again: the instance may have gone while the body was read.
	rec, key, e := s.lookupEntry(rawID, rawEntryID)
	switch {
	case e != nil:
	case body.Key != nil && *body.Key != key:
		e = badRequest("key in the body does not match the configuration entry")
	case set && value == ce.MaskedValue && s.shape.masks(key):
		// The masked value read back means "keep what you have", as on PUT.
		value = rec.configuration[key]
		set = value != ""
	}
	if e == nil {
		if problem := invalidValue(key, value, s.strictEventKeys); set && problem != "" {
			e = badRequest("%s", problem)
		} else if key == ce.ConfigAuthenticationType && value != rec.configuration[key] {
			e = badRequest("changing how the instance authenticates needs PUT ?reAuthenticate=true with new providerData")
		}
	}
	if e != nil {
		s.mu.Unlock()
		s.fail(w, e)
		return
	}
	if set {
		rec.configuration[key] = value
	} else {
		delete(rec.configuration, key)
	}
	rec.updated = s.now()
	out := s.entry(rec, key)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleEnabled enables (PUT) or disables (DELETE) the instance the path names.
func (s *Simulator) handleEnabled(w http.ResponseWriter, r *http.Request, rawID string) {
	s.mu.Lock()
	rec, e := s.lookup(rawID)
	if e != nil {
		s.mu.Unlock()
		s.fail(w, e)
		return
	}
	s.setEnabled(w, r, rec)
}

// handleEnabledByToken enables or disables the instance whose element token
// the Authorization header carries. An unknown token is the documented 401.
func (s *Simulator) handleEnabledByToken(w http.ResponseWriter, r *http.Request, token string) {
	s.mu.Lock()
	for _, rec := range s.instances {
		if subtle.ConstantTimeCompare([]byte(rec.token), []byte(token)) == 1 {
			s.setEnabled(w, r, rec)
			return
		}
	}
	s.mu.Unlock()
	s.writeError(w, http.StatusUnauthorized, unauthorizedMessage, "")
}

// setEnabled is called with s.mu held and releases it. The record does not
// show the answer's body; the instance, as every other instance call
// answers, is the guess.
func (s *Simulator) setEnabled(w http.ResponseWriter, r *http.Request, rec *record) {
	rec.disabled = r.Method == http.MethodDelete
	rec.updated = s.now()
	body := rec.wire(s.shape)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}
