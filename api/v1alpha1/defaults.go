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

package v1alpha1

import (
	"slices"
	"strings"
	"time"
)

// The defaults of the API. The +kubebuilder:default markers must spell the
// same values (markers cannot name a constant); defaults_test.go compares
// them with the generated CRD, so a default is changed here and in its marker,
// nowhere else. The getters below apply them, for objects the API server has
// not defaulted (created before a default existed, or built in Go).
const (
	DefaultEndpoint                               = "https://api.cloud-elements.com/elements/api-v2"
	DefaultUserSecretKey                SecretKey = "user-secret"
	DefaultOrganizationSecretKey        SecretKey = "organization-secret"
	DefaultClientIDKey                  SecretKey = "client-id"
	DefaultClientSecretKey              SecretKey = "client-secret"
	DefaultAccessTokenKey               SecretKey = "access-token"
	DefaultRefreshTokenKey              SecretKey = "refresh-token"
	DefaultExpiresInKey                 SecretKey = "expires-in"
	DefaultEventVendorType                        = EventVendorTypePolling
	DefaultPollerRefreshIntervalMinutes           = 15
	DefaultDeletionPolicy                         = DeletionPolicyDelete
	DefaultManagementPolicy                       = ManagementPolicyFull
	DefaultPollInterval                           = 10 * time.Minute
	// MinPollInterval is the shortest pollInterval admission accepts.
	MinPollInterval = 30 * time.Second
)

// DefaultLegacyScopes are the OAuth 2 Legacy scopes Cloud Elements needs.
func DefaultLegacyScopes() []string { return []string{"contacts-rw", "offline"} }

// GetEndpoint is the Cloud Elements API base URL, without a trailing slash.
func (p PlatformSpec) GetEndpoint() string {
	if p.Endpoint == "" {
		return DefaultEndpoint
	}
	return strings.TrimRight(string(p.Endpoint), "/")
}

// GetUserSecretKey is the key holding the Cloud Elements user secret.
func (r CredentialsSecretRef) GetUserSecretKey() SecretKey {
	return orDefault(r.UserSecretKey, DefaultUserSecretKey)
}

// GetOrganizationSecretKey is the key holding the Cloud Elements organization secret.
func (r CredentialsSecretRef) GetOrganizationSecretKey() SecretKey {
	return orDefault(r.OrganizationSecretKey, DefaultOrganizationSecretKey)
}

// GetClientIDKey is the key holding the OAuth client id.
func (r OAuthClientSecretRef) GetClientIDKey() SecretKey {
	return orDefault(r.ClientIDKey, DefaultClientIDKey)
}

// GetClientSecretKey is the key holding the OAuth client secret.
func (r OAuthClientSecretRef) GetClientSecretKey() SecretKey {
	return orDefault(r.ClientSecretKey, DefaultClientSecretKey)
}

// GetScopes are the legacy OAuth scopes requested.
func (l OAuth2LegacyAuth) GetScopes() []string {
	if len(l.Scopes) == 0 {
		return DefaultLegacyScopes()
	}
	return slices.Clone(l.Scopes)
}

// GetAccessTokenKey is the key holding the legacy access token.
func (r LegacyTokensSecretRef) GetAccessTokenKey() SecretKey {
	return orDefault(r.AccessTokenKey, DefaultAccessTokenKey)
}

// GetRefreshTokenKey is the key holding the legacy refresh token.
func (r LegacyTokensSecretRef) GetRefreshTokenKey() SecretKey {
	return orDefault(r.RefreshTokenKey, DefaultRefreshTokenKey)
}

// GetExpiresInKey is the key holding the legacy token lifetime.
func (r LegacyTokensSecretRef) GetExpiresInKey() SecretKey {
	return orDefault(r.ExpiresInKey, DefaultExpiresInKey)
}

// GetVendorType is how Cloud Elements detects changes in HubSpot.
func (e EventsSpec) GetVendorType() EventVendorType {
	return orDefault(e.VendorType, DefaultEventVendorType)
}

// GetPollerRefreshIntervalMinutes is the event polling period, in minutes.
func (e EventsSpec) GetPollerRefreshIntervalMinutes() int32 {
	if e.PollerRefreshIntervalMinutes <= 0 {
		return DefaultPollerRefreshIntervalMinutes
	}
	return e.PollerRefreshIntervalMinutes
}

// GetDeletionPolicy says what deleting the object does at Cloud Elements.
func (s HubSpotInstanceSpec) GetDeletionPolicy() DeletionPolicy {
	return orDefault(s.DeletionPolicy, DefaultDeletionPolicy)
}

// GetManagementPolicy says whether the operator may change the instance.
func (s HubSpotInstanceSpec) GetManagementPolicy() ManagementPolicy {
	return orDefault(s.ManagementPolicy, DefaultManagementPolicy)
}

// ObserveOnly says the operator only reads the instance at Cloud Elements.
func (s HubSpotInstanceSpec) ObserveOnly() bool {
	return s.GetManagementPolicy() == ManagementPolicyObserveOnly
}

// GetPollInterval is how often the instance is checked for drift. Values
// below MinPollInterval (which admission refuses, but an object stored
// before the rule existed may hold) read as the default.
func (s HubSpotInstanceSpec) GetPollInterval() time.Duration {
	if s.PollInterval == nil || s.PollInterval.Duration < MinPollInterval {
		return DefaultPollInterval
	}
	return s.PollInterval.Duration
}

// TokenSecretSuffix makes the token Secret's default name: the object's
// name and this.
const TokenSecretSuffix = "-element-token"

// TokenSecretName is the name of the Secret receiving the element token.
func (in *HubSpotInstance) TokenSecretName() string {
	if in.Spec.TokenSecret.Name != "" {
		return string(in.Spec.TokenSecret.Name)
	}
	return in.Name + TokenSecretSuffix
}

// ElementInstanceName is the element instance's name at Cloud Elements.
func (in *HubSpotInstance) ElementInstanceName() string {
	if in.Spec.InstanceName != "" {
		return in.Spec.InstanceName
	}
	return in.Namespace + "-" + in.Name
}

func orDefault[T ~string](v, fallback T) T {
	if v == "" {
		return fallback
	}
	return v
}

// TemplateData is the template's data as plain strings.
func (t *TokenSecretTemplate) TemplateData() map[string]string {
	out := make(map[string]string, len(t.Data))
	for k, v := range t.Data {
		out[k] = string(v)
	}
	return out
}
