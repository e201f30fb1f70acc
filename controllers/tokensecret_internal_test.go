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
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

func TestSecretMatches(t *testing.T) {
	desired := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"l": "1"}, Annotations: map[string]string{"a": "1"}},
		Data: map[string][]byte{elementsv1alpha1.TokenKey: []byte("tok")}}
	with := func(change func(*corev1.Secret)) *corev1.Secret {
		s := desired.DeepCopy()
		change(s)
		return s
	}
	cases := map[string]struct {
		current *corev1.Secret
		want    bool
	}{
		"identical":                  {desired, true},
		"extra data, labels is fine": {with(func(s *corev1.Secret) { s.Data["x"] = []byte("y"); s.Labels["x"] = "y" }), true},
		"token edited":               {with(func(s *corev1.Secret) { s.Data[elementsv1alpha1.TokenKey] = []byte("other") }), false},
		"token removed":              {with(func(s *corev1.Secret) { delete(s.Data, elementsv1alpha1.TokenKey) }), false},
		"label changed":              {with(func(s *corev1.Secret) { s.Labels["l"] = "2" }), false},
		"annotation removed":         {with(func(s *corev1.Secret) { delete(s.Annotations, "a") }), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := secretMatches(tc.current, desired); got != tc.want {
				t.Errorf("secretMatches = %v, want %v", got, tc.want)
			}
		})
	}
}
