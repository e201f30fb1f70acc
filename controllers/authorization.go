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
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
)

// StateIssuer signs the OAuth `state` that ties a consent to one object.
type StateIssuer interface {
	Issue(namespace, name, uid string) (string, oauthstate.Claims, error)
}

// authorizationRefreshMargin republishes a link shortly before its state
// expires, so the Secret never holds a link that dies while a person opens it.
const authorizationRefreshMargin = 30 * time.Second

// awaitAuthorization publishes a consent link and waits for consent. The
// link goes into the consent-link Secret, and status names that Secret: the
// link is written only when a new one is issued, so at rest nothing is.
func (r *HubSpotInstanceReconciler) awaitAuthorization(ctx context.Context, s *session, reason string) error {
	obj := s.obj
	st := &obj.Status
	fresh := r.freshURLRequested(obj)
	if s.in.denied != "" {
		if !fresh {
			if err := r.dropConsentLink(ctx, s); err != nil {
				return err
			}
			s.conclude(outcome{reason: elementsv1alpha1.ReasonAuthorizationDenied, stalled: true,
				message: "HubSpot consent was declined (" + s.in.denied + "); change the spec or annotate " +
					elementsv1alpha1.ReconcileRequestAnnotation + " for a fresh consent link"})
			return nil
		}
		if err := r.deleteCallbackSecret(ctx, obj); err != nil {
			return err
		}
	}

	message := awaitingMessage(obj)
	if reason == elementsv1alpha1.ReasonReauthorizationRequired {
		message = "HubSpot no longer accepts element instance " + formatID(st.InstanceID) + "'s authorization: " + message
	}
	link, err := r.inspectConsentLink(ctx, s)
	if err != nil {
		return err
	}
	if !fresh && link == linkCurrent && st.AuthorizationExpiresAt != nil {
		if left := st.AuthorizationExpiresAt.Sub(r.now()) - authorizationRefreshMargin; left > 0 {
			s.conclude(outcome{reason: reason, message: message, progressing: true})
			s.requeueAfter = left
			return nil
		}
	}

	state, claims, err := r.states.Issue(obj.Namespace, obj.Name, string(obj.UID))
	if err != nil {
		return fmt.Errorf("signing OAuth state: %w", err)
	}
	oauth := obj.Spec.Auth.OAuth2
	resp, err := s.api.OAuthURL(ctx, cloudelements.OAuthURLRequest{
		APIKey: s.in.clientID, APISecret: s.in.clientSecret, Scopes: oauth.Scopes,
		CallbackURL: string(oauth.CallbackURL), State: state,
	})
	if err != nil {
		return classifyAPIError("getting the OAuth authorization URL", err)
	}
	// The Secret first: status names a nonce only once its link is readable.
	if err := r.writeConsentLink(ctx, s, link, resp.OAuthURL, claims.Nonce); err != nil {
		return err
	}
	expires := metav1.NewTime(claims.ExpiresAt)
	st.AuthorizationSecretName, st.AuthorizationNonce, st.AuthorizationExpiresAt = obj.AuthorizationSecretName(), claims.Nonce, &expires
	s.conclude(outcome{reason: reason, message: message, progressing: true})
	s.requeueAfter = max(claims.ExpiresAt.Sub(r.now())-authorizationRefreshMargin, time.Second)
	return nil
}

// awaitingMessage tells a person the one command that prints the link.
func awaitingMessage(obj *elementsv1alpha1.HubSpotInstance) string {
	return "open the consent link in a browser and consent in HubSpot; the operator completes the rest. The link is in Secret " +
		obj.AuthorizationSecretName() + ": " + consentCommand(obj)
}

// freshURLRequested: a person asked for a new URL, by editing the spec or
// with the reconcile.fluxcd.io/requestedAt annotation.
func (r *HubSpotInstanceReconciler) freshURLRequested(obj *elementsv1alpha1.HubSpotInstance) bool {
	return obj.Generation != obj.Status.ObservedGeneration || reconcileRequested(obj)
}

// consumeCode deletes a code the callback server handed over: codes are
// single-use, so keeping it could only produce a failure later.
func (r *HubSpotInstanceReconciler) consumeCode(ctx context.Context, s *session) {
	if !s.in.codeIsOurs {
		return
	}
	if err := r.deleteCallbackSecret(ctx, s.obj); err != nil {
		log.FromContext(ctx).Error(err, "deleting a used authorization code; it will be retried")
	}
	s.in.code, s.in.codeIsOurs = "", false
}

func (r *HubSpotInstanceReconciler) deleteCallbackSecret(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) error {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.CallbackSecretName()}}
	if err := r.Delete(ctx, sec); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting Secret %s/%s: %w", sec.Namespace, sec.Name, err)
	}
	return nil
}

// readCallbackSecret loads what the callback server left for this object, if
// anything. The metadata cache answers "is there one" without a read; only a
// Secret that exists and that this object controls is read and trusted.
func (r *HubSpotInstanceReconciler) readCallbackSecret(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance, in *inputs) error {
	key := client.ObjectKey{Namespace: obj.Namespace, Name: obj.CallbackSecretName()}
	if exists, err := r.secretExists(ctx, key); err != nil || !exists {
		return err
	}
	sec := &corev1.Secret{}
	if err := r.apiReader.Get(ctx, key, sec); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(sec, obj) {
		return nil
	}
	if code := string(sec.Data[elementsv1alpha1.CallbackCodeKey]); code != "" {
		in.code, in.codeSecret, in.codeIsOurs = code, sec.Name, true
	}
	if denied := string(sec.Data[elementsv1alpha1.CallbackErrorKey]); denied != "" {
		if desc := string(sec.Data[elementsv1alpha1.CallbackErrorDescriptionKey]); desc != "" {
			denied += ": " + desc
		}
		in.denied = denied
	}
	return nil
}

func (r *HubSpotInstanceReconciler) secretExists(ctx context.Context, key client.ObjectKey) (bool, error) {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := r.Get(ctx, key, m); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
