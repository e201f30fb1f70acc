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

package cloudelements

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ElementKey is the key of the HubSpot CRM element. The platform also
// accepts its numeric id, ElementID, wherever a {keyOrId} appears.
const (
	ElementKey = "hubspotcrm"
	ElementID  = 168
)

// MaskedValue is what the platform returns in place of every secret
// configuration value.
const MaskedValue = "********"

// Instance configuration keys the operator sets or reads.
const (
	ConfigOAuthAPIKey                = "oauth.api.key"
	ConfigOAuthAPISecret             = "oauth.api.secret"
	ConfigOAuthCallbackURL           = "oauth.callback.url"
	ConfigOAuthScope                 = "oauth.scope"
	ConfigOAuthUserRefreshToken      = "oauth.user.refresh_token"
	ConfigAuthenticationType         = "authentication.type"
	ConfigHubSpotAPIKey              = "hubspot.authorization.apikey"
	ConfigCreateBulkProperties       = "create.bulk.properties"
	ConfigEventsEnabled              = "event.notification.enabled"
	ConfigEventVendorType            = "event.vendor.type"
	ConfigEventNotificationType      = "event.notification.type"
	ConfigEventCallbackURL           = "event.notification.callback.url"
	ConfigEventSignatureKey          = "event.notification.signature.key"
	ConfigEventPollerRefreshInterval = "event.poller.refresh_interval"
	ConfigEventObjects               = "event.objects"
	ConfigEventPollerConfiguration   = "event.poller.configuration"
	ConfigEventPollerURLs            = "event.poller.urls"
	ConfigFilterResponseNulls        = "filter.response.nulls"
)

// Values of ConfigAuthenticationType and InstanceRequest.ExternalAuthentication.
const (
	AuthenticationTypeAPIKey      = "apiKey"
	AuthenticationTypeOAuth2      = "oauth2"
	ExternalAuthenticationNone    = "none"
	ExternalAuthenticationInitial = "initial"
)

// secretConfigKeys are secret although their names do not say so.
var secretConfigKeys = map[string]bool{
	ConfigOAuthAPISecret:        true,
	ConfigHubSpotAPIKey:         true,
	ConfigEventSignatureKey:     true,
	ConfigOAuthUserRefreshToken: true,
}

// secretKeyWords catch secret keys of other elements and of future element
// versions, so that masking errs on the side of hiding.
var secretKeyWords = []string{"secret", "token", "password", "apikey"}

// IsSecretConfigKey reports whether the value of a configuration key is a
// secret: the platform masks it on read, and the client and the simulator
// never print it. For OAuth 2 Legacy oauth.api.secret holds the portal id,
// which is not really secret; it is treated as one anyway because the key
// alone cannot tell the modes apart.
func IsSecretConfigKey(key string) bool {
	k := strings.ToLower(key)
	if secretConfigKeys[k] {
		return true
	}
	for _, word := range secretKeyWords {
		if strings.Contains(k, word) {
			return true
		}
	}
	return false
}

// RedactConfiguration returns a copy of configuration with every secret value
// replaced by MaskedValue, fit for logs and events.
func RedactConfiguration(configuration map[string]string) map[string]string {
	if configuration == nil {
		return nil
	}
	redacted := make(map[string]string, len(configuration))
	for key, value := range configuration {
		if IsSecretConfigKey(key) && value != "" {
			value = MaskedValue
		}
		redacted[key] = value
	}
	return redacted
}

// OAuthURLRequest holds the query of GET /elements/{key}/oauth/url.
type OAuthURLRequest struct {
	ElementKey  string   // "" → ElementKey
	APIKey      string   // OAuth client id
	APISecret   string   // client secret (OAuth 2) or HubSpot portal id (OAuth 2 Legacy)
	Scopes      []string // joined with a single space into the scope parameter; none → the element's default scopes
	CallbackURL string
	State       string // "" → the provider echoes the element key
}

func (r OAuthURLRequest) String() string {
	return fmt.Sprintf("{ElementKey:%q APIKey:%q APISecret:%s Scopes:%q CallbackURL:%q State:%q}",
		r.ElementKey, r.APIKey, mask(r.APISecret), r.Scopes, r.CallbackURL, r.State)
}

func (r OAuthURLRequest) GoString() string { return "cloudelements.OAuthURLRequest" + r.String() }

// OAuthURLResponse is where the user's browser goes to grant consent.
type OAuthURLResponse struct {
	Element  string `json:"element"`
	OAuthURL string `json:"oauthUrl"`
}

// ElementRef names the element an instance is created from.
type ElementRef struct {
	Key string `json:"key"`
}

// ProviderData carries what the provider handed back after consent; which
// fields are set depends on the authentication mode.
type ProviderData struct {
	Code         string `json:"code,omitempty"`   // OAuth 2
	APIKey       string `json:"apikey,omitempty"` // OAuth 2 Legacy: client id
	AccessToken  string `json:"access_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    string `json:"expires_in,omitempty"`
}

func (p ProviderData) String() string {
	return fmt.Sprintf("{Code:%s APIKey:%q AccessToken:%s RefreshToken:%s ExpiresIn:%q}",
		mask(p.Code), p.APIKey, mask(p.AccessToken), mask(p.RefreshToken), p.ExpiresIn)
}

func (p ProviderData) GoString() string { return "cloudelements.ProviderData" + p.String() }

// InstanceRequest is the body of POST /instances and PUT /instances/{id}.
type InstanceRequest struct {
	Element                ElementRef        `json:"element"`
	ProviderData           *ProviderData     `json:"providerData,omitempty"`
	Configuration          map[string]string `json:"configuration,omitempty"`
	Tags                   []string          `json:"tags,omitempty"`
	Name                   string            `json:"name"`
	ExternalAuthentication string            `json:"externalAuthentication,omitempty"`
}

// String hides secrets so that a request can be logged with %v.
func (r InstanceRequest) String() string {
	providerData := "<nil>"
	if r.ProviderData != nil {
		providerData = r.ProviderData.String()
	}
	return fmt.Sprintf("{Element:%s Name:%q Tags:%q Configuration:%v ProviderData:%s ExternalAuthentication:%q}",
		r.Element.Key, r.Name, r.Tags, RedactConfiguration(r.Configuration), providerData, r.ExternalAuthentication)
}

func (r InstanceRequest) GoString() string { return "cloudelements.InstanceRequest" + r.String() }

// Element is the element block of an instance.
type Element struct {
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

// Instance is an element instance as the platform returns it. Secret
// configuration values come back as MaskedValue.
type Instance struct {
	ID                     int64             `json:"id"`
	Name                   string            `json:"name"`
	Token                  string            `json:"token"`
	Element                Element           `json:"element"`
	ProvisionInteractions  []json.RawMessage `json:"provisionInteractions"`
	Valid                  bool              `json:"valid"`
	Disabled               bool              `json:"disabled"`
	MaxCacheSize           int64             `json:"maxCacheSize"`
	CacheTimeToLive        int64             `json:"cacheTimeToLive"`
	CachingEnabled         bool              `json:"cachingEnabled"`
	Tags                   []string          `json:"tags"`
	Configuration          map[string]string `json:"configuration"`
	EventsEnabled          bool              `json:"eventsEnabled"`
	ExternalAuthentication string            `json:"externalAuthentication"`
}

// String hides the element token, which is the credential a workload uses.
func (i Instance) String() string {
	return fmt.Sprintf("{ID:%d Name:%q Token:%s Element:%s Valid:%t Disabled:%t Tags:%q Configuration:%v EventsEnabled:%t ExternalAuthentication:%q}",
		i.ID, i.Name, mask(i.Token), i.Element.Key, i.Valid, i.Disabled, i.Tags, RedactConfiguration(i.Configuration), i.EventsEnabled, i.ExternalAuthentication)
}

func (i Instance) GoString() string { return "cloudelements.Instance" + i.String() }

// InstancePatch is the body of PATCH /instances/{id}. Tags, when set, replace
// the instance's tags whole. The documented body carries the instance's id;
// PatchInstance sets it.
type InstancePatch struct {
	ID   int64    `json:"id,omitempty"`
	Name *string  `json:"name,omitempty"`
	Tags []string `json:"tags,omitempty"`
}

// ConfigurationEntry is one key of an instance's configuration as
// GET /instances/{id}/configuration lists it; ID is what
// PATCH /instances/{id}/configuration/{configId} names it by.
type ConfigurationEntry struct {
	ID            int64  `json:"id"`
	Key           string `json:"key"`
	PropertyValue string `json:"propertyValue"`
}

// String hides a secret value.
func (e ConfigurationEntry) String() string {
	value := fmt.Sprintf("%q", e.PropertyValue)
	if IsSecretConfigKey(e.Key) && e.PropertyValue != "" {
		value = MaskedValue
	}
	return fmt.Sprintf("{ID:%d Key:%q PropertyValue:%s}", e.ID, e.Key, value)
}

func (e ConfigurationEntry) GoString() string { return "cloudelements.ConfigurationEntry" + e.String() }

func mask(secret string) string {
	if secret == "" {
		return `""`
	}
	return MaskedValue
}
