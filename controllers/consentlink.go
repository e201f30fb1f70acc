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
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// The consent link — the authorization URL with its signed state — is a
// bearer credential until it is used: whoever opens it first binds the
// instance to their own HubSpot portal. So it lives in a Secret the object
// owns, which those who may read the namespace's Secrets can read (they can
// read the account credentials too), and never in status, which the viewer
// role (aggregated into "view") can read. Status only names the Secret.

// linkState is what the reconciler knows about the consent-link Secret.
type linkState int

const (
	// linkMissing: there is no Secret of that name.
	linkMissing linkState = iota
	// linkStale: the Secret is ours but does not hold the link status
	// names (used, superseded, edited, or never finished).
	linkStale
	// linkCurrent: the Secret holds the link status names.
	linkCurrent
)

// inspectConsentLink looks at the consent-link Secret. The metadata cache
// answers at rest; the Secret is read past the cache only when the cache
// does not show the version last written or checked (after a restart, an
// edit, or while the cache lags behind our own write, which must not pass
// for a missing link: a fresh one would replace the link a person may be
// opening). A Secret of that name this object does not control is never
// touched.
func (r *HubSpotInstanceReconciler) inspectConsentLink(ctx context.Context, s *session) (linkState, error) {
	obj := s.obj
	name := obj.AuthorizationSecretName()
	if name == obj.TokenSecretName() {
		return 0, stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"spec.tokenSecret.name is %s, the name of the Secret that holds the OAuth 2 consent link: choose another", name)
	}
	key := client.ObjectKey{Namespace: obj.Namespace, Name: name}
	mem := s.mem
	m := secretMetadata(obj.Namespace, name)
	err := r.Get(ctx, key, m)
	switch {
	case apierrors.IsNotFound(err) && mem.linkVersion == "":
		return linkMissing, nil
	case err != nil && !apierrors.IsNotFound(err):
		return 0, fmt.Errorf("reading Secret %s metadata: %w", key, err)
	case err == nil && !metav1.IsControlledBy(m, obj):
		return 0, consentLinkConflict(obj)
	case err == nil && m.ResourceVersion == mem.linkVersion:
		// As we last wrote or checked it: its link is the one remembered.
		// (The cache keeps no annotations — see the manager's cache
		// transform — so the nonce we wrote is remembered too.)
		if namesLink(obj, mem.linkNonce) {
			return linkCurrent, nil
		}
		return linkStale, nil
	}
	live := &corev1.Secret{}
	if err := r.apiReader.Get(ctx, key, live); err != nil {
		if apierrors.IsNotFound(err) {
			return linkMissing, nil
		}
		return 0, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	if !metav1.IsControlledBy(live, obj) {
		return 0, consentLinkConflict(obj)
	}
	link := string(live.Data[elementsv1alpha1.AuthorizationURLKey])
	digest := linkDigest(link)
	if link == "" || !namesLink(obj, live.Annotations[elementsv1alpha1.AuthorizationNonceAnnotation]) ||
		(mem.linkDigest != "" && mem.linkDigest != digest) { // edited since we wrote it
		return linkStale, nil
	}
	r.rememberLink(s, live.ResourceVersion, digest, live.Annotations[elementsv1alpha1.AuthorizationNonceAnnotation])
	return linkCurrent, nil
}

// namesLink: status names this Secret, and the link with this nonce.
func namesLink(obj *elementsv1alpha1.HubSpotInstance, nonce string) bool {
	st := obj.Status
	return st.AuthorizationSecretName == obj.AuthorizationSecretName() && st.AuthorizationNonce != "" && nonce == st.AuthorizationNonce
}

// writeConsentLink puts a freshly issued link into the Secret: created when
// there is none, otherwise applied over ours, conditional on the
// resourceVersion whose ownership was just checked.
func (r *HubSpotInstanceReconciler) writeConsentLink(ctx context.Context, s *session, state linkState, link, nonce string) error {
	obj := s.obj
	desired := consentLinkSecret(obj, link, nonce)
	if state == linkMissing {
		rv, err := r.createOwnedSecret(ctx, obj, desired)
		if err != nil || rv != "" {
			if rv != "" {
				r.rememberLink(s, rv, linkDigest(link), nonce)
			}
			return err
		}
	}
	current, err := r.readOwnedSecret(ctx, obj, desired.Name, func() error { return consentLinkConflict(obj) })
	if err != nil {
		return err
	}
	rv, err := r.applyOwnedSecret(ctx, obj, desired, current)
	if err != nil {
		return err
	}
	r.rememberLink(s, rv, linkDigest(link), nonce)
	return nil
}

// retireConsentLink is the step that deletes the consent link once the
// instance is valid: consent was given, and the link is dead weight.
func (r *HubSpotInstanceReconciler) retireConsentLink(ctx context.Context, s *session) error {
	if !s.obj.Status.Valid || instanceIDOf(s.obj) == 0 {
		return nil
	}
	return r.dropConsentLink(ctx, s)
}

// dropConsentLink deletes the consent-link Secret, if this object controls
// one, and clears the link's traces from status. It reads the metadata
// cache, so when there is nothing to drop it costs nothing.
func (r *HubSpotInstanceReconciler) dropConsentLink(ctx context.Context, s *session) error {
	obj := s.obj
	name := obj.AuthorizationSecretName()
	if name != obj.TokenSecretName() {
		m := secretMetadata(obj.Namespace, name)
		key := client.ObjectKeyFromObject(m)
		err := r.Get(ctx, key, m)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("reading Secret %s metadata: %w", key, err)
		case metav1.IsControlledBy(m, obj):
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: name}}
			if err := r.Delete(ctx, sec, client.Preconditions{UID: &m.UID}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting Secret %s: %w", key, err)
			}
		}
	}
	st := &obj.Status
	st.AuthorizationSecretName, st.AuthorizationNonce, st.AuthorizationExpiresAt = "", "", nil
	r.rememberLink(s, "", "", "")
	return nil
}

func consentLinkConflict(obj *elementsv1alpha1.HubSpotInstance) error {
	name := obj.AuthorizationSecretName()
	return stalledError(elementsv1alpha1.ReasonSecretConflict,
		"Secret %s/%s already exists and is not owned by this HubSpotInstance; the operator keeps the OAuth 2 consent link in a Secret of that name and will not overwrite it: delete or rename it",
		obj.Namespace, name)
}

// consentLinkSecret is the Secret a person reads the consent link from.
func consentLinkSecret(obj *elementsv1alpha1.HubSpotInstance, link, nonce string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       obj.Namespace,
			Name:            obj.AuthorizationSecretName(),
			Labels:          obj.OwnedSecretLabels(nil),
			Annotations:     map[string]string{elementsv1alpha1.AuthorizationNonceAnnotation: nonce},
			OwnerReferences: []metav1.OwnerReference{obj.ControllerReference()},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{elementsv1alpha1.AuthorizationURLKey: []byte(link)},
	}
}

// consentCommand is the one command that prints the consent link.
func consentCommand(obj *elementsv1alpha1.HubSpotInstance) string {
	return "kubectl get secret " + obj.AuthorizationSecretName() + " -n " + obj.Namespace +
		" -o jsonpath='{.data." + elementsv1alpha1.AuthorizationURLKey + "}' | base64 -d"
}

func (r *HubSpotInstanceReconciler) rememberLink(s *session, version, digest, nonce string) {
	s.remember(func(m *remembered) { m.linkVersion, m.linkDigest, m.linkNonce = version, digest, nonce })
}

// linkDigest fingerprints a link, so an edit of the Secret is noticed
// without keeping the link itself in memory.
func linkDigest(link string) string {
	sum := sha256.Sum256([]byte(link))
	return hex.EncodeToString(sum[:8])
}
