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

	"github.com/google/go-cmp/cmp"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

func TestRelationOf(t *testing.T) {
	const (
		own     = "k8s:ns/app/uid-now"
		earlier = "k8s:ns/app/uid-before"
		name    = "k8s:ns/app"
		managed = elementsv1alpha1.ManagedTag
	)
	id := identity{cluster: "prod", nameTag: name, incarnations: []string{own}}
	cluster := elementsv1alpha1.ClusterTag("prod")
	cases := map[string]struct {
		tags []string
		want relation
	}{
		"made by hand":                              {[]string{"team"}, unclaimed},
		"the managed tag alone":                     {[]string{managed}, unclaimed},
		"held by this incarnation":                  {[]string{"team", own, name, cluster, managed}, heldByUs},
		"held by it before identity tags (upgrade)": {[]string{own, managed}, heldByUs},
		"held by it under a renamed cluster":        {[]string{own, name, elementsv1alpha1.ClusterTag("old-name"), managed}, heldByUs},
		"an earlier incarnation's (re-applied)":     {[]string{earlier, name, cluster, managed}, ourIdentity},
		"an earlier incarnation's, legacy tags":     {[]string{earlier, managed}, ourIdentity},
		"handed over to it":                         {[]string{name, cluster, managed}, ourIdentity},
		"its namespace and name in another cluster": {[]string{earlier, name, elementsv1alpha1.ClusterTag("staging"), managed}, otherCluster},
		"another object's":                          {[]string{"k8s:other/app/uid-x", "k8s:other/app", cluster}, othersInstance},
		"another object's, legacy tags":             {[]string{"k8s:other/app/uid-x"}, othersInstance},
		"a name that merely starts like its own":    {[]string{"k8s:ns/app-2/uid-x", "k8s:ns/app-2", cluster}, othersInstance},
		"handed over to another object":             {[]string{"k8s:ns/other", cluster}, othersInstance},
		"held by it and by another object":          {[]string{own, "k8s:other/app/uid-x"}, othersInstance},
		"held by it and by an earlier incarnation":  {[]string{own, earlier}, othersInstance},
	}
	for desc, tc := range cases {
		t.Run(desc, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, relationOf(tc.tags, id)); diff != "" {
				t.Errorf("relationOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIdentityTags(t *testing.T) {
	cases := map[string]struct {
		id   identity
		want []string
	}{
		"with a cluster name": {identity{cluster: "prod", nameTag: "k8s:ns/app", incarnations: []string{"k8s:ns/app/u"}},
			[]string{"k8s:ns/app/u", "k8s:ns/app", "k8s:cluster=prod"}},
		"without one: the owner tag alone, as before identities": {identity{nameTag: "k8s:ns/app", incarnations: []string{"k8s:ns/app/u"}},
			[]string{"k8s:ns/app/u"}},
	}
	for desc, tc := range cases {
		t.Run(desc, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.id.tags()); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
}
