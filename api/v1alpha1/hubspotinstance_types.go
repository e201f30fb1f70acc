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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretName is the name of a Secret in the HubSpotInstance's own namespace.
// There is deliberately no namespace field anywhere in this API: an object can
// only ever read Secrets that live beside it.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:XValidation:rule="!format.dns1123Subdomain().validate(self).hasValue()",message="must be a valid Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
type SecretName string

// SecretKey is a key inside a Secret's data.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:XValidation:rule="self.matches('^[-._a-zA-Z0-9]+$')",message="must be a valid Secret key: letters, digits, '-', '_' and '.'"
type SecretKey string

// HTTPURL is an absolute http or https URL.
// +kubebuilder:validation:MaxLength=2048
// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname().size() > 0",message="must be an absolute http:// or https:// URL"
type HTTPURL string

// SecretKeySelector points at one key of a Secret in the object's namespace.
type SecretKeySelector struct {
	// name of the Secret, in the HubSpotInstance's namespace.
	// +required
	Name SecretName `json:"name"`

	// key inside the Secret's data.
	// +required
	Key SecretKey `json:"key"`
}

// AuthType selects how the element instance authenticates to HubSpot.
// +kubebuilder:validation:Enum=OAuth2;OAuth2Legacy;APIKey
type AuthType string

const (
	// AuthTypeOAuth2 is HubSpot's current OAuth 2 flow: a person consents once,
	// and Cloud Elements exchanges the resulting code for tokens.
	AuthTypeOAuth2 AuthType = "OAuth2"
	// AuthTypeOAuth2Legacy is HubSpot's older portal-scoped OAuth flow, where the
	// access and refresh tokens are obtained out of band.
	AuthTypeOAuth2Legacy AuthType = "OAuth2Legacy"
	// AuthTypeAPIKey provisions with a HubSpot API key ("quick provision").
	AuthTypeAPIKey AuthType = "APIKey"
)

// DeletionPolicy says what happens to the Cloud Elements instance when the
// HubSpotInstance is deleted.
// +kubebuilder:validation:Enum=Delete;Orphan
type DeletionPolicy string

const (
	// DeletionPolicyDelete deletes the element instance at Cloud Elements.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyOrphan leaves the element instance in place.
	DeletionPolicyOrphan DeletionPolicy = "Orphan"
)

// ManagementPolicy says whether the operator changes the element instance at
// Cloud Elements or only reads it.
// +kubebuilder:validation:Enum=Full;ObserveOnly
type ManagementPolicy string

const (
	// ManagementPolicyFull creates, updates, re-authorizes, repairs and
	// deletes the element instance.
	ManagementPolicyFull ManagementPolicy = "Full"
	// ManagementPolicyObserveOnly reads an existing element instance,
	// publishes its token and reports how it differs from the spec, and
	// never changes it at Cloud Elements.
	ManagementPolicyObserveOnly ManagementPolicy = "ObserveOnly"
)

// EventVendorType is how Cloud Elements learns of changes in HubSpot.
// +kubebuilder:validation:Enum=polling;webhook;webhooks
type EventVendorType string

const (
	// EventVendorTypePolling means Cloud Elements polls HubSpot for changes.
	EventVendorTypePolling EventVendorType = "polling"
	// EventVendorTypeWebhook means HubSpot calls Cloud Elements on each change.
	EventVendorTypeWebhook EventVendorType = "webhook"
	// EventVendorTypeWebhooks is the same choice as spelled in the vendor's
	// HubSpot webhook example, whose own table says webhook. Which spelling
	// the platform needs for HubSpot is unverified, so both are accepted and
	// sent as written.
	EventVendorTypeWebhooks EventVendorType = "webhooks"
)

// HubSpotInstanceSpec is the desired state of a HubSpot CRM element instance.
type HubSpotInstanceSpec struct {
	// platform says which Cloud Elements API to talk to and with which account.
	// +required
	Platform PlatformSpec `json:"platform"`

	// instanceName is the element instance's name at Cloud Elements.
	// When empty, the operator uses <namespace>-<name>.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.trim().size() > 0",message="instanceName must not be blank; omit it to use <namespace>-<name>"
	InstanceName string `json:"instanceName,omitempty"`

	// tags are attached to the element instance, in addition to the tag the
	// operator uses to recognise its own instances. They form a set. Cloud
	// Elements strips markup from tags, so '<', '>' and '&' are refused: a
	// tag must read back as written, and never become an owner tag.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.all(t, t.size() > 0 && t.trim() == t)",message="tags must be non-empty and must not start or end with whitespace"
	// +kubebuilder:validation:XValidation:rule="self.all(t, !t.startsWith('k8s:'))",message="tags starting with 'k8s:' are reserved for the operator's owner tag"
	// +kubebuilder:validation:XValidation:rule="self.all(t, !t.contains('<') && !t.contains('>') && !t.contains('&'))",message="tags must not contain '<', '>' or '&': Cloud Elements strips markup from tags, which could turn a tag into another object's owner tag"
	Tags []string `json:"tags,omitempty"`

	// auth selects the authentication mode and references its credentials.
	// +required
	Auth AuthSpec `json:"auth"`

	// events configures Cloud Elements event notifications for the instance
	// (the element's common instance configuration).
	// +optional
	Events *EventsSpec `json:"events,omitempty"`

	// configuration holds other raw element configuration entries, sent as
	// string values. Keys that typed fields own (oauth.*, event.*,
	// hubspot.authorization.apikey, authentication.type, create.bulk.properties)
	// are refused: set them through auth and events instead.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() > 0 && k.size() <= 253)",message="configuration keys must be 1 to 253 characters long"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !(k.startsWith('oauth.') || k.startsWith('event.') || k in ['hubspot.authorization.apikey', 'authentication.type', 'create.bulk.properties']))",messageExpression="'configuration key ' + self.filter(k, k.startsWith('oauth.') || k.startsWith('event.') || k in ['hubspot.authorization.apikey', 'authentication.type', 'create.bulk.properties'])[0] + ' is reserved: set it through spec.auth or spec.events'"
	Configuration map[string]string `json:"configuration,omitempty"`

	// tokenSecret shapes the Secret the operator writes the element token into.
	// +optional
	TokenSecret TokenSecretSpec `json:"tokenSecret,omitempty"`

	// deletionPolicy says whether deleting this object deletes the element
	// instance at Cloud Elements (Delete) or leaves it there (Orphan). With
	// managementPolicy ObserveOnly the instance is always left. The annotation
	// elements.cloud-elements.io/deletion-protection: "true" holds a Delete
	// back: the object waits (Ready reason DeletionProtected) until the
	// annotation is removed or deletionPolicy is set to Orphan.
	// +optional
	// +kubebuilder:default=Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// managementPolicy is Full (the default): the operator creates the
	// element instance, keeps it as the spec says and deletes it as
	// deletionPolicy says. ObserveOnly adopts the existing instance named by
	// the annotation elements.cloud-elements.io/instance-id (required),
	// publishes its token into the token Secret and reports in status how it
	// differs from the spec (status.drift, Ready reasons InstanceDrifted,
	// InstanceDisabled, ReauthorizationRequired, InstanceNotFound), and never
	// makes a write call to Cloud Elements: no create, update, re-authorization
	// or delete, whatever deletionPolicy says. Only the account credentials
	// Secret is required then. Setting Full again resumes management: the spec
	// is applied once if it differs.
	// +optional
	// +kubebuilder:default=Full
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`

	// suspend stops all calls to Cloud Elements for this object until it is
	// set back to false. The token Secret is left as it is.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// pollInterval is how often the operator checks the instance at Cloud
	// Elements for drift (deleted, invalidated, disabled). At least 30s.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('30s')",message="pollInterval must be a duration such as 30s, 10m or 1h, and at least 30s"
	PollInterval *metav1.Duration `json:"pollInterval,omitempty"`
}

// PlatformSpec identifies the Cloud Elements API and account.
type PlatformSpec struct {
	// endpoint is the Cloud Elements API base URL. Credentials are only ever
	// sent to an https endpoint, to a loopback host, or when the operator runs
	// with --allow-insecure-endpoints.
	// +optional
	// +kubebuilder:default="https://api.cloud-elements.com/elements/api-v2"
	Endpoint HTTPURL `json:"endpoint,omitempty"`

	// credentialsSecretRef names the Secret holding the Cloud Elements user
	// and organization secrets.
	// +required
	CredentialsSecretRef CredentialsSecretRef `json:"credentialsSecretRef"`
}

// CredentialsSecretRef names the Secret with the Cloud Elements account secrets.
type CredentialsSecretRef struct {
	// name of the Secret, in the HubSpotInstance's namespace.
	// +required
	Name SecretName `json:"name"`

	// userSecretKey is the key holding the Cloud Elements user secret.
	// +optional
	// +kubebuilder:default=user-secret
	UserSecretKey SecretKey `json:"userSecretKey,omitempty"`

	// organizationSecretKey is the key holding the Cloud Elements organization secret.
	// +optional
	// +kubebuilder:default=organization-secret
	OrganizationSecretKey SecretKey `json:"organizationSecretKey,omitempty"`
}

// AuthSpec is a union: type names the one block that must be set.
// +kubebuilder:validation:XValidation:rule="self.type != 'OAuth2' || has(self.oauth2)",message="auth.oauth2 is required when auth.type is OAuth2",fieldPath=".oauth2"
// +kubebuilder:validation:XValidation:rule="self.type != 'OAuth2Legacy' || has(self.oauth2Legacy)",message="auth.oauth2Legacy is required when auth.type is OAuth2Legacy",fieldPath=".oauth2Legacy"
// +kubebuilder:validation:XValidation:rule="self.type != 'APIKey' || has(self.apiKey)",message="auth.apiKey is required when auth.type is APIKey",fieldPath=".apiKey"
// +kubebuilder:validation:XValidation:rule="!has(self.oauth2) || self.type == 'OAuth2'",message="auth.oauth2 may only be set when auth.type is OAuth2",fieldPath=".oauth2"
// +kubebuilder:validation:XValidation:rule="!has(self.oauth2Legacy) || self.type == 'OAuth2Legacy'",message="auth.oauth2Legacy may only be set when auth.type is OAuth2Legacy",fieldPath=".oauth2Legacy"
// +kubebuilder:validation:XValidation:rule="!has(self.apiKey) || self.type == 'APIKey'",message="auth.apiKey may only be set when auth.type is APIKey",fieldPath=".apiKey"
type AuthSpec struct {
	// type is the authentication mode: OAuth2 (recommended), OAuth2Legacy or
	// APIKey. Exactly the matching block must be set.
	// +required
	Type AuthType `json:"type"`

	// oauth2 configures HubSpot's OAuth 2 flow.
	// +optional
	OAuth2 *OAuth2Auth `json:"oauth2,omitempty"`

	// oauth2Legacy configures HubSpot's legacy, portal-scoped OAuth flow.
	// +optional
	OAuth2Legacy *OAuth2LegacyAuth `json:"oauth2Legacy,omitempty"`

	// apiKey configures provisioning with a HubSpot API key. HubSpot stopped
	// issuing API keys in 2022; prefer OAuth2.
	// +optional
	APIKey *APIKeyAuth `json:"apiKey,omitempty"`
}

// OAuth2Auth configures HubSpot's OAuth 2 flow.
type OAuth2Auth struct {
	// clientSecretRef names the Secret holding the HubSpot app's client id and
	// client secret.
	// +required
	ClientSecretRef OAuthClientSecretRef `json:"clientSecretRef"`

	// scopes requested at consent; they must match the HubSpot app's exactly.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.all(s, s.matches('^[^\\\\s]+$'))",message="scopes must not contain whitespace"
	Scopes []string `json:"scopes"`

	// callbackURL is the public URL of the operator's OAuth callback endpoint
	// (or your own), registered as a redirect URL in the HubSpot app.
	// +required
	CallbackURL HTTPURL `json:"callbackURL"`

	// authorizationCodeSecretRef points at an authorization code obtained out
	// of band. Without it the operator puts a consent link in the Secret
	// named by status.authorizationSecretName and waits for consent through
	// its callback endpoint.
	// +optional
	AuthorizationCodeSecretRef *SecretKeySelector `json:"authorizationCodeSecretRef,omitempty"`
}

// OAuthClientSecretRef names the Secret with an OAuth client id and secret.
type OAuthClientSecretRef struct {
	// name of the Secret, in the HubSpotInstance's namespace.
	// +required
	Name SecretName `json:"name"`

	// clientIDKey is the key holding the client id.
	// +optional
	// +kubebuilder:default=client-id
	ClientIDKey SecretKey `json:"clientIDKey,omitempty"`

	// clientSecretKey is the key holding the client secret.
	// +optional
	// +kubebuilder:default=client-secret
	ClientSecretKey SecretKey `json:"clientSecretKey,omitempty"`
}

// OAuth2LegacyAuth configures HubSpot's legacy, portal-scoped OAuth flow.
type OAuth2LegacyAuth struct {
	// clientIDSecretRef points at the HubSpot OAuth client id.
	// +required
	ClientIDSecretRef SecretKeySelector `json:"clientIDSecretRef"`

	// portalID is the HubSpot portal (hub) id, digits only.
	// +required
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]+$')",message="portalID must contain digits only"
	PortalID string `json:"portalID"`

	// scopes requested; Cloud Elements needs at least contacts-rw and offline.
	// +optional
	// +listType=set
	// +kubebuilder:default={contacts-rw,offline}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.all(s, s.matches('^[^\\\\s+]+$'))",message="scopes must not contain whitespace or '+'"
	Scopes []string `json:"scopes,omitempty"`

	// callbackURL is the redirect URL registered in the HubSpot app.
	// +required
	CallbackURL HTTPURL `json:"callbackURL"`

	// tokensSecretRef names the Secret holding the access and refresh tokens
	// obtained in the legacy exchange.
	// +required
	TokensSecretRef LegacyTokensSecretRef `json:"tokensSecretRef"`
}

// LegacyTokensSecretRef names the Secret with legacy OAuth tokens.
type LegacyTokensSecretRef struct {
	// name of the Secret, in the HubSpotInstance's namespace.
	// +required
	Name SecretName `json:"name"`

	// accessTokenKey is the key holding the access token.
	// +optional
	// +kubebuilder:default=access-token
	AccessTokenKey SecretKey `json:"accessTokenKey,omitempty"`

	// refreshTokenKey is the key holding the refresh token.
	// +optional
	// +kubebuilder:default=refresh-token
	RefreshTokenKey SecretKey `json:"refreshTokenKey,omitempty"`

	// expiresInKey is the key holding the token lifetime in seconds.
	// +optional
	// +kubebuilder:default=expires-in
	ExpiresInKey SecretKey `json:"expiresInKey,omitempty"`
}

// APIKeyAuth configures provisioning with a HubSpot API key.
type APIKeyAuth struct {
	// secretRef points at the HubSpot API key.
	// +required
	SecretRef SecretKeySelector `json:"secretRef"`

	// createBulkProperties asks Cloud Elements to create HubSpot properties in bulk.
	// +optional
	CreateBulkProperties bool `json:"createBulkProperties,omitempty"`
}

// EventsSpec is the element's common event-notification configuration.
// +kubebuilder:validation:XValidation:rule="!has(self.poller) || !has(self.vendorType) || self.vendorType == 'polling'",message="events.poller may only be set when events.vendorType is polling",fieldPath=".poller"
type EventsSpec struct {
	// enabled turns event notifications on.
	// +optional
	Enabled bool `json:"enabled,omitempty"`

	// vendorType is how changes are detected: polling, or webhook (also
	// accepted as webhooks, the spelling of the vendor's HubSpot example).
	// The value is sent as written.
	// +optional
	// +kubebuilder:default=polling
	VendorType EventVendorType `json:"vendorType,omitempty"`

	// callbackURL is where Cloud Elements delivers events. The platform
	// marks it optional; when empty it is not sent.
	// +optional
	CallbackURL HTTPURL `json:"callbackURL,omitempty"`

	// pollerRefreshIntervalMinutes is the polling period, in minutes.
	// +optional
	// +kubebuilder:default=15
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1440
	PollerRefreshIntervalMinutes int32 `json:"pollerRefreshIntervalMinutes,omitempty"`

	// objects are the HubSpot objects to watch, e.g. contacts, companies.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.all(o, o.matches('^[A-Za-z0-9_.-]+$'))",message="events.objects entries must be object names without spaces or commas"
	Objects []string `json:"objects,omitempty"`

	// signatureKeySecretRef points at a key used to sign event deliveries.
	// +optional
	SignatureKeySecretRef *SecretKeySelector `json:"signatureKeySecretRef,omitempty"`

	// poller configures what Cloud Elements polls, resource by resource.
	// Only with vendorType polling; without it the element's own polling
	// defaults apply.
	// +optional
	Poller *EventPollerSpec `json:"poller,omitempty"`
}

// EventPollerSpec is the per-resource polling configuration
// (event.poller.configuration and event.poller.urls).
// +kubebuilder:validation:XValidation:rule="has(self.resources) || has(self.urls)",message="events.poller must set resources, urls or both"
type EventPollerSpec struct {
	// resources are sent as event.poller.configuration: a JSON object with
	// one entry per resource name.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Resources []EventPollerResource `json:"resources,omitempty"`

	// urls are sent as event.poller.urls, one entry per line. For HubSpot the
	// platform's own instances list the polled resource names here
	// (contacts, accounts).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.all(u, u.matches('^\\\\S([^\\\\r\\\\n]*\\\\S)?$'))",message="events.poller.urls entries must be single lines without leading or trailing whitespace: they are sent joined by newlines"
	URLs []string `json:"urls,omitempty"`
}

// EventPollerResource is how Cloud Elements polls one resource.
type EventPollerResource struct {
	// name is the resource's key in the poller configuration, e.g. contacts.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^\\\\S+$')",message="events.poller.resources[].name must not contain whitespace"
	Name string `json:"name"`

	// url is the request Cloud Elements makes to find changes: a path on the
	// element's own API, as in the vendor's HubSpot example
	// /hubs/crm/contacts?where=lastmodifieddate='${date}' (${date} is the
	// platform's placeholder and is sent as written).
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^/([^\\\\r\\\\n]*\\\\S)?$')",message="events.poller.resources[].url must be a path on the element's API starting with '/', such as /hubs/crm/contacts, on one line"
	URL string `json:"url"`

	// idField is the field that identifies a record, e.g. vid.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	IDField string `json:"idField,omitempty"`

	// datesConfiguration names the fields holding each record's updated and
	// created dates, and their formats.
	// +optional
	DatesConfiguration *EventPollerDates `json:"datesConfiguration,omitempty"`
}

// EventPollerDates names the date fields a poller compares. The JSON names
// are the platform's own: the operator sends this block as it stands.
type EventPollerDates struct {
	// updatedDateField is the field with the record's last update, e.g.
	// properties.lastmodifieddate.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	UpdatedDateField string `json:"updatedDateField,omitempty"`

	// updatedDateFormat is that field's format: milliseconds, or a Java date
	// pattern such as yyyy-MM-dd'T'HH:mm:ssXXX.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	UpdatedDateFormat string `json:"updatedDateFormat,omitempty"`

	// createdDateField is the field with the record's creation, e.g.
	// properties.createdate.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	CreatedDateField string `json:"createdDateField,omitempty"`

	// createdDateFormat is that field's format, like updatedDateFormat.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	CreatedDateFormat string `json:"createdDateFormat,omitempty"`
}

// TokenSecretSpec shapes the Secret that receives the element token.
type TokenSecretSpec struct {
	// name of the Secret; defaults to <metadata.name>-element-token. The
	// operator never writes over a Secret it does not own.
	// +optional
	Name SecretName `json:"name,omitempty"`

	// labels are added to the Secret.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// annotations are added to the Secret.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// template shapes the Secret's data for the workload that reads it.
	// Without it the Secret holds the keys token, instance-id, element-key
	// and endpoint.
	// +optional
	Template *TokenSecretTemplate `json:"template,omitempty"`
}

// TokenSecretTemplate renders the token Secret's data from Go templates.
type TokenSecretTemplate struct {
	// data maps each key of the Secret to a Go template (text/template) of
	// its value: text and actions, each action a value piped through
	// functions. Values: .Token (the element token), .InstanceID,
	// .ElementKey, .Endpoint and, only if it asks for them, the account's
	// .UserSecret and .OrganizationSecret ($.Token is .Token), and string
	// literals, for example
	// "User {{ .UserSecret }}, Organization {{ .OrganizationSecret }}, Element {{ .Token }}".
	// Functions: upper, lower, trim, trimPrefix, trimSuffix, replace (its
	// first argument a non-empty string literal), quote, squote, b64enc,
	// toJson (Sprig's names and argument order). Nothing else: no if, with,
	// range, variables, comparisons, printf, define, block or template calls,
	// so that a value never depends on a branch on a secret. A key may render
	// to at most 64 KiB and all keys to 512 KiB, with the longest values the
	// template may be given (8 KiB for the token and each account secret).
	// The Secret holds exactly these keys; it is rendered again whenever the
	// token, the instance or a value used changes.
	// +required
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() <= 253 && k.matches('^[-._a-zA-Z0-9]+$'))",message="template keys must be valid Secret keys: letters, digits, '-', '_' and '.', at most 253 characters"
	// +kubebuilder:validation:XValidation:rule="self.all(k, self[k].findAll('[{][{]').size() == self[k].findAll('[}][}]').size())",messageExpression="'template of key ' + self.filter(k, self[k].findAll('[{][{]').size() != self[k].findAll('[}][}]').size())[0] + ' does not parse: its {{ and }} do not pair up'"
	Data map[string]TemplateText `json:"data"`
}

// TemplateText is a Go template.
// +kubebuilder:validation:MaxLength=8192
type TemplateText string

// HubSpotInstanceStatus is the observed state of the element instance.
type HubSpotInstanceStatus struct {
	// observedGeneration is the generation last reconciled; -1 until the first reconcile.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, and Reconciling and Stalled while they are True (kstatus).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// instanceID is the element instance's id at Cloud Elements.
	// +optional
	InstanceID int64 `json:"instanceID,omitempty"`

	// instanceName is the element instance's name at Cloud Elements.
	// +optional
	InstanceName string `json:"instanceName,omitempty"`

	// valid mirrors the instance's valid flag: false means HubSpot no longer
	// accepts its authorization and it must be re-authorized.
	// +optional
	Valid bool `json:"valid,omitempty"`

	// disabled mirrors the instance's disabled flag.
	// +optional
	Disabled bool `json:"disabled,omitempty"`

	// tokenSecretName is the Secret holding the element token.
	// +optional
	TokenSecretName string `json:"tokenSecretName,omitempty"`

	// tokenHash is a keyed hash of the element token in the token Secret
	// (it cannot confirm a guess of the token). It moves when, and only
	// when, the token changes: wait on it, or copy it into a pod template to
	// roll the pods that read the Secret. The Secret's annotation
	// elements.cloud-elements.io/data-hash moves with any change of its
	// data, template inputs included.
	// +optional
	TokenHash string `json:"tokenHash,omitempty"`

	// lastTokenChangeTime is when tokenHash last moved.
	// +optional
	LastTokenChangeTime *metav1.Time `json:"lastTokenChangeTime,omitempty"`

	// tokenSecretResourceVersion is the token Secret's resourceVersion when
	// the operator last wrote or verified it: after a restart, a Secret still
	// at this version is known to hold what was written, without reading it.
	// +optional
	TokenSecretResourceVersion string `json:"tokenSecretResourceVersion,omitempty"`

	// instanceAccount is a keyed hash of the account (endpoint and the
	// credentials' values) the recorded instance was last seen in: a
	// recorded instance that is not found with other credentials may live in
	// another account, so the operator then creates nothing.
	// +optional
	InstanceAccount string `json:"instanceAccount,omitempty"`

	// instancePlatform is the endpoint and credentials (Secret and keys, never
	// values) the recorded instance lives behind; the operator refuses to
	// act on the instance through any other.
	// +optional
	InstancePlatform string `json:"instancePlatform,omitempty"`

	// authorizationSecretName names the Secret, in this namespace and owned
	// by this object, whose key "url" holds the link where a person consents
	// while the object waits for OAuth 2 authorization. The link itself is
	// never in status: it carries a signed, single-use state, and whoever
	// opens it first binds the instance to their own HubSpot portal, so only
	// those who may read Secrets in the namespace can read it. Get it with
	// kubectl get secret <authorizationSecretName> -o jsonpath='{.data.url}' | base64 -d.
	// The Secret is deleted once the instance is valid.
	// +optional
	AuthorizationSecretName string `json:"authorizationSecretName,omitempty"`

	// authorizationExpiresAt is when the consent link expires; a fresh one
	// replaces it shortly before.
	// +optional
	AuthorizationExpiresAt *metav1.Time `json:"authorizationExpiresAt,omitempty"`

	// authorizationNonce identifies the one consent link whose callback is
	// accepted; a used or superseded link is refused. It is useless without
	// the signed state the link carries.
	// +optional
	AuthorizationNonce string `json:"authorizationNonce,omitempty"`

	// appliedConfigurationHash is a hash of the name, tags, configuration and
	// secret values last sent to Cloud Elements; they come back masked, so this
	// is how the operator knows whether an update is due.
	// +optional
	AppliedConfigurationHash string `json:"appliedConfigurationHash,omitempty"`

	// appliedAuthorizationHash is a hash of the authorization last sent (an
	// OAuth 2 code, the OAuth 2 Legacy tokens, the API key): a spent code is
	// never sent again, and new credentials are sent through the platform's
	// re-authentication call.
	// +optional
	AppliedAuthorizationHash string `json:"appliedAuthorizationHash,omitempty"`

	// drift lists how the element instance differs from the spec, as last
	// observed, while managementPolicy is ObserveOnly (Full changes the
	// instance instead): its name, its tags (the operator's own k8s: tags
	// aside) and each configuration key whose value Cloud Elements returns
	// readable. Secret values come back masked and are not compared; nor are
	// values from Secrets the operator could not read. Values are never
	// shown, only keys. Empty when nothing differs.
	// +optional
	// +listType=atomic
	Drift []string `json:"drift,omitempty"`

	// lastSyncTime is when the operator last created, imported or updated the
	// instance (drift polls that find nothing to do do not move it, so a
	// quiet object is never rewritten).
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// lastHandledReconcileAt echoes the reconcile.fluxcd.io/requestedAt
	// annotation last handled.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// HubSpotInstance declares a HubSpot CRM element instance at Cloud Elements and
// the Secret that receives its element token. Annotations it reads:
// elements.cloud-elements.io/instance-id imports (or, with managementPolicy
// ObserveOnly, observes) an existing instance; elements.cloud-elements.io/deletion-protection
// set to "true" (any other value is off) forbids deleting the instance at
// Cloud Elements; reconcile.fluxcd.io/requestedAt asks for a full check now;
// elements.cloud-elements.io/hand-over-to, "<namespace>/<name>" on an object
// deleted with deletionPolicy Orphan, re-tags its instance for that object,
// which adopts it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hsi,categories=elements
// +kubebuilder:printcolumn:name="Auth",type=string,JSONPath=`.spec.auth.type`
// +kubebuilder:printcolumn:name="Instance",type=integer,JSONPath=`.status.instanceID`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 239",message="metadata.name must be at most 239 characters: the token Secret is named <name>-element-token"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.status) || !has(oldSelf.status.instanceID) || oldSelf.status.instanceID == 0 || self.spec.platform == oldSelf.spec.platform",message="spec.platform is immutable once an element instance is recorded (status.instanceID): the instance lives in that account at that endpoint; to move, delete this object (deletionPolicy Orphan keeps the instance) and create a new one"
type HubSpotInstance struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec HubSpotInstanceSpec `json:"spec"`

	// +optional
	// +kubebuilder:default={"observedGeneration":-1}
	Status HubSpotInstanceStatus `json:"status,omitempty"`
}

// HubSpotInstanceList is a list of HubSpotInstances.
// +kubebuilder:object:root=true
type HubSpotInstanceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HubSpotInstance `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HubSpotInstance{}, &HubSpotInstanceList{})
}
