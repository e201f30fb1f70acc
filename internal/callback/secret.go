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

package callback

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// NonceAnnotation on the callback Secret names the authorization link (its
// state's nonce) the Secret answers. Writing the Secret is the moment a
// state is used, so the Secret itself is where two requests carrying the
// same state are told apart: only the first may write it.
const NonceAnnotation = elementsv1alpha1.AuthorizationNonceAnnotation

// maxWriteAttempts bounds the retries of an optimistic write that keeps
// losing to other writers; a handful of losses in a row means something is
// fighting us, and the person is better told so than kept waiting.
const maxWriteAttempts = 4

// fieldOwner names the operator in managedFields, as its other writes do.
var fieldOwner = client.FieldOwner(elementsv1alpha1.FieldManager)

// deliver writes the callback Secret the reconciler reads: the code, or the
// provider's refusal. It creates the Secret, or replaces one this object
// controls that answers an older URL; a Secret that already answers this
// URL with other data means a second, different response to the same state,
// which is refused. Every write is conditional on what was read, so
// concurrent requests cannot both win.
func (h *Handler) deliver(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance, nonce string, data map[string][]byte) *refusal {
	desired := callbackSecret(obj, nonce, data)
	key := client.ObjectKeyFromObject(desired)
	for range maxWriteAttempts {
		current := &corev1.Secret{}
		err := h.reader.Get(ctx, key, current)
		switch {
		case apierrors.IsNotFound(err):
			err = h.writer.Create(ctx, desired.DeepCopy(), fieldOwner)
			if apierrors.IsAlreadyExists(err) {
				continue
			}
		case err != nil:
			return apiFailure(fmt.Errorf("reading Secret %s: %w", key, err))

		case metav1.IsControlledBy(current, obj) && current.Annotations[NonceAnnotation] == nonce:
			if sameData(current.Data, data) {
				// The very same response again (a reload while the first
				// request was still finishing): nothing to change.
				return nil
			}
			return &refusal{status: http.StatusConflict, result: resultReplayedState,
				reason: "This authorization link was already used. Each link works once; the current one, if consent is still needed, is in Secret " + obj.AuthorizationSecretName() + "."}

		case metav1.IsControlledBy(current, obj):
			// An answer to an older URL the reconciler has not cleaned up
			// yet; this newer one supersedes it.
			patch := client.MergeFromWithOptions(current.DeepCopy(), client.MergeFromWithOptimisticLock{})
			current.Data = data
			current.StringData = nil
			if current.Labels == nil {
				current.Labels = map[string]string{}
			}
			for k, v := range desired.Labels {
				current.Labels[k] = v
			}
			if current.Annotations == nil {
				current.Annotations = map[string]string{}
			}
			current.Annotations[NonceAnnotation] = nonce
			err = h.writer.Patch(ctx, current, patch, fieldOwner)
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				continue
			}

		case controlledByPredecessor(current, obj):
			// Left behind by a deleted object of the same name: garbage
			// collection would remove it, and may simply not have yet.
			err = h.writer.Delete(ctx, current, client.Preconditions{UID: &current.UID, ResourceVersion: &current.ResourceVersion})
			if err == nil || apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				continue
			}

		default:
			return &refusal{status: http.StatusConflict, result: resultSecretConflict,
				cause: fmt.Errorf("Secret %s exists and is not controlled by HubSpotInstance %s/%s", key, obj.Namespace, obj.Name),
				reason: "A Secret named " + key.Name + " already exists in namespace " + key.Namespace +
					" and does not belong to this HubSpotInstance, so the operator will not overwrite it. Delete or rename that Secret, then ask for a fresh authorization link."}
		}
		if err != nil {
			return apiFailure(fmt.Errorf("writing Secret %s: %w", key, err))
		}
		return nil
	}
	return retryLater(fmt.Errorf("writing Secret %s: it changed under us %d times in a row", key, maxWriteAttempts))
}

// consumeNonce clears the object's authorization nonce, expiry and
// consent-link Secret name, so the state just used is refused from now on
// and status no longer points at a dead link (the reconciler replaces or
// deletes the link itself). The patch carries the resourceVersion it was
// computed from: it can never clear a newer link the reconciler published
// meanwhile.
func (h *Handler) consumeNonce(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance, nonce string) error {
	uid := obj.UID
	key := client.ObjectKeyFromObject(obj)
	obj = obj.DeepCopy()
	for attempt := 1; ; attempt++ {
		if obj.UID != uid || obj.Status.AuthorizationNonce != nonce {
			// Used already: by the reconciler, which clears it once the
			// instance is valid, or by the twin of this very request.
			return nil
		}
		before := obj.DeepCopy()
		obj.Status.AuthorizationNonce, obj.Status.AuthorizationSecretName, obj.Status.AuthorizationExpiresAt = "", "", nil
		err := h.writer.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), fieldOwner)
		switch {
		case err == nil, apierrors.IsNotFound(err):
			return nil
		case !apierrors.IsConflict(err):
			return err
		case attempt == maxWriteAttempts:
			return fmt.Errorf("HubSpotInstance %s changed under us %d times in a row: %w", key, maxWriteAttempts, err)
		}
		obj = &elementsv1alpha1.HubSpotInstance{}
		if err := h.reader.Get(ctx, key, obj); err != nil {
			return client.IgnoreNotFound(err)
		}
	}
}

// callbackSecret is the Secret through which the reconciler receives the answer.
func callbackSecret(obj *elementsv1alpha1.HubSpotInstance, nonce string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   obj.Namespace,
			Name:        obj.CallbackSecretName(),
			Labels:      obj.OwnedSecretLabels(nil),
			Annotations: map[string]string{NonceAnnotation: nonce},
			// The reconciler trusts only a Secret its object controls.
			OwnerReferences: []metav1.OwnerReference{obj.ControllerReference()},
		},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
}

// controlledByPredecessor: the Secret's controller is a HubSpotInstance of
// the same name as obj but another UID, that is a deleted incarnation.
func controlledByPredecessor(secret *corev1.Secret, obj *elementsv1alpha1.HubSpotInstance) bool {
	owner := metav1.GetControllerOfNoCopy(secret)
	if owner == nil || owner.Kind != "HubSpotInstance" || owner.Name != obj.Name || owner.UID == obj.UID {
		return false
	}
	gv, err := schema.ParseGroupVersion(owner.APIVersion)
	return err == nil && gv.Group == elementsv1alpha1.GroupVersion.Group
}

// sameData compares in constant time: one side is a credential.
func sameData(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	equal := 1
	for k, v := range b {
		w, ok := a[k]
		if !ok {
			return false
		}
		equal &= subtle.ConstantTimeCompare(v, w)
	}
	return equal == 1
}
