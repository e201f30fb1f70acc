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
	"strings"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// reportHealth turns what Cloud Elements last said about the instance into
// the outcome: a lapsed OAuth 2 authorization asks for a fresh consent; the
// other modes need a person to change the credentials.
func (r *HubSpotInstanceReconciler) reportHealth(ctx context.Context, s *session) error {
	st := &s.obj.Status
	switch {
	case !st.Valid && s.obj.Spec.Auth.Type == elementsv1alpha1.AuthTypeOAuth2:
		return r.awaitAuthorization(ctx, s, elementsv1alpha1.ReasonReauthorizationRequired)
	case !st.Valid:
		message := "Cloud Elements reports element instance " + formatID(st.InstanceID) +
			" as invalid: HubSpot no longer accepts its credentials; " + reauthorizationHint(s.obj)
		if len(s.in.unavailable) > 0 {
			message += " (" + strings.Join(s.in.unavailable, "; ") + ")"
		}
		s.conclude(outcome{reason: elementsv1alpha1.ReasonReauthorizationRequired, stalled: true, message: message})
	case st.Disabled:
		// A person disabled it; it will not heal by itself, so it is
		// Stalled (kstatus Failed, Argo CD Degraded), and still polled so
		// that enabling it again is noticed.
		s.conclude(outcome{reason: elementsv1alpha1.ReasonInstanceDisabled, stalled: true,
			message: "element instance " + formatID(st.InstanceID) + " is disabled at Cloud Elements; enable it there"})
	}
	return nil
}

// reauthorizationHint says where new credentials go.
func reauthorizationHint(obj *elementsv1alpha1.HubSpotInstance) string {
	auth := obj.Spec.Auth
	switch {
	case auth.OAuth2Legacy != nil:
		return "put new tokens in Secret " + obj.Namespace + "/" + string(auth.OAuth2Legacy.TokensSecretRef.Name)
	case auth.APIKey != nil:
		return "put a new key in Secret " + obj.Namespace + "/" + string(auth.APIKey.SecretRef.Name) + " key " + string(auth.APIKey.SecretRef.Key)
	}
	return "update the credentials in the referenced Secret"
}
