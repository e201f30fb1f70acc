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
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// inputs are the resolved values of every Secret the spec references.
type inputs struct {
	endpoint           string
	userSecret         string
	organizationSecret string

	clientID     string // OAuth2 and OAuth2Legacy
	clientSecret string // OAuth2
	code         string // OAuth2: an authorization code waiting to be exchanged
	codeSecret   string // the Secret the code came from
	codeIsOurs   bool   // true when the callback server wrote it, so it may be deleted once used
	denied       string // OAuth2: the person declined consent, with the provider's text

	accessToken  string // OAuth2Legacy
	refreshToken string
	expiresIn    string

	apiKey       string // APIKey
	signatureKey string // events

	// unavailable names the one-time inputs (an OAuth code, the legacy
	// tokens) that could not be read for an instance that already exists:
	// not a problem until they are needed, to re-authorize.
	unavailable []string
}

// secretValues reads Secrets once per reconcile, with the uncached reader,
// and collects every problem instead of stopping at the first.
type secretValues struct {
	reader    client.Reader
	namespace string
	read      map[string]*corev1.Secret
	problems  []string // missing Secrets, keys and values
	invalid   []string // present but unusable values
}

// maxCredentialSize bounds every value read from a referenced Secret.
const maxCredentialSize = 8 << 10

// failure reports what the reads found, missing inputs first.
func (s *secretValues) failure() error {
	switch {
	case len(s.problems) > 0:
		return stalledError(elementsv1alpha1.ReasonMissingConfiguration, "%s", strings.Join(append(s.problems, s.invalid...), "; "))
	case len(s.invalid) > 0:
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration, "%s", strings.Join(s.invalid, "; "))
	}
	return nil
}

func (s *secretValues) secret(ctx context.Context, name string) (*corev1.Secret, error) {
	if sec, done := s.read[name]; done {
		return sec, nil
	}
	sec := &corev1.Secret{}
	err := s.reader.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, sec)
	switch {
	case apierrors.IsNotFound(err):
		sec = nil
		s.problems = append(s.problems, fmt.Sprintf("Secret %s/%s not found", s.namespace, name))
	case err != nil:
		return nil, fmt.Errorf("reading Secret %s/%s: %w", s.namespace, name, err)
	}
	s.read[name] = sec
	return sec, nil
}

// value returns a Secret's key, recording a problem when it is missing or blank.
func (s *secretValues) value(ctx context.Context, name elementsv1alpha1.SecretName, key elementsv1alpha1.SecretKey) (string, error) {
	sec, err := s.secret(ctx, string(name))
	if err != nil || sec == nil {
		return "", err
	}
	raw, ok := sec.Data[string(key)]
	if !ok {
		if str, found := sec.StringData[string(key)]; found {
			raw, ok = []byte(str), true
		}
	}
	switch {
	case !ok:
		s.problems = append(s.problems, fmt.Sprintf("Secret %s/%s has no key %q", s.namespace, name, key))
		return "", nil
	case strings.TrimSpace(string(raw)) == "":
		s.problems = append(s.problems, fmt.Sprintf("Secret %s/%s key %q is empty", s.namespace, name, key))
		return "", nil
	case len(raw) > maxCredentialSize:
		// Credentials are well under 1 KiB; a large value is a file pasted
		// by mistake, and would be sent to Cloud Elements as it is.
		s.invalid = append(s.invalid, fmt.Sprintf("Secret %s/%s key %q holds %d bytes, more than the %d a credential can be",
			s.namespace, name, key, len(raw), maxCredentialSize))
		return "", nil
	}
	// Trailing newlines come from `kubectl create secret --from-file`; they are
	// never part of a credential.
	return strings.TrimRight(string(raw), "\r\n"), nil
}

// resolveInputs reads every referenced Secret. All missing Secrets and keys
// are reported together, so one look at the condition tells a person
// everything to fix.
func (r *HubSpotInstanceReconciler) resolveInputs(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) (*inputs, error) {
	sv := &secretValues{reader: r.inputReader(), namespace: obj.Namespace, read: map[string]*corev1.Secret{}}
	in := &inputs{endpoint: obj.Spec.Platform.GetEndpoint()}
	var err error
	set := func(dst *string, name elementsv1alpha1.SecretName, key elementsv1alpha1.SecretKey) {
		if err == nil {
			*dst, err = sv.value(ctx, name, key)
		}
	}
	// optional inputs that are missing are noted, not reported as a problem.
	optional := func(dst *string, name elementsv1alpha1.SecretName, key elementsv1alpha1.SecretKey) {
		if err != nil {
			return
		}
		known := len(sv.problems)
		*dst, err = sv.value(ctx, name, key)
		for _, problem := range sv.problems[known:] {
			if !slices.Contains(in.unavailable, problem) {
				in.unavailable = append(in.unavailable, problem)
			}
		}
		sv.problems = sv.problems[:known]
		if sec, read := sv.read[string(name)]; read && sec == nil {
			// Missing: a required read of the same Secret (the account's
			// may hold the other inputs too) must find that out again and
			// report it, not take the remembered miss for a read.
			delete(sv.read, string(name))
		}
	}
	// Inputs that only serve creation and re-authorization are optional once
	// the instance exists: a used code or old tokens may well be deleted.
	// With ObserveOnly every input but the account's is: they are only ever
	// sent, and nothing is; what can be read is compared, the rest is not.
	provisioned, observing := instanceIDOf(obj) != 0, obj.Spec.ObserveOnly()
	setOneTime := func(dst *string, name elementsv1alpha1.SecretName, key elementsv1alpha1.SecretKey) {
		if provisioned || observing {
			optional(dst, name, key)
			return
		}
		set(dst, name, key)
	}
	setInput := func(dst *string, name elementsv1alpha1.SecretName, key elementsv1alpha1.SecretKey) {
		if observing {
			optional(dst, name, key)
			return
		}
		set(dst, name, key)
	}

	auth := obj.Spec.Auth
	switch auth.Type {
	case elementsv1alpha1.AuthTypeOAuth2:
		ref := auth.OAuth2.ClientSecretRef
		setInput(&in.clientID, ref.Name, ref.GetClientIDKey())
		setInput(&in.clientSecret, ref.Name, ref.GetClientSecretKey())
		if codeRef := auth.OAuth2.AuthorizationCodeSecretRef; codeRef != nil {
			setOneTime(&in.code, codeRef.Name, codeRef.Key)
			in.codeSecret = string(codeRef.Name)
		}
		if err == nil {
			// A code from the callback server is fresher than one given in
			// the spec, which may already have been used.
			err = r.readCallbackSecret(ctx, obj, in)
		}
	case elementsv1alpha1.AuthTypeOAuth2Legacy:
		legacy := auth.OAuth2Legacy
		setInput(&in.clientID, legacy.ClientIDSecretRef.Name, legacy.ClientIDSecretRef.Key)
		tokens := legacy.TokensSecretRef
		setOneTime(&in.accessToken, tokens.Name, tokens.GetAccessTokenKey())
		setOneTime(&in.refreshToken, tokens.Name, tokens.GetRefreshTokenKey())
		setOneTime(&in.expiresIn, tokens.Name, tokens.GetExpiresInKey())
	case elementsv1alpha1.AuthTypeAPIKey:
		setInput(&in.apiKey, auth.APIKey.SecretRef.Name, auth.APIKey.SecretRef.Key)
	}

	creds := obj.Spec.Platform.CredentialsSecretRef
	set(&in.userSecret, creds.Name, creds.GetUserSecretKey())
	set(&in.organizationSecret, creds.Name, creds.GetOrganizationSecretKey())

	if ev := obj.Spec.Events; ev != nil && ev.SignatureKeySecretRef != nil {
		setInput(&in.signatureKey, ev.SignatureKeySecretRef.Name, ev.SignatureKeySecretRef.Key)
	}
	if err != nil {
		return nil, transientError(elementsv1alpha1.ReasonProgressing, err)
	}
	if err := sv.failure(); err != nil {
		return nil, err
	}
	return in, nil
}

// resolveCredentials reads only the Cloud Elements account secrets: all that
// deleting an instance needs.
func (r *HubSpotInstanceReconciler) resolveCredentials(ctx context.Context, obj *elementsv1alpha1.HubSpotInstance) (*inputs, error) {
	if err := checkEndpoint(obj.Spec.Platform.GetEndpoint(), r.endpoints); err != nil {
		var rerr *reconcileError
		if errors.As(err, &rerr) {
			rerr.reason = elementsv1alpha1.ReasonDeletionBlocked
		}
		return nil, err
	}
	sv := &secretValues{reader: r.inputReader(), namespace: obj.Namespace, read: map[string]*corev1.Secret{}}
	in := &inputs{endpoint: obj.Spec.Platform.GetEndpoint()}
	creds := obj.Spec.Platform.CredentialsSecretRef
	var err error
	if in.userSecret, err = sv.value(ctx, creds.Name, creds.GetUserSecretKey()); err == nil {
		in.organizationSecret, err = sv.value(ctx, creds.Name, creds.GetOrganizationSecretKey())
	}
	if err != nil {
		return nil, transientError(elementsv1alpha1.ReasonDeletionBlocked, err)
	}
	if problems := append(sv.problems, sv.invalid...); len(problems) > 0 {
		return nil, stalledError(elementsv1alpha1.ReasonDeletionBlocked,
			"cannot delete the Cloud Elements instance without the account credentials: %s", strings.Join(problems, "; "))
	}
	return in, nil
}

// referencedSecrets lists the Secrets a spec reads or writes, for the field index that
// maps a changed Secret back to the objects that need it. The Secrets named
// after the object itself are left out: namedAfter (setup.go) finds their
// object by name, and an index entry of its own for each of thousands of
// objects would cost more memory than the rest of the index.
func referencedSecrets(obj *elementsv1alpha1.HubSpotInstance) []string {
	names := []string{string(obj.Spec.Platform.CredentialsSecretRef.Name)}
	if obj.Spec.TokenSecret.Name != "" {
		// A token Secret named in the spec: when an unowned Secret of that
		// name that blocked it (SecretConflict) is deleted, the object must
		// hear of it.
		names = append(names, string(obj.Spec.TokenSecret.Name))
	}
	auth := obj.Spec.Auth
	if auth.OAuth2 != nil {
		names = append(names, string(auth.OAuth2.ClientSecretRef.Name))
		if auth.OAuth2.AuthorizationCodeSecretRef != nil {
			names = append(names, string(auth.OAuth2.AuthorizationCodeSecretRef.Name))
		}
	}
	if auth.OAuth2Legacy != nil {
		names = append(names, string(auth.OAuth2Legacy.ClientIDSecretRef.Name), string(auth.OAuth2Legacy.TokensSecretRef.Name))
	}
	if auth.APIKey != nil {
		names = append(names, string(auth.APIKey.SecretRef.Name))
	}
	if ev := obj.Spec.Events; ev != nil && ev.SignatureKeySecretRef != nil {
		names = append(names, string(ev.SignatureKeySecretRef.Name))
	}
	return names
}
