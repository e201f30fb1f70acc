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

package oauthstate

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// tamper changes a claim but keeps the original signature: a forgery.
func tamper(t *testing.T, state string, change func(*Claims)) string {
	t.Helper()
	body, sig, _ := strings.Cut(state, ".")
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		t.Fatal(err)
	}
	var c Claims
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	change(&c)
	raw, _ = json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw) + "." + sig
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	signer, err := NewSigner(key, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	signer = signer.WithClock(fixedClock(now))
	state, issued, err := signer.Issue("sales", "sales-crm", "uid-1")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte("another-key-another-key-another-k"), 0)

	tests := map[string]struct {
		state   string
		verify  *Signer
		wantErr error
	}{
		"valid":                  {state: state, verify: signer},
		"valid until expiry":     {state: state, verify: signer.WithClock(fixedClock(now.Add(15*time.Minute - time.Second)))},
		"expired":                {state: state, verify: signer.WithClock(fixedClock(now.Add(15 * time.Minute))), wantErr: ErrExpired},
		"wrong key":              {state: state, verify: other, wantErr: ErrBadSignature},
		"namespace tampered":     {state: tamper(t, state, func(c *Claims) { c.Namespace = "kube-system" }), verify: signer, wantErr: ErrBadSignature},
		"name tampered":          {state: tamper(t, state, func(c *Claims) { c.Name = "other" }), verify: signer, wantErr: ErrBadSignature},
		"uid tampered":           {state: tamper(t, state, func(c *Claims) { c.UID = "uid-2" }), verify: signer, wantErr: ErrBadSignature},
		"nonce tampered":         {state: tamper(t, state, func(c *Claims) { c.Nonce = "AAAA" }), verify: signer, wantErr: ErrBadSignature},
		"expiry extended":        {state: tamper(t, state, func(c *Claims) { c.ExpiresAt = c.ExpiresAt.Add(time.Hour) }), verify: signer, wantErr: ErrBadSignature},
		"signature dropped":      {state: strings.Split(state, ".")[0] + ".", verify: signer, wantErr: ErrMalformed},
		"no separator":           {state: strings.ReplaceAll(state, ".", ""), verify: signer, wantErr: ErrMalformed},
		"signature not base64":   {state: strings.Split(state, ".")[0] + ".!!!", verify: signer, wantErr: ErrMalformed},
		"empty":                  {state: "", verify: signer, wantErr: ErrMalformed},
		"the seed's plain state": {state: "hubspotcrm", verify: signer, wantErr: ErrMalformed},
		"oversized":              {state: state + strings.Repeat("A", 2000), verify: signer, wantErr: ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			claims, err := tc.verify.Verify(tc.state)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && claims != issued {
				t.Fatalf("Verify() = %+v, want %+v", claims, issued)
			}
		})
	}
}

func TestIssueGivesEachURLItsOwnNonce(t *testing.T) {
	signer, _ := NewSigner(key, 0)
	seen := map[string]bool{}
	for range 100 {
		state, c, err := signer.Issue("ns", "name", "uid")
		if err != nil {
			t.Fatal(err)
		}
		if seen[c.Nonce] || seen[state] {
			t.Fatalf("nonce repeated after %d states", len(seen))
		}
		seen[c.Nonce] = true
		if time.Until(c.ExpiresAt) > DefaultTTL {
			t.Fatalf("expiry %s is beyond the default TTL", c.ExpiresAt)
		}
	}
}

func TestNewSignerRefusesShortKeys(t *testing.T) {
	if _, err := NewSigner([]byte("short"), 0); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

func TestNewSignerBoundsTheTTL(t *testing.T) {
	issuedAt := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		ttl         time.Duration
		wantExpires time.Duration // from issue; 0 when refused
	}{
		"0 means the default":  {ttl: 0, wantExpires: DefaultTTL},
		"negative":             {ttl: -time.Minute},
		"1ms":                  {ttl: time.Millisecond},
		"30s":                  {ttl: 30 * time.Second},
		"just under 1m":        {ttl: time.Minute - time.Nanosecond},
		"1m, the lower bound":  {ttl: time.Minute, wantExpires: time.Minute},
		"the default":          {ttl: DefaultTTL, wantExpires: DefaultTTL},
		"24h, the upper bound": {ttl: 24 * time.Hour, wantExpires: 24 * time.Hour},
		"just over 24h":        {ttl: 24*time.Hour + time.Nanosecond},
		"25h":                  {ttl: 25 * time.Hour},
		"a year":               {ttl: 365 * 24 * time.Hour},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			signer, err := NewSigner(key, tc.ttl)
			if tc.wantExpires == 0 {
				if err == nil {
					t.Fatalf("NewSigner accepted a TTL of %v", tc.ttl)
				}
				if !errors.Is(err, ErrTTLOutOfRange) {
					t.Fatalf("NewSigner error = %v, want one wrapping ErrTTLOutOfRange", err)
				}
				for _, want := range []string{"--oauth-state-ttl", MinTTL.String(), MaxTTL.String(), tc.ttl.String()} {
					if !strings.Contains(err.Error(), want) {
						t.Fatalf("NewSigner error %q does not mention %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSigner refused a TTL of %v: %v", tc.ttl, err)
			}
			if err := ValidateTTL(tc.ttl); err != nil {
				t.Fatalf("ValidateTTL(%v) = %v, but NewSigner accepted it", tc.ttl, err)
			}
			_, claims, err := signer.WithClock(fixedClock(issuedAt)).Issue("ns", "name", "uid")
			if err != nil {
				t.Fatal(err)
			}
			if got := claims.ExpiresAt.Sub(issuedAt); got != tc.wantExpires {
				t.Fatalf("a state issued with TTL %v expires after %v, want %v", tc.ttl, got, tc.wantExpires)
			}
		})
	}
}
