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
	"slices"
	"sort"
	"strings"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// updateInstance brings instance id to the desired state.
//
// An OAuth instance holds the provider's tokens in its configuration, where
// the operator never has them, and no public source says whether a full PUT
// that leaves them out keeps or drops them (docs/cloud-elements-api.md,
// 4.4). So an OAuth instance is changed only by calls that cannot touch them:
// PATCH for the name and tags, and the per-key configuration call for each
// key that differs. An API-key instance is authorized by a key the operator
// sends in full with every PUT, so a PUT cannot de-authorize it.
func (r *HubSpotInstanceReconciler) updateInstance(ctx context.Context, s *session, id int64) (*cloudelements.Instance, error) {
	if !holdsProviderTokens(s.obj.Spec.Auth.Type) {
		return s.api.UpdateInstance(ctx, id, s.desired)
	}
	current, err := s.api.GetInstance(ctx, id)
	if err != nil {
		return nil, err
	}
	if changes := configurationChanges(current.Configuration, s.desired.Configuration); len(changes) > 0 {
		entries, err := s.api.InstanceConfiguration(ctx, id)
		if err != nil {
			return nil, keyByKeyFailed(id, err)
		}
		updates, missing := configurationUpdates(entries, changes)
		if len(missing) > 0 {
			return nil, stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
				"element instance %d has no configuration key %s at Cloud Elements, so it cannot be set one key at a time, and a full update could drop the instance's OAuth authorization; remove it from the spec, or set it when the instance is created",
				id, strings.Join(missing, ", "))
		}
		for _, entry := range updates {
			if _, err := s.api.SetConfigurationValue(ctx, id, entry); err != nil {
				return nil, keyByKeyFailed(id, err)
			}
		}
	}
	if patch := nameAndTagsPatch(current, s.desired); patch != nil {
		patched, err := s.api.PatchInstance(ctx, id, *patch)
		if err != nil {
			return nil, keyByKeyFailed(id, err)
		}
		current = patched
	}
	return current, nil
}

// keyByKeyFailed classifies a failure of one of the narrow calls. Only the
// GET that starts an update may report the instance gone: a 404 from a
// sub-resource says nothing of the instance itself.
func keyByKeyFailed(id int64, err error) error {
	return classifyAPIError(fmt.Sprintf("changing element instance %d one field at a time", id), err)
}

// holdsProviderTokens reports whether instances of an auth mode keep OAuth
// tokens from the provider in their configuration.
func holdsProviderTokens(t elementsv1alpha1.AuthType) bool {
	return t == elementsv1alpha1.AuthTypeOAuth2 || t == elementsv1alpha1.AuthTypeOAuth2Legacy
}

// resettableKeys are keys the operator writes from typed fields, with the
// value that turns each off: once the spec no longer sets one, an instance
// changed key by key must have it reset, where a full PUT would drop it.
var resettableKeys = map[string]string{
	cloudelements.ConfigEventsEnabled:              "false",
	cloudelements.ConfigEventVendorType:            "",
	cloudelements.ConfigEventNotificationType:      "",
	cloudelements.ConfigEventCallbackURL:           "",
	cloudelements.ConfigEventSignatureKey:          "",
	cloudelements.ConfigEventPollerRefreshInterval: "",
	cloudelements.ConfigEventObjects:               "",
	cloudelements.ConfigEventPollerConfiguration:   "",
	cloudelements.ConfigEventPollerURLs:            "",
}

// configurationChanges are the keys whose platform value differs from the
// desired one, with the desired value. A masked value cannot be compared, so
// it is sent again: this runs only when the desired state changed. Keys the
// platform holds and the desired state leaves out are kept, except the ones
// the operator owns (resettableKeys), which are reset.
func configurationChanges(current, desired map[string]string) map[string]string {
	changes := map[string]string{}
	for key, want := range desired {
		if have, ok := current[key]; !ok || have != want || have == cloudelements.MaskedValue {
			changes[key] = want
		}
	}
	for key, off := range resettableKeys {
		if _, wanted := desired[key]; wanted {
			continue
		}
		if have := current[key]; have != "" && have != off {
			changes[key] = off
		}
	}
	return changes
}

// configurationUpdates pairs each change with the id the platform lists its
// key under; missing are the keys it does not list, sorted.
func configurationUpdates(entries []cloudelements.ConfigurationEntry, changes map[string]string) (updates []cloudelements.ConfigurationEntry, missing []string) {
	ids := make(map[string]int64, len(entries))
	for _, entry := range entries {
		if entry.ID != 0 {
			ids[entry.Key] = entry.ID
		}
	}
	for key, value := range changes {
		id, ok := ids[key]
		if !ok {
			missing = append(missing, key)
			continue
		}
		updates = append(updates, cloudelements.ConfigurationEntry{ID: id, Key: key, PropertyValue: value})
	}
	sort.Strings(missing)
	sort.Slice(updates, func(i, j int) bool { return updates[i].Key < updates[j].Key })
	return updates, missing
}

// nameAndTagsPatch is the PATCH that gives the instance the desired name and
// tags, or nil when it has them. Tags compare as a set: the platform does not
// promise their order.
func nameAndTagsPatch(current *cloudelements.Instance, desired cloudelements.InstanceRequest) *cloudelements.InstancePatch {
	have, want := slices.Sorted(slices.Values(current.Tags)), slices.Sorted(slices.Values(desired.Tags))
	if current.Name == desired.Name && slices.Equal(slices.Compact(have), slices.Compact(want)) {
		return nil
	}
	name := desired.Name
	return &cloudelements.InstancePatch{Name: &name, Tags: desired.Tags}
}
