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
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/tokentemplate"
)

// tokenSecretState is what the metadata cache says about the token Secret.
type tokenSecretState struct {
	name    string
	missing bool
	// inSync: the Secret is exactly as we last wrote or checked it, so its
	// data need not be read again.
	inSync bool
	// unchecked: this process never wrote or checked it (it restarted), and
	// the account's listing will bring the token to check it by.
	unchecked bool
	// inheritedToken is status.tokenHash when the Secret is taken as the
	// last process left it: the listing checks the token against it.
	inheritedToken string
}

// needsToken: the Secret is missing, or out of sync and no listing will
// bring the token, so the instance must be read now.
func (t tokenSecretState) needsToken() bool { return t.missing || (!t.inSync && !t.unchecked) }

// inspectTokenSecret looks at the token Secret's metadata only. A Secret of
// that name that this object does not control is never touched: taking it
// over could destroy somebody's credentials.
func (r *HubSpotInstanceReconciler) inspectTokenSecret(ctx context.Context, s *session) error {
	obj := s.obj
	name := obj.TokenSecretName()
	s.tokenSecret = tokenSecretState{name: name}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := r.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: name}, m)
	switch {
	case apierrors.IsNotFound(err):
		s.tokenSecret.missing = true
		return nil
	case err != nil:
		return fmt.Errorf("reading Secret %s/%s metadata: %w", obj.Namespace, name, err)
	case !metav1.IsControlledBy(m, obj):
		return secretConflict(obj, name)
	}
	mem := s.mem
	shape := r.secretShapeDigest(s, instanceIDOf(obj))
	if mem.secretVersion == "" && r.writtenByPreviousProcess(s, m.ResourceVersion) {
		// A restart: the Secret is as the last process left it, for this
		// very spec, so it need not be read; the listing checks the token
		// against status.tokenHash.
		r.rememberSecret(s, m.ResourceVersion, shape)
		s.tokenSecret.inSync, s.tokenSecret.inheritedToken = true, obj.Status.TokenHash
		return nil
	}
	s.tokenSecret.inSync = mem.secretVersion == m.ResourceVersion && mem.secretDigest == shape
	s.tokenSecret.unchecked = mem.secretVersion == "" && r.drift != nil
	return nil
}

// writtenByPreviousProcess: status says the last reconcile of this very
// generation ended Ready with the token Secret at version. A template that
// uses the account's secrets may need rendering again (they may have
// rotated meanwhile), so it is read as usual.
func (r *HubSpotInstanceReconciler) writtenByPreviousProcess(s *session, version string) bool {
	st := s.obj.Status
	return st.TokenSecretResourceVersion == version && st.TokenHash != "" &&
		st.ObservedGeneration == s.obj.Generation &&
		meta.IsStatusConditionTrue(st.Conditions, elementsv1alpha1.ConditionReady) &&
		(s.template == nil || !s.template.UsesAccountSecrets())
}

// reconcileTokenSecret writes the element token into the Secret when it is
// missing, was edited by someone else, or should look different.
func (r *HubSpotInstanceReconciler) reconcileTokenSecret(ctx context.Context, s *session) error {
	obj := s.obj
	name := s.tokenSecret.name
	obj.Status.TokenSecretName = name
	if s.instance == nil && !s.tokenSecret.needsToken() {
		// In sync, or unchecked since a restart: the account's listing
		// brings the token to check it with.
		return nil
	}
	if s.instance == nil || s.instance.Token == "" {
		// A call was due (needsToken) but no token came back.
		return transientError(elementsv1alpha1.ReasonAPIUnavailable,
			fmt.Errorf("Cloud Elements returned no element token for instance %d", obj.Status.InstanceID))
	}
	desired, err := r.desiredTokenSecret(s)
	if err != nil {
		return err
	}
	digest := r.secretShapeDigest(s, s.instance.ID)
	r.recordTokenHash(obj, r.tokenHash(obj.UID, s.instance.Token))

	if s.tokenSecret.missing {
		if created, err := r.createTokenSecret(ctx, s, desired, digest); created || err != nil {
			return err
		}
	}
	return r.updateTokenSecret(ctx, s, desired, digest)
}

// recordTokenHash publishes the hash of the token in status, and when it
// moved.
func (r *HubSpotInstanceReconciler) recordTokenHash(obj *elementsv1alpha1.HubSpotInstance, hash string) {
	if obj.Status.TokenHash == hash {
		return
	}
	obj.Status.TokenHash = hash
	obj.Status.LastTokenChangeTime = r.metaNow()
}

// createTokenSecret creates the Secret; false without an error when one of
// that name appeared meanwhile.
func (r *HubSpotInstanceReconciler) createTokenSecret(ctx context.Context, s *session, desired *corev1.Secret, digest string) (bool, error) {
	obj := s.obj
	rv, err := r.createOwnedSecret(ctx, obj, desired)
	if rv != "" {
		r.rememberSecret(s, rv, digest)
	}
	return rv != "", err
}

// updateTokenSecret brings an existing Secret to the desired shape, after
// checking on the live copy that it is ours.
func (r *HubSpotInstanceReconciler) updateTokenSecret(ctx context.Context, s *session, desired *corev1.Secret, digest string) error {
	obj := s.obj
	name := desired.Name
	current, err := r.readOwnedSecret(ctx, obj, name, func() error { return secretConflict(obj, name) })
	if err != nil {
		return err
	}
	stale := staleManagedFields(current, desired)
	dataMatches := secretMatches(&corev1.Secret{Data: current.Data}, &corev1.Secret{Data: desired.Data})
	if secretMatches(current, desired) && stale == nil {
		r.rememberSecret(s, current.ResourceVersion, digest)
		return nil
	}

	rv, err := r.applyOwnedSecret(ctx, obj, desired, current)
	if err != nil {
		return err
	}
	if stale != nil {
		// Labels, annotations or keys dropped from spec.tokenSecret: the
		// apply does not remove those the operator first wrote with a create.
		patch, _ := json.Marshal(stale)
		done := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: name}}
		if err := r.Patch(ctx, done, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("removing dropped labels, annotations and keys from Secret %s/%s: %w", obj.Namespace, name, err)
		}
		rv = done.ResourceVersion
	}
	if !dataMatches {
		r.event(obj, corev1.EventTypeNormal, elementsv1alpha1.EventReasonTokenSecretRestored, "WriteSecret",
			"Secret "+name+" did not hold the element token as written; restored it")
	}
	r.rememberSecret(s, rv, digest)
	return nil
}

func secretConflict(obj *elementsv1alpha1.HubSpotInstance, name string) error {
	return stalledError(elementsv1alpha1.ReasonSecretConflict,
		"Secret %s/%s already exists and is not owned by this HubSpotInstance; the operator will not overwrite it: delete it or set spec.tokenSecret.name",
		obj.Namespace, name)
}

// staleManagedFields finds the labels, annotations and data keys the
// operator wrote that the desired Secret no longer has, as a merge patch
// body (nil: none). What the operator wrote is read from the Secret's
// managedFields.
func staleManagedFields(current, desired *corev1.Secret) map[string]any {
	labels, annotations, data := map[string]any{}, map[string]any{}, map[string]any{}
	for _, entry := range current.ManagedFields {
		if entry.Manager != elementsv1alpha1.FieldManager || entry.FieldsV1 == nil {
			continue
		}
		var fields struct {
			Metadata struct {
				Labels      map[string]json.RawMessage `json:"f:labels"`
				Annotations map[string]json.RawMessage `json:"f:annotations"`
			} `json:"f:metadata"`
			Data map[string]json.RawMessage `json:"f:data"`
		}
		if json.Unmarshal(entry.FieldsV1.GetRawBytes(), &fields) != nil {
			continue
		}
		dropStale(labels, fields.Metadata.Labels, desired.Labels, current.Labels)
		dropStale(annotations, fields.Metadata.Annotations, desired.Annotations, current.Annotations)
		dropStale(data, fields.Data, desired.Data, current.Data)
	}
	patch := map[string]any{}
	metadata := map[string]any{}
	for kind, keys := range map[string]map[string]any{"labels": labels, "annotations": annotations} {
		if len(keys) > 0 {
			metadata[kind] = keys
		}
	}
	if len(metadata) > 0 {
		patch["metadata"] = metadata
	}
	if len(data) > 0 {
		patch["data"] = data
	}
	if len(patch) == 0 {
		return nil
	}
	return patch
}

// dropStale marks for removal (a null in a merge patch) each key among
// owned, managedFields' "f:<key>" entries, that have holds and want lacks.
func dropStale[V any](into map[string]any, owned map[string]json.RawMessage, want, have map[string]V) {
	for field := range owned {
		k, ok := strings.CutPrefix(field, "f:")
		if _, wanted := want[k]; !ok || wanted {
			continue
		}
		if _, present := have[k]; present {
			into[k] = nil
		}
	}
}

// rememberSecret records the token Secret's version as we last wrote or
// verified it, in memory and, for the next process, in status.
func (r *HubSpotInstanceReconciler) rememberSecret(s *session, version, digest string) {
	s.remember(func(m *remembered) { m.secretVersion, m.secretDigest = version, digest })
	s.obj.Status.TokenSecretResourceVersion = version
}

// tokenHash is the keyed hash of an object's element token: in status, and
// what the account's listing compares each token with.
func (r *HubSpotInstanceReconciler) tokenHash(uid types.UID, token string) string {
	return keyedHash(r.hashKey, string(uid), "token", token)
}

// desiredTokenSecret is the Secret a workload reads: the default keys, or
// what spec.tokenSecret.template renders, and the hash of that data.
func (r *HubSpotInstanceReconciler) desiredTokenSecret(s *session) (*corev1.Secret, error) {
	obj, inst := s.obj, s.instance
	values := tokentemplate.Values{Token: inst.Token, InstanceID: formatID(inst.ID),
		ElementKey: cloudelements.ElementKey, Endpoint: obj.Spec.Platform.GetEndpoint()}
	var data map[string][]byte
	if s.template == nil {
		data = map[string][]byte{
			elementsv1alpha1.TokenKey:      []byte(values.Token),
			elementsv1alpha1.InstanceIDKey: []byte(values.InstanceID),
			elementsv1alpha1.ElementKeyKey: []byte(values.ElementKey),
			elementsv1alpha1.EndpointKey:   []byte(values.Endpoint),
		}
	} else {
		if s.template.UsesAccountSecrets() {
			values.UserSecret, values.OrganizationSecret = s.in.userSecret, s.in.organizationSecret
		}
		var err error
		if data, err = s.template.Render(values); err != nil {
			return nil, stalledError(elementsv1alpha1.ReasonInvalidConfiguration, "spec.tokenSecret.template.data: %w", err)
		}
	}
	annotations := maps.Clone(obj.Spec.TokenSecret.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[elementsv1alpha1.DataHashAnnotation] = tokenSecretHash(r.hashKey, obj, data)
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: obj.TokenSecretName(), Namespace: obj.Namespace,
			Labels: obj.OwnedSecretLabels(obj.Spec.TokenSecret.Labels), Annotations: annotations},
		Data: data,
	}, nil
}

// tokenSecretHash is the keyed hash of the token Secret's data: a viewer of
// status cannot confirm a guess of the token with it.
func tokenSecretHash(key []byte, obj *elementsv1alpha1.HubSpotInstance, data map[string][]byte) string {
	parts := append(make([]string, 0, 2+2*len(data)), string(obj.UID), "token-secret")
	for _, k := range slices.Sorted(maps.Keys(data)) {
		parts = append(parts, k, string(data[k]))
	}
	return keyedHash(key, parts...)
}

// secretMatches reports whether current already carries everything desired.
func secretMatches(current, desired *corev1.Secret) bool {
	for k, v := range desired.Data {
		if string(current.Data[k]) != string(v) {
			return false
		}
	}
	for k, v := range desired.Labels {
		if current.Labels[k] != v {
			return false
		}
	}
	for k, v := range desired.Annotations {
		if current.Annotations[k] != v {
			return false
		}
	}
	return true
}

// secretShapeDigest fingerprints everything about the token Secret except
// the token itself (which only changes when the instance does), so a spec
// change to its labels, annotations or template, or a new value of an
// account secret the template uses, is noticed without reading it.
func (r *HubSpotInstanceReconciler) secretShapeDigest(s *session, id int64) string {
	obj := s.obj
	var template map[string]elementsv1alpha1.TemplateText
	accounts := ""
	if t := obj.Spec.TokenSecret.Template; t != nil {
		template = t.Data
		if s.template != nil && s.template.UsesAccountSecrets() {
			accounts = keyedHash(r.hashKey, "template-account", s.in.userSecret, s.in.organizationSecret)
		}
	}
	body, _ := json.Marshal([]any{obj.TokenSecretName(), obj.Spec.TokenSecret.Labels, obj.Spec.TokenSecret.Annotations,
		id, obj.Spec.Platform.GetEndpoint(), template, accounts})
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:8])
}
