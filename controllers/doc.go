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

// Package controllers holds the HubSpotInstance reconciler and, beside it,
// the CredentialsProtection reconciler (credentialsprotection.go), which
// lets go of an account Secret once no object may still need it.
//
// # Where each step lives
//
// Reconcile (hubspotinstance_controller.go) reads as the lifecycle of an
// object. fetch starts a session; each step then reads the session and adds
// to it, and finish (finish.go), deferred, concludes:
//
//	resolve              hubspotinstance_controller.go, inputs.go, desired.go, endpoint.go
//	waitOutStall         stall.go
//	inspectTokenSecret   tokensecret.go
//	verifyImport         import.go (and the ownership checks all steps use)
//	adoptOwnInstance     adoption.go
//	syncInstance         sync.go (its choice of call: decideSync; updates: update.go)
//	createInstance       create.go (with its create marker); consent: authorization.go, consentlink.go
//	retireConsentLink    consentlink.go
//	protectCredentials   protection.go
//	reconcileTokenSecret tokensecret.go, ownedsecret.go
//	reportHealth         health.go
//
// ObserveOnly objects run resolve, inspectTokenSecret, verifyImport,
// observeInstance, retireConsentLink, reconcileTokenSecret and
// reportObservation: observeonly.go holds what is theirs alone. A suspended
// object runs none of the steps; a deleted one runs reconcileDelete
// (deletion.go) instead. The decisions the steps take are pure functions
// beside them (decideSync, decideCreate, decideDeletion, untilStallRetry,
// listingVerdict, classifyAPIError in outcome.go), each with a table in the
// test file of the same name.
//
// Words used with one meaning: to observe is what the ObserveOnly policy
// does (read, report, never write); recordAnswer copies what Cloud Elements
// answered into status; recordApplied notes that the desired configuration
// reached the platform.
//
// # Who writes what
//
//   - The object itself (finalizer, create marker, import annotation): the
//     steps, through patchObject (object.go) or markCreatePending
//     (create.go), both with an optimistic lock. Each write records its
//     resourceVersion, so the next reconcile does not act on a cache that
//     has not seen it yet.
//   - Its status: finish alone, once per reconcile and only when it
//     changed; steps set fields on the session's copy. The one other writer
//     is the OAuth callback server (internal/callback), which clears a used
//     consent link's nonce, with an optimistic lock.
//   - The Secrets it owns (token, consent link): the reconciler, through
//     ownedsecret.go, and only Secrets this object controls. The callback
//     Secret is the callback server's to write and the reconciler's to
//     delete once its code is spent (authorization.go). The account
//     Secret receives only the protection finalizer: added by
//     protectCredentials, removed by CredentialsProtection. Every other
//     referenced Secret is only read (inputs.go, inputsecrets.go).
//   - What the process remembers of an object between reconciles
//     (memory.go): the reconcile reads it into its session, steps record on
//     the session with remember, and one write-back ends the reconcile. The
//     drift poller (drift.go) writes its verdicts through recordVerdict, and
//     forget clears an object from memory and poller alike.
package controllers
