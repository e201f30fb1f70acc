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

// entryRef is a configuration entry as the path names it.
type entryRef struct {
	rec *record
	key string
}

// entryOf is serve's find for a listed key by its id.
func (s *Simulator) entryOf(rawInstanceID, rawEntryID string) func() (entryRef, *apiError) {
	return func() (entryRef, *apiError) {
		rec, e := s.lookup(rawInstanceID)
		if e != nil {
			return entryRef{}, e
		}
		s.ensureConfigIDs(rec)
		if id, err := strconv.ParseInt(rawEntryID, 10, 64); err == nil {
			for _, key := range rec.listedKeys() {
				if rec.configIDs[key] == id {
					return entryRef{rec, key}, nil
				}
			}
		}
		return entryRef{}, &apiError{status: http.StatusNotFound, message: "No configuration found with ID " + clip(rawEntryID)}
	}
}

func (s *Simulator) handleConfigurationList(w http.ResponseWriter, _ *http.Request, rawID string) {
	serve(s, w, s.instanceOf(rawID), nil, func(rec *record) (any, *apiError) {
		s.ensureConfigIDs(rec)
		keys := rec.listedKeys()
		entries := make([]configEntryJSON, 0, len(keys))
		for _, key := range keys {
			entries = append(entries, s.entry(rec, key))
		}
		return entries, nil
	})
}

func (s *Simulator) handleConfigurationEntry(w http.ResponseWriter, _ *http.Request, rawID, rawEntryID string) {
	serve(s, w, s.entryOf(rawID, rawEntryID), nil, func(ref entryRef) (any, *apiError) { return s.entry(ref.rec, ref.key), nil })
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
	var body setConfigurationJSON
	var value string
	var set bool
	read := func() *apiError {
		if e := readJSON(r, &body); e != nil {
			return e
		}
		if len(body.PropertyValue) == 0 {
			return badRequest("missing required field: propertyValue")
		}
		var err error
		if value, set, err = configurationText(body.PropertyValue); err != nil {
			return badRequest("propertyValue %s", err)
		}
		if !sameID(body.ID, rawEntryID) {
			return badRequest("id in the body does not match the configuration entry")
		}
		return nil
	}
	serve(s, w, s.entryOf(rawID, rawEntryID), read, func(ref entryRef) (any, *apiError) {
		rec, key := ref.rec, ref.key
		value, set := value, set
		switch {
		case body.Key != nil && *body.Key != key:
			return nil, badRequest("key in the body does not match the configuration entry")
		case set && value == ce.MaskedValue && s.shape.masks(key):
			// The masked value read back means "keep what you have", as on PUT.
			value = rec.configuration[key]
			set = value != ""
		}
		if problem := invalidValue(key, value, s.strictEventKeys); set && problem != "" {
			return nil, badRequest("%s", problem)
		} else if key == ce.ConfigAuthenticationType && value != rec.configuration[key] {
			return nil, badRequest("changing how the instance authenticates needs PUT ?reAuthenticate=true with new providerData")
		}
		if set {
			rec.configuration[key] = value
		} else {
			delete(rec.configuration, key)
		}
		rec.updated = s.now()
		return s.entry(rec, key), nil
	})
}

// handleEnabled enables (PUT) or disables (DELETE) the instance the path names.
func (s *Simulator) handleEnabled(w http.ResponseWriter, r *http.Request, rawID string) {
	serve(s, w, s.instanceOf(rawID), nil, func(rec *record) (any, *apiError) { return s.setEnabled(r, rec), nil })
}

// handleEnabledByToken enables or disables the instance whose element token
// the Authorization header carries. An unknown token is the documented 401.
func (s *Simulator) handleEnabledByToken(w http.ResponseWriter, r *http.Request, token string) {
	byToken := func() (*record, *apiError) {
		for _, rec := range s.instances {
			if subtle.ConstantTimeCompare([]byte(rec.token), []byte(token)) == 1 {
				return rec, nil
			}
		}
		return nil, &apiError{status: http.StatusUnauthorized, message: unauthorizedMessage}
	}
	serve(s, w, byToken, nil, func(rec *record) (any, *apiError) { return s.setEnabled(r, rec), nil })
}

// setEnabled is called with s.mu held. The record does not show the
// answer's body; the instance, as every other instance call answers, is the
// guess.
func (s *Simulator) setEnabled(r *http.Request, rec *record) instanceJSON {
	rec.disabled = r.Method == http.MethodDelete
	rec.updated = s.now()
	return rec.wire(s.shape)
}
