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

package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// With managementPolicy ObserveOnly the operator reads the instance the
// import annotation names and never makes a write call to Cloud Elements:
// what a Full object would repair (a spec change, a disabled, invalid or
// deleted instance) is reported in status instead. The steps that can write
// (syncInstance, createInstance, adoptInterruptedCreate, protectCredentials,
// reportHealth's consent flow) are not in its lifecycle at all, so no branch
// deep inside them has to remember the policy.

// observeInstance stands in for syncInstance and createInstance: it reads
// the instance when something may have changed, and records what it found.
func (r *HubSpotInstanceReconciler) observeInstance(ctx context.Context, s *session) error {
	obj := s.obj
	id := instanceIDOf(obj)
	if id == 0 {
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"managementPolicy ObserveOnly observes an existing element instance and never creates one: set annotation %s to its id, or set managementPolicy to Full for the operator to create one",
			elementsv1alpha1.InstanceIDAnnotation)
	}
	inst := s.imported
	if inst == nil && !r.observationDue(s) {
		obj.Status.InstanceID = id
		token, inherited := r.lastSeenToken(s)
		r.watchDrift(s, id, obj.Status.Valid, obj.Status.Disabled, token, inherited)
		return nil
	}
	if inst == nil {
		r.lookAgainUntilSeen(s)
		var err error
		if reconcileRequested(obj) {
			inst, err = s.api.GetInstance(ctx, id)
		} else {
			inst, err = r.listedOrGet(ctx, s, id)
		}
		switch {
		case cloudelements.IsNotFound(err):
			obj.Status.Drift = nil
			return platformStall(elementsv1alpha1.ReasonInstanceNotFound, fmt.Errorf(
				"element instance %d no longer exists at Cloud Elements; managementPolicy is ObserveOnly, so it is not created again: set managementPolicy to Full for the operator to create a new one",
				id))
		case err != nil:
			return classifyAPIError("element instance "+formatID(id), err)
		}
	}
	if err := r.checkClaim(obj, inst); err != nil {
		return err
	}
	r.recordAnswer(s, inst)
	obj.Status.InstanceName = inst.Name
	obj.Status.Drift = observedDrift(inst, s.desired)
	return nil
}

// observationDue: something may have changed since the instance was last
// read — the spec, the instance (a listing's finding, or the poll interval),
// or a person asked; or the token Secret needs the token.
func (r *HubSpotInstanceReconciler) observationDue(s *session) bool {
	obj := s.obj
	return obj.Generation != obj.Status.ObservedGeneration || reconcileRequested(obj) ||
		s.mem.pollNow || r.pollDue(s) || s.tokenSecret.needsToken()
}

// reportObservation is the last step with ObserveOnly: it turns the
// observation recorded in status into the outcome.
func (r *HubSpotInstanceReconciler) reportObservation(_ context.Context, s *session) error {
	s.conclude(observationOutcome(s.obj))
	return nil
}

// observationOutcome describes an observed instance. Whatever is wrong, only
// a person can change it (at Cloud Elements, in the spec, or by choosing
// Full), so every finding is Stalled; the drift polls go on, and notice when
// it is put right.
func observationOutcome(obj *elementsv1alpha1.HubSpotInstance) outcome {
	st := obj.Status
	id := formatID(st.InstanceID)
	switch {
	case !st.Valid:
		return outcome{reason: elementsv1alpha1.ReasonReauthorizationRequired, stalled: true,
			message: "Cloud Elements reports element instance " + id + " as invalid: HubSpot no longer accepts its credentials; managementPolicy is ObserveOnly, so the operator does not re-authorize it: re-authorize it at Cloud Elements, or set managementPolicy to Full"}
	case st.Disabled:
		return outcome{reason: elementsv1alpha1.ReasonInstanceDisabled, stalled: true,
			message: "element instance " + id + " is disabled at Cloud Elements; enable it there (managementPolicy is ObserveOnly: the operator changes nothing)"}
	case len(st.Drift) > 0:
		return outcome{reason: elementsv1alpha1.ReasonInstanceDrifted, stalled: true,
			message: "element instance " + id + " differs from the spec (" + strings.Join(st.Drift, "; ") +
				"); managementPolicy is ObserveOnly, so nothing is changed at Cloud Elements: change the spec to match, or set managementPolicy to Full to apply it"}
	}
	return outcome{ready: true, reason: elementsv1alpha1.ReasonAvailable,
		message: "element instance " + id + " is valid and its token is in Secret " + st.TokenSecretName +
			"; managementPolicy is ObserveOnly: the operator reads it and changes nothing"}
}

// observedDrift lists, for status, how an instance differs from what the
// spec describes: its name, the user's tags (owner tags are the operator's
// business, and an observed instance never gets them), and each
// configuration key the update path would change. Only keys are named:
// values may come from Secrets. A masked value cannot be compared, and a
// value the operator could not read (its Secret is missing) is unknown, so
// neither is.
func observedDrift(inst *cloudelements.Instance, desired cloudelements.InstanceRequest) []string {
	var out []string
	if inst.Name != desired.Name {
		out = append(out, fmt.Sprintf("name: %q at Cloud Elements, %q in the spec",
			boundedText(inst.Name, maxListedItem), boundedText(desired.Name, maxListedItem)))
	}
	have, want := userTags(inst.Tags), userTags(desired.Tags)
	var tags []string
	if missing := without(want, have); len(missing) > 0 {
		tags = append(tags, "missing "+boundedList(missing))
	}
	if extra := without(have, want); len(extra) > 0 {
		tags = append(tags, "not in the spec "+boundedList(extra))
	}
	if len(tags) > 0 {
		out = append(out, "tags: "+strings.Join(tags, "; "))
	}
	notes := map[string]string{}
	for key, value := range desired.Configuration {
		current, ok := inst.Configuration[key]
		switch {
		case value == "" || current == cloudelements.MaskedValue:
		case !ok:
			notes[key] = "not set at Cloud Elements"
		case current != value:
			notes[key] = "differs"
		}
	}
	for key, off := range resettableKeys {
		if _, wanted := desired.Configuration[key]; wanted {
			continue
		}
		if current := inst.Configuration[key]; current != "" && current != off && current != cloudelements.MaskedValue {
			notes[key] = "set at Cloud Elements, not in the spec"
		}
	}
	for _, key := range slices.Sorted(maps.Keys(notes)) {
		out = append(out, "configuration "+boundedText(key, maxListedItem)+": "+notes[key])
	}
	if len(out) > maxListed {
		out = append(out[:maxListed-1], fmt.Sprintf("… and %d more", len(out)-maxListed+1))
	}
	return out
}

// userTags are the tags that are not the operator's, sorted, each once.
func userTags(tags []string) []string {
	out := slices.DeleteFunc(slices.Clone(tags), func(t string) bool { return strings.HasPrefix(t, elementsv1alpha1.OwnerTagPrefix) })
	slices.Sort(out)
	return slices.Compact(out)
}

// without is the sorted a minus the sorted b.
func without(a, b []string) []string {
	var out []string
	for _, t := range a {
		if _, found := slices.BinarySearch(b, t); !found {
			out = append(out, t)
		}
	}
	return out
}
