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

package cloudelements

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Operation names, as they appear in errors; with spaces replaced by
// underscores they are the metrics' operation label.
const (
	opOAuthURL    = "oauth url"
	opCreate      = "create instance"
	opGet         = "get instance"
	opList        = "list instances"
	opUpdate      = "update instance"
	opReauthorize = "reauthorize instance"
	opPatch       = "patch instance"
	opDelete      = "delete instance"
	opListConfig  = "list instance configuration"
	opSetConfig   = "set instance configuration"
	opEnable      = "enable instance"
	opDisable     = "disable instance"
)

// Paging headers of GET /instances.
const (
	NextPageHeader   = "elements-next-page-token"
	TotalCountHeader = "elements-total-count"
)

// listPageSize is the platform's maximum, so that finding an instance costs
// as few requests as possible.
const listPageSize = 200

// maxPageTokenBytes bounds a next-page token: it is sent back in the next
// request's URL, printed with it in transport errors, and remembered to
// detect a repeat.
const maxPageTokenBytes = 8 << 10

// ErrTooManyPages marks a ListInstances call that read MaxListPages pages and
// was still handed a next-page token.
var ErrTooManyPages = errors.New("too many pages")

// ErrListDeadline marks a listing that did not finish within the client's
// ListTimeout. It also wraps context.DeadlineExceeded, so it is retryable.
var ErrListDeadline = errors.New("listing deadline exceeded")

// OAuthURL asks the platform for the provider's consent URL. The call is
// documented without an Authorization header, so none is sent.
func (c *Client) OAuthURL(ctx context.Context, req OAuthURLRequest) (*OAuthURLResponse, error) {
	key := req.ElementKey
	if key == "" {
		key = ElementKey
	}
	query := url.Values{}
	query.Set("apiKey", req.APIKey)
	query.Set("apiSecret", req.APISecret)
	query.Set("callbackUrl", req.CallbackURL)
	if scope := joinScopes(req.Scopes); scope != "" {
		query.Set("scope", scope)
	}
	if req.State != "" {
		query.Set("state", req.State)
	}
	var out OAuthURLResponse
	resp, err := c.do(ctx, call{
		operation: opOAuthURL,
		method:    http.MethodGet,
		path:      "/elements/" + url.PathEscape(key) + "/oauth/url",
		query:     query,
		anonymous: true,
		secrets:   []string{req.APISecret},
	}, &out)
	if err != nil {
		return nil, err
	}
	if out.OAuthURL == "" {
		return nil, &DecodeError{Operation: opOAuthURL, StatusCode: resp.status, ContentType: resp.header.Get("Content-Type"), Err: errors.New("response has no oauthUrl")}
	}
	return &out, nil
}

func joinScopes(scopes []string) string {
	kept := make([]string, 0, len(scopes))
	for _, scope := range scopes {
		kept = append(kept, strings.Fields(scope)...)
	}
	return strings.Join(kept, " ")
}

// CreateInstance provisions an instance (POST /instances). An empty
// req.Element.Key means ElementKey.
func (c *Client) CreateInstance(ctx context.Context, req InstanceRequest) (*Instance, error) {
	if req.Element.Key == "" {
		req.Element.Key = ElementKey
	}
	return c.instanceCall(ctx, call{operation: opCreate, method: http.MethodPost, path: "/instances", body: req, secrets: requestSecrets(req)})
}

// GetInstance reads one instance, token included.
func (c *Client) GetInstance(ctx context.Context, id int64) (*Instance, error) {
	return c.instanceCall(ctx, call{operation: opGet, method: http.MethodGet, path: instancePath(id)})
}

// ListInstances pages through GET /instances. With match == nil it returns all
// instances; otherwise it stops at the first page containing a match and
// returns only the matching ones from the pages read.
//
// An empty page, a page without a next-page token, and the platform's 404
// {"message":"No instances found"} (on the first page or after a token) all
// end the listing without an error. Any other 404, such as a gateway's HTML
// page, is an error.
//
// It reads at most MaxListPages pages: when the last of them still carries a
// next-page token, the call fails with ErrTooManyPages. It also fails when the
// endpoint repeats a token, or sends one over 8 KiB.
func (c *Client) ListInstances(ctx context.Context, match func(Instance) bool) ([]Instance, error) {
	var found []Instance
	err := c.eachInstance(ctx, url.Values{}, match, func(i Instance) bool {
		found = append(found, i)
		return match == nil
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// FindInstancesByTag returns every instance carrying tag. It asks the
// platform to filter (tags[]=tag, one request when it does) and checks each
// instance itself, so the answer is right also where the platform ignores
// the filter and pages through the whole account.
func (c *Client) FindInstancesByTag(ctx context.Context, tag string) ([]Instance, error) {
	var found []Instance
	if err := c.VisitInstancesByTag(ctx, tag, func(i Instance) { found = append(found, i) }); err != nil {
		return nil, err
	}
	return found, nil
}

// VisitInstancesByTag calls visit for every instance carrying tag, as
// FindInstancesByTag finds them, one page at a time: it holds no more than a
// page, however many thousand instances the account has.
func (c *Client) VisitInstancesByTag(ctx context.Context, tag string, visit func(Instance)) error {
	return c.eachInstance(ctx, url.Values{"tags[]": {tag}},
		func(i Instance) bool { return slices.Contains(i.Tags, tag) },
		func(i Instance) bool { visit(i); return true })
}

// eachInstance pages through GET /instances with filter, and hands each
// instance match accepts (all when match is nil) to visit, until visit says
// to stop at the end of a page.
//
// The whole listing has one deadline, ListTimeout: the page limit and the
// per-request timeout alone would let a slow endpoint hold it for the
// product of the two.
func (c *Client) eachInstance(ctx context.Context, filter url.Values, match func(Instance) bool, visit func(Instance) (more bool)) error {
	deadline := fmt.Errorf("cloud elements %s: %w: not finished within %v: %w", opList, ErrListDeadline, c.listTimeout, context.DeadlineExceeded)
	ctx, cancel := context.WithTimeoutCause(ctx, c.listTimeout, deadline)
	defer cancel()
	err := c.eachInstancePage(ctx, filter, match, visit)
	if err != nil && errors.Is(context.Cause(ctx), ErrListDeadline) {
		return deadline
	}
	return err
}

func (c *Client) eachInstancePage(ctx context.Context, filter url.Values, match func(Instance) bool, visit func(Instance) (more bool)) error {
	seenTokens := map[string]bool{}
	next := ""
	for pages := 1; ; pages++ {
		query := url.Values{"pageSize": {strconv.Itoa(listPageSize)}}
		for k, v := range filter {
			query[k] = v
		}
		if next != "" {
			query.Set("nextPage", next)
		}
		var page []Instance
		resp, err := c.do(ctx, call{operation: opList, method: http.MethodGet, path: "/instances", query: query}, &page)
		if isEmptyListAnswer(err) {
			// The platform's way of saying the page (or the whole
			// collection, or the filter's result) is empty.
			return nil
		}
		if err != nil {
			return err
		}
		more := true
		for _, instance := range page {
			if match == nil || match(instance) {
				more = visit(instance) && more
			}
		}
		if !more {
			return nil
		}
		next = resp.header.Get(NextPageHeader)
		if next == "" || len(page) == 0 {
			return nil
		}
		if pages >= MaxListPages {
			return fmt.Errorf("cloud elements %s: %w: the endpoint still sent a next-page token after %d pages of %d, the most one call reads",
				opList, ErrTooManyPages, pages, listPageSize)
		}
		if len(next) > maxPageTokenBytes {
			return fmt.Errorf("cloud elements %s: the endpoint sent a next-page token of %d bytes, over the %d-byte limit", opList, len(next), maxPageTokenBytes)
		}
		if seenTokens[next] {
			return fmt.Errorf("cloud elements %s: the endpoint repeated a next-page token; stopped to avoid paging forever", opList)
		}
		seenTokens[next] = true
	}
}

// emptyListMessage is the platform's message for an empty collection, as in
// "No instances found" or "No users found".
var emptyListMessage = regexp.MustCompile(`^No .+ found$`)

// isEmptyListAnswer reports whether a list call's error is the platform's 404
// for an empty page: its own JSON error (never a gateway's page or an empty
// body), whose message reads "No … found".
func isEmptyListAnswer(err error) bool {
	var apiErr *APIError
	return IsNotFound(err) && errors.As(err, &apiErr) && emptyListMessage.MatchString(strings.TrimSpace(apiErr.Message))
}

// UpdateInstance replaces an instance's name, tags and configuration (PUT).
// Secret values may be sent as MaskedValue to keep what the platform holds.
func (c *Client) UpdateInstance(ctx context.Context, id int64, req InstanceRequest) (*Instance, error) {
	if req.Element.Key == "" {
		req.Element.Key = ElementKey
	}
	return c.instanceCall(ctx, call{operation: opUpdate, method: http.MethodPut, path: instancePath(id), body: req, secrets: requestSecrets(req)})
}

// ReauthorizeInstance re-authorizes an instance (PUT ?reAuthenticate=true)
// with new credentials: the code of a fresh OAuth 2 consent or new OAuth 2
// Legacy tokens in req.ProviderData, or a new API key in the configuration.
func (c *Client) ReauthorizeInstance(ctx context.Context, id int64, req InstanceRequest) (*Instance, error) {
	if req.ProviderData == nil && req.Configuration[ConfigHubSpotAPIKey] == "" {
		return nil, fmt.Errorf("cloud elements %s: new credentials are required: providerData (an OAuth 2 code or OAuth 2 Legacy tokens) or, for an API-key instance, %s", opReauthorize, ConfigHubSpotAPIKey)
	}
	if req.Element.Key == "" {
		req.Element.Key = ElementKey
	}
	return c.instanceCall(ctx, call{
		operation: opReauthorize,
		method:    http.MethodPut,
		path:      instancePath(id),
		query:     url.Values{"reAuthenticate": {"true"}},
		body:      req,
		secrets:   requestSecrets(req),
	})
}

// PatchInstance changes the name and/or the tags; tags are replaced whole.
// It touches nothing else, the configuration (and the provider's tokens the
// platform keeps there) included.
func (c *Client) PatchInstance(ctx context.Context, id int64, patch InstancePatch) (*Instance, error) {
	patch.ID = id
	return c.instanceCall(ctx, call{operation: opPatch, method: http.MethodPatch, path: instancePath(id), body: patch})
}

// InstanceConfiguration lists an instance's configuration one key at a time
// (GET /instances/{id}/configuration), with the id each key is changed by.
// Secret values come back as MaskedValue.
func (c *Client) InstanceConfiguration(ctx context.Context, id int64) ([]ConfigurationEntry, error) {
	var entries []ConfigurationEntry
	if _, err := c.do(ctx, call{operation: opListConfig, method: http.MethodGet, path: instancePath(id) + "/configuration"}, &entries); err != nil {
		return nil, err
	}
	return entries, nil
}

// SetConfigurationValue changes one configuration key of an instance
// (PATCH /instances/{id}/configuration/{entry.ID}) to entry.PropertyValue,
// and nothing else.
func (c *Client) SetConfigurationValue(ctx context.Context, id int64, entry ConfigurationEntry) (*ConfigurationEntry, error) {
	if entry.ID == 0 {
		return nil, fmt.Errorf("cloud elements %s: configuration key %q has no id", opSetConfig, entry.Key)
	}
	var secrets []string
	if IsSecretConfigKey(entry.Key) {
		secrets = []string{entry.PropertyValue}
	}
	var out ConfigurationEntry
	_, err := c.do(ctx, call{
		operation: opSetConfig,
		method:    http.MethodPatch,
		path:      instancePath(id) + "/configuration/" + strconv.FormatInt(entry.ID, 10),
		body:      entry,
		secrets:   secrets,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetInstanceEnabled enables (PUT) or disables (DELETE) an instance through
// /instances/{id}/enabled. A disabled instance keeps its token, but calls
// made with it are refused.
func (c *Client) SetInstanceEnabled(ctx context.Context, id int64, enabled bool) error {
	op, method := opEnable, http.MethodPut
	if !enabled {
		op, method = opDisable, http.MethodDelete
	}
	_, err := c.do(ctx, call{operation: op, method: method, path: instancePath(id) + "/enabled"}, nil)
	return err
}

// DeleteInstance deletes an instance; an unknown id is a 404 (IsNotFound).
func (c *Client) DeleteInstance(ctx context.Context, id int64) error {
	_, err := c.do(ctx, call{operation: opDelete, method: http.MethodDelete, path: instancePath(id)}, nil)
	return err
}

func instancePath(id int64) string {
	return "/instances/" + strconv.FormatInt(id, 10)
}

// errNoInstanceID guards the caller from recording id 0 as the instance it owns.
var errNoInstanceID = errors.New("response has no instance id")

func (c *Client) instanceCall(ctx context.Context, req call) (*Instance, error) {
	var instance Instance
	resp, err := c.do(ctx, req, &instance)
	if err != nil {
		return nil, err
	}
	if instance.ID == 0 {
		return nil, &DecodeError{Operation: req.operation, StatusCode: resp.status, ContentType: resp.header.Get("Content-Type"), Err: errNoInstanceID}
	}
	return &instance, nil
}
