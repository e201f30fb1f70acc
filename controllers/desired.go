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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// desiredInstance is the instance as the spec and its Secrets describe it,
// without providerData (which is only sent when authorizing).
func desiredInstance(obj *elementsv1alpha1.HubSpotInstance, in *inputs, id identity) cloudelements.InstanceRequest {
	config := make(map[string]string, len(obj.Spec.Configuration)+8)
	for k, v := range obj.Spec.Configuration {
		config[k] = v
	}
	auth := obj.Spec.Auth
	switch auth.Type {
	case elementsv1alpha1.AuthTypeOAuth2:
		config[cloudelements.ConfigAuthenticationType] = "oauth2"
		config[cloudelements.ConfigOAuthAPIKey] = in.clientID
		config[cloudelements.ConfigOAuthAPISecret] = in.clientSecret
		config[cloudelements.ConfigOAuthCallbackURL] = string(auth.OAuth2.CallbackURL)
		config[cloudelements.ConfigOAuthScope] = strings.Join(auth.OAuth2.Scopes, " ")
	case elementsv1alpha1.AuthTypeOAuth2Legacy:
		config[cloudelements.ConfigOAuthAPIKey] = in.clientID
		config[cloudelements.ConfigOAuthAPISecret] = auth.OAuth2Legacy.PortalID
		config[cloudelements.ConfigOAuthCallbackURL] = string(auth.OAuth2Legacy.CallbackURL)
		config[cloudelements.ConfigOAuthScope] = strings.Join(auth.OAuth2Legacy.GetScopes(), "+")
	case elementsv1alpha1.AuthTypeAPIKey:
		config[cloudelements.ConfigAuthenticationType] = "apiKey"
		config[cloudelements.ConfigHubSpotAPIKey] = in.apiKey
		config[cloudelements.ConfigCreateBulkProperties] = strconv.FormatBool(auth.APIKey.CreateBulkProperties)
	}
	if ev := obj.Spec.Events; ev != nil {
		config[cloudelements.ConfigEventsEnabled] = strconv.FormatBool(ev.Enabled)
		if ev.Enabled {
			config[cloudelements.ConfigEventVendorType] = string(ev.GetVendorType())
			config[cloudelements.ConfigEventNotificationType] = "webhook"
			if ev.CallbackURL != "" {
				config[cloudelements.ConfigEventCallbackURL] = string(ev.CallbackURL)
			}
			config[cloudelements.ConfigEventPollerRefreshInterval] = strconv.Itoa(int(ev.GetPollerRefreshIntervalMinutes()))
			if len(ev.Objects) > 0 {
				config[cloudelements.ConfigEventObjects] = strings.Join(ev.Objects, ",")
			}
			if in.signatureKey != "" {
				config[cloudelements.ConfigEventSignatureKey] = in.signatureKey
			}
			if p := ev.Poller; p != nil {
				if len(p.Resources) > 0 {
					config[cloudelements.ConfigEventPollerConfiguration] = pollerConfiguration(p.Resources)
				}
				if len(p.URLs) > 0 {
					// Newlines are what the platform's own HubSpot instances
					// separate entries with; other elements use '|'.
					config[cloudelements.ConfigEventPollerURLs] = strings.Join(p.URLs, "\n")
				}
			}
		}
	}

	tags := slices.Clone(obj.Spec.Tags)
	slices.Sort(tags)
	tags = append(tags, id.tags()...)
	tags = append(tags, elementsv1alpha1.ManagedTag)

	return cloudelements.InstanceRequest{
		Element:       cloudelements.ElementRef{Key: cloudelements.ElementKey},
		Configuration: config,
		Tags:          tags,
		Name:          obj.ElementInstanceName(),
	}
}

// pollerResource is one resource's entry in event.poller.configuration,
// under the platform's field names.
type pollerResource struct {
	URL                string                             `json:"url"`
	IDField            string                             `json:"idField,omitempty"`
	DatesConfiguration *elementsv1alpha1.EventPollerDates `json:"datesConfiguration,omitempty"`
}

// pollerConfiguration is the poller's JSON object as a string (the client
// sends only strings). It is keyed by resource name and maps marshal with
// sorted keys, so reordering the list in the spec changes neither the value
// nor the configuration hash.
func pollerConfiguration(resources []elementsv1alpha1.EventPollerResource) string {
	byName := make(map[string]pollerResource, len(resources))
	for _, r := range resources {
		byName[r.Name] = pollerResource{URL: r.URL, IDField: r.IDField, DatesConfiguration: r.DatesConfiguration}
	}
	// Without HTML escaping, so '<', '>' and '&' in a where clause read as
	// written in the platform's console rather than as \u003c and the like.
	var body strings.Builder
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(byName) // strings and a map of them: cannot fail
	return strings.TrimSuffix(body.String(), "\n")
}

// providerDataFor is what authorizes a new instance in each mode.
func providerDataFor(obj *elementsv1alpha1.HubSpotInstance, in *inputs) *cloudelements.ProviderData {
	switch obj.Spec.Auth.Type {
	case elementsv1alpha1.AuthTypeOAuth2:
		return &cloudelements.ProviderData{Code: in.code}
	case elementsv1alpha1.AuthTypeOAuth2Legacy:
		return &cloudelements.ProviderData{APIKey: in.clientID, AccessToken: in.accessToken,
			RefreshToken: in.refreshToken, ExpiresIn: in.expiresIn}
	}
	return nil
}

// configurationHash fingerprints what is sent to Cloud Elements, secrets
// included: they come back masked, so this hash is the only way to know
// whether an update is due. It is an HMAC under a key only the operator
// holds, over the object's UID and the request, so the status (which viewers
// read) can neither confirm a guess of a secret nor be compared across objects.
func configurationHash(key []byte, obj *elementsv1alpha1.HubSpotInstance, req cloudelements.InstanceRequest) string {
	req.ProviderData = nil
	body, _ := json.Marshal(req) // maps marshal with sorted keys: the hash is stable
	return keyedHash(key, string(obj.UID), "configuration", string(body))
}

func keyedHash(key []byte, parts ...string) string {
	mac := hmac.New(sha256.New, key)
	for _, p := range parts {
		mac.Write([]byte(p))
		mac.Write([]byte{0})
	}
	return "hmac-sha256:" + hex.EncodeToString(mac.Sum(nil))
}

// authorization is what authorizes the instance in its mode, as far as the
// inputs hold it: the OAuth 2 code, the OAuth 2 Legacy tokens, the API key.
// Empty when none is at hand.
func authorization(obj *elementsv1alpha1.HubSpotInstance, in *inputs) string {
	switch obj.Spec.Auth.Type {
	case elementsv1alpha1.AuthTypeOAuth2:
		return in.code
	case elementsv1alpha1.AuthTypeOAuth2Legacy:
		if in.accessToken == "" || in.refreshToken == "" {
			return ""
		}
		body, _ := json.Marshal([]string{in.accessToken, in.refreshToken, in.expiresIn})
		return string(body)
	case elementsv1alpha1.AuthTypeAPIKey:
		return in.apiKey
	}
	return ""
}

// authorizationHash fingerprints an authorization, keyed like
// configurationHash; "" for none.
func authorizationHash(key []byte, obj *elementsv1alpha1.HubSpotInstance, auth string) string {
	if auth == "" {
		return ""
	}
	return keyedHash(key, string(obj.UID), "authorization", auth)
}

// reauthorizationRequest is the desired instance with the new credentials
// the platform's re-authentication call needs.
func reauthorizationRequest(obj *elementsv1alpha1.HubSpotInstance, in *inputs, desired cloudelements.InstanceRequest) cloudelements.InstanceRequest {
	desired.ProviderData = providerDataFor(obj, in)
	return desired
}

// checkTags repeats admission's rules on tags for objects stored before a
// rule existed: a tag the platform would sanitise into an owner tag, or that
// claims the owner-tag prefix, could hand this object's instance to another
// object's lookup.
func checkTags(tags []string) error {
	for i, tag := range tags {
		if strings.HasPrefix(tag, elementsv1alpha1.OwnerTagPrefix) || strings.ContainsAny(tag, "<>&") {
			return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
				"spec.tags[%d] must not start with %q nor contain '<', '>' or '&': Cloud Elements strips markup from tags, which could turn it into another object's owner tag",
				i, elementsv1alpha1.OwnerTagPrefix)
		}
	}
	return nil
}
