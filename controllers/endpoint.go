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
	"net"
	"net/url"
	"slices"
	"strings"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// DefaultAllowedEndpointHosts are the public Cloud Elements and SAP Open
// Connectors API hosts (see docs/cloud-elements-api.md for their sources).
var DefaultAllowedEndpointHosts = []string{
	"api.cloud-elements.com",
	"api.openconnectors.us2.ext.hana.ondemand.com",
}

// EndpointPolicy says where the operator may send an account's credentials.
// Creating a HubSpotInstance amounts to using its namespace's Secrets, so the
// endpoint, which a namespace user chooses, is checked before any of them is
// read.
type EndpointPolicy struct {
	// AllowedHosts are host names (case-insensitive) credentials may go to.
	AllowedHosts []string
	// AllowLoopback permits 127.0.0.0/8, ::1 and localhost on any port: a
	// local stand-in for the platform, such as the project's simulator.
	AllowLoopback bool
	// AllowInsecure permits plain http to allowed non-loopback hosts.
	AllowInsecure bool
}

// DefaultEndpointPolicy allows the public API hosts over https only.
func DefaultEndpointPolicy() EndpointPolicy {
	return EndpointPolicy{AllowedHosts: slices.Clone(DefaultAllowedEndpointHosts)}
}

// checkEndpoint refuses an endpoint credentials must not be sent to: not an
// absolute http(s) URL, a host off the allow-list, or plain http except to
// loopback or when explicitly allowed.
func checkEndpoint(endpoint string, policy EndpointPolicy) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		shown := endpoint
		if err == nil {
			shown = u.Redacted() // a password in the URL is not repeated
		}
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"spec.platform.endpoint %q is not an absolute http(s) URL without credentials", shown)
	}
	host := strings.ToLower(u.Hostname())
	loopback := isLoopback(host)
	switch {
	case loopback && !policy.AllowLoopback:
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"spec.platform.endpoint host %q is not allowed: loopback endpoints need --allow-loopback-endpoints", host)
	case !loopback && !slices.ContainsFunc(policy.AllowedHosts, func(h string) bool { return strings.EqualFold(h, host) }):
		allowed := strings.Join(policy.AllowedHosts, ", ")
		if allowed == "" {
			allowed = "no host"
		}
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"spec.platform.endpoint host %q is not allowed: the operator sends account credentials only to %s (--allowed-endpoint-hosts)",
			host, allowed)
	case u.Scheme == "http" && !loopback && !policy.AllowInsecure:
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"spec.platform.endpoint %q would send credentials over plain http: use https, or start the operator with --allow-insecure-endpoints", endpoint)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// platformIdentity names where an instance lives: the endpoint and the
// credentials Secret and keys (never their values).
func platformIdentity(obj *elementsv1alpha1.HubSpotInstance) string {
	creds := obj.Spec.Platform.CredentialsSecretRef
	return obj.Spec.Platform.GetEndpoint() + " with Secret " + string(creds.Name) +
		" keys " + string(creds.GetUserSecretKey()) + "," + string(creds.GetOrganizationSecretKey())
}

// checkPlatformUnchanged refuses to reach the recorded instance through
// another endpoint or account: it would not be found there, and a second
// instance would be created while the first leaked (admission refuses the
// change; objects stored before that rule existed meet this check).
func checkPlatformUnchanged(obj *elementsv1alpha1.HubSpotInstance, reason string) error {
	bound := obj.Status.InstancePlatform
	if obj.Status.InstanceID == 0 || bound == "" || bound == platformIdentity(obj) {
		return nil
	}
	return stalledError(reason,
		"spec.platform changed since element instance %d was recorded (it lives at %s): set spec.platform back; to move, delete this object with deletionPolicy Orphan and create a new one",
		obj.Status.InstanceID, bound)
}
