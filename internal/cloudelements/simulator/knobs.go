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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// ErrNoInstance is returned by the Go knobs for an id the simulator does not hold.
var ErrNoInstance = errors.New("simulator: no such instance")

// Instances returns every instance, secrets in clear, sorted by id.
func (s *Simulator) Instances() []ce.Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.instances))
	for id := range s.instances {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	instances := make([]ce.Instance, 0, len(ids))
	for _, id := range ids {
		instances = append(instances, s.instances[id].instance())
	}
	return instances
}

// Instance returns one instance, secrets in clear.
func (s *Simulator) Instance(id int64) (ce.Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.instances[id]
	if !ok {
		return ce.Instance{}, false
	}
	return rec.instance(), true
}

// RotateAccountSecrets replaces the account's user and organization
// secrets, as regenerating them in the platform's console does: from now on
// only the new ones are accepted.
func (s *Simulator) RotateAccountSecrets(user, organization string) {
	s.accountMu.Lock()
	defer s.accountMu.Unlock()
	s.userSecret, s.organizationSecret = user, organization
}

// Invalidate marks an instance's provider authorization as lapsed (valid=false),
// as when a HubSpot user revokes the app.
func (s *Simulator) Invalidate(id int64) error {
	return s.change(id, func(rec *record) { rec.valid = false })
}

// SetDisabled disables or enables an instance.
func (s *Simulator) SetDisabled(id int64, disabled bool) error {
	return s.change(id, func(rec *record) { rec.disabled = disabled })
}

// SetElementKey makes an instance read as one of another element (say
// "salesforce"): accounts hold instances of many elements.
func (s *Simulator) SetElementKey(id int64, key string) error {
	return s.change(id, func(rec *record) { rec.elementKey = key })
}

// Remove deletes an instance behind the operator's back.
func (s *Simulator) Remove(id int64) error {
	return s.change(id, func(rec *record) { delete(s.instances, rec.id) })
}

func (s *Simulator) change(id int64, edit func(*record)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoInstance, id)
	}
	edit(rec)
	return nil
}

// handleKnob serves the test knobs under /simulator/. They take no
// credentials: the simulator is a test fixture bound to loopback by default.
func (s *Simulator) handleKnob(w http.ResponseWriter, r *http.Request) {
	segments := splitPath(strings.TrimPrefix(r.URL.Path, "/simulator"))
	route := r.Method + " " + strings.Join(segments, "/")
	switch {
	case route == "GET instances":
		writeJSON(w, http.StatusOK, s.Instances())
	case len(segments) == 2 && segments[0] == "instances":
		s.knobInstance(w, r, segments[1])
	case len(segments) == 3 && segments[0] == "instances" && r.Method == http.MethodPost:
		s.knobInstanceAction(w, segments[1], segments[2])
	case route == "GET faults":
		writeJSON(w, http.StatusOK, s.Faults())
	case route == "DELETE faults":
		s.ClearFaults()
		writeJSON(w, http.StatusOK, s.Faults())
	case len(segments) == 2 && segments[0] == "faults":
		s.knobFault(w, r, segments[1])
	case route == "GET counts":
		writeJSON(w, http.StatusOK, s.Counts())
	case route == "GET commits":
		writeJSON(w, http.StatusOK, s.CommitCounts())
	case route == "POST counts/reset":
		s.ResetCounts()
		writeJSON(w, http.StatusOK, s.Counts())
	case route == "POST codes":
		clientID := r.URL.Query().Get("client_id")
		if clientID == "" {
			s.fail(w, badRequest("missing required query parameter: client_id"))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"code": s.IssueCode(clientID)})
	case route == "GET seed":
		writeJSON(w, http.StatusOK, map[string]int64{"seed": s.Seed()})
	default:
		s.writeError(w, http.StatusNotFound, "No simulator knob at "+r.Method+" "+r.URL.Path, "")
	}
}

func (s *Simulator) knobInstance(w http.ResponseWriter, r *http.Request, rawID string) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		s.writeError(w, http.StatusNotFound, "No instance found with ID "+clip(rawID), "")
		return
	}
	switch r.Method {
	case http.MethodGet:
		if instance, ok := s.Instance(id); ok {
			writeJSON(w, http.StatusOK, instance)
			return
		}
	case http.MethodDelete:
		if s.Remove(id) == nil {
			writeJSON(w, http.StatusOK, map[string]int64{"deleted": id})
			return
		}
	default:
		s.methodNotAllowed(http.MethodGet, http.MethodDelete)(w, r)
		return
	}
	s.writeError(w, http.StatusNotFound, "No instance found with ID "+rawID, "")
}

func (s *Simulator) knobInstanceAction(w http.ResponseWriter, rawID, action string) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		s.writeError(w, http.StatusNotFound, "No instance found with ID "+clip(rawID), "")
		return
	}
	switch action {
	case "invalidate":
		err = s.Invalidate(id)
	case "disable":
		err = s.SetDisabled(id, true)
	case "enable":
		err = s.SetDisabled(id, false)
	default:
		s.writeError(w, http.StatusNotFound, "No simulator knob "+clip(action)+"; use invalidate, disable or enable", "")
		return
	}
	if err != nil {
		s.writeError(w, http.StatusNotFound, "No instance found with ID "+rawID, "")
		return
	}
	instance, _ := s.Instance(id)
	writeJSON(w, http.StatusOK, instance)
}

func (s *Simulator) knobFault(w http.ResponseWriter, r *http.Request, op string) {
	if op != "*" && !isOperation(op) {
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("Unknown operation %q; use * or one of %s", clip(op), strings.Join(Operations, ", ")), "")
		return
	}
	switch r.Method {
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err != nil {
			s.fail(w, badRequest("Could not read the request body"))
			return
		}
		var fault Fault
		if err := json.Unmarshal(body, &fault); err != nil {
			s.fail(w, badRequest("Invalid fault: %v", err))
			return
		}
		s.SetFault(op, fault)
		writeJSON(w, http.StatusOK, s.Faults())
	case http.MethodDelete:
		s.SetFault(op, Fault{})
		writeJSON(w, http.StatusOK, s.Faults())
	default:
		s.methodNotAllowed(http.MethodPut, http.MethodDelete)(w, r)
	}
}
