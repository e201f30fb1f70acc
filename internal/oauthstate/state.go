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

// Package oauthstate signs and verifies the OAuth 2 `state` parameter that
// the operator puts in authorization URLs (RFC 6749 §10.12, RFC 9700 §4.7).
//
// A state names the HubSpotInstance it was issued for (namespace, name, uid),
// carries a random nonce and an expiry, and is authenticated with
// HMAC-SHA256. The signature makes it unforgeable; the nonce, recorded on the
// object when the URL is published, makes it single-use and lets a newer URL
// supersede an older one; the expiry bounds how long a leaked URL is useful.
package oauthstate

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultTTL is how long an authorization URL stays usable.
const DefaultTTL = 15 * time.Minute

// MinTTL and MaxTTL bound the TTL a Signer accepts (--oauth-state-ttl).
// Below MinTTL a person cannot sign in and consent before the link dies (the
// reconciler republishes it 30s before it expires, so the URL in status would
// change faster than anyone can use it); above MaxTTL a leaked link stays
// usable for days.
const (
	MinTTL = time.Minute
	MaxTTL = 24 * time.Hour
)

// MinKeySize is the smallest accepted HMAC key, in bytes.
const MinKeySize = 32

// Errors returned by Verify. They say what is wrong without echoing input.
var (
	ErrMalformed    = errors.New("state is malformed")
	ErrBadSignature = errors.New("state signature does not match")
	ErrExpired      = errors.New("state has expired")
)

// ErrTTLOutOfRange is wrapped by the error of a TTL outside [MinTTL, MaxTTL].
var ErrTTLOutOfRange = errors.New("state TTL out of range")

// ValidateTTL accepts 0 (meaning DefaultTTL) and any TTL in [MinTTL, MaxTTL].
// Its error names the flag that sets the TTL, since that is where it comes
// from.
func ValidateTTL(ttl time.Duration) error {
	if ttl == 0 || (ttl >= MinTTL && ttl <= MaxTTL) {
		return nil
	}
	return fmt.Errorf("--oauth-state-ttl must be between %v and %v (or 0 for the default, %v), got %v: %w",
		MinTTL, MaxTTL, DefaultTTL, ttl, ErrTTLOutOfRange)
}

// Claims is what a state asserts.
type Claims struct {
	Namespace string    `json:"ns"`
	Name      string    `json:"n"`
	UID       string    `json:"u"`
	Nonce     string    `json:"nc"`
	ExpiresAt time.Time `json:"exp"`
}

// Signer issues and verifies states under one key.
type Signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewSigner returns a Signer; ttl 0 means DefaultTTL, and any other TTL
// outside [MinTTL, MaxTTL] is refused (see ValidateTTL).
func NewSigner(key []byte, ttl time.Duration) (*Signer, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("state signing key must be at least %d bytes, got %d", MinKeySize, len(key))
	}
	if err := ValidateTTL(ttl); err != nil {
		return nil, err
	}
	if ttl == 0 {
		ttl = DefaultTTL
	}
	return &Signer{key: append([]byte(nil), key...), ttl: ttl, now: time.Now}, nil
}

// WithClock returns a copy of the Signer that reads time from now (tests).
func (s *Signer) WithClock(now func() time.Time) *Signer {
	c := *s
	c.now = now
	return &c
}

// Issue returns a fresh signed state for one object.
func (s *Signer) Issue(namespace, name, uid string) (string, Claims, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", Claims{}, fmt.Errorf("reading random nonce: %w", err)
	}
	c := Claims{Namespace: namespace, Name: name, UID: uid,
		Nonce:     base64.RawURLEncoding.EncodeToString(nonce),
		ExpiresAt: s.now().Add(s.ttl).UTC().Truncate(time.Second)}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", Claims{}, err
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.sign(body)), c, nil
}

// Verify checks the signature and expiry and returns the claims. Whether the
// nonce is still the accepted one is for the caller to check on the object.
func (s *Signer) Verify(state string) (Claims, error) {
	body, sig, ok := strings.Cut(state, ".")
	if !ok || body == "" || sig == "" || len(state) > 1024 {
		return Claims{}, ErrMalformed
	}
	gotSig, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	if !hmac.Equal(gotSig, s.sign(body)) {
		return Claims{}, ErrBadSignature
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil || c.Namespace == "" || c.Name == "" || c.UID == "" || c.Nonce == "" {
		return Claims{}, ErrMalformed
	}
	if !s.now().Before(c.ExpiresAt) {
		return c, ErrExpired
	}
	return c, nil
}

func (s *Signer) sign(body string) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("hubspot-operator/oauth-state/v1\n"))
	mac.Write([]byte(body))
	return mac.Sum(nil)
}
