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

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// reauthorize exchanges a fresh OAuth 2 code for an instance whose
// authorization lapsed, keeping its id.
func (r *HubSpotInstanceReconciler) reauthorize(ctx context.Context, s *session) error {
	obj := s.obj
	id := obj.Status.InstanceID
	if id == 0 || obj.Status.Valid || obj.Spec.Auth.Type != elementsv1alpha1.AuthTypeOAuth2 || s.in.code == "" {
		return nil
	}
	req := s.desired
	req.ProviderData = &cloudelements.ProviderData{Code: s.in.code}
	inst, err := s.api.ReauthorizeInstance(ctx, id, req)
	if err != nil {
		if cloudelements.IsInvalidRequest(err) {
			r.consumeCode(ctx, s)
		}
		return classifyAPIError("re-authorizing element instance "+formatID(id), err)
	}
	r.consumeCode(ctx, s)
	obj.Status.AppliedConfigurationHash = s.hash
	obj.Status.LastSyncTime = r.metaNow()
	r.announce(s, elementsv1alpha1.EventReasonReauthorized, "Reauthorize", "element instance "+formatID(id)+" re-authorized")
	r.observe(s, inst)
	return nil
}

// reportHealth turns what Cloud Elements last said about the instance into
// the outcome: a lapsed OAuth 2 authorization asks for a fresh consent; the
// other modes need a person to change the credentials.
func (r *HubSpotInstanceReconciler) reportHealth(ctx context.Context, s *session) error {
	st := &s.obj.Status
	switch {
	case !st.Valid && s.obj.Spec.Auth.Type == elementsv1alpha1.AuthTypeOAuth2:
		return r.awaitAuthorization(ctx, s, elementsv1alpha1.ReasonReauthorizationRequired)
	case !st.Valid:
		s.conclude(outcome{reason: elementsv1alpha1.ReasonReauthorizationRequired, stalled: true,
			message: "Cloud Elements reports element instance " + formatID(st.InstanceID) +
				" as invalid: HubSpot no longer accepts its credentials; update them in the referenced Secret"})
	case st.Disabled:
		// A person disabled it; it will not heal by itself, so it is
		// Stalled (kstatus Failed, Argo CD Degraded), and still polled so
		// that enabling it again is noticed.
		s.conclude(outcome{reason: elementsv1alpha1.ReasonInstanceDisabled, stalled: true,
			message: "element instance " + formatID(st.InstanceID) + " is disabled at Cloud Elements; enable it there"})
	}
	return nil
}
