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

// Command cloud-elements-simulator serves a simulator of the Cloud Elements
// platform API for the hubspotcrm element, for local runs and end-to-end
// tests of the operator. It is not the real service. See the package
// documentation of internal/cloudelements/simulator for what it does.
//
//	go run ./hack/cloud-elements-simulator --user-secret u --organization-secret o
//
// Point the operator at http://127.0.0.1:8090/elements/api-v2. Without
// secrets from the flags or the environment, the simulator accepts the fixed
// development secrets DevUserSecret and DevOrganizationSecret, so that
// `make simulator` runs as is; they guard nothing but a local fixture.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// Development secrets, used when none are given; public by design.
const (
	DevUserSecret         = "simulator-user-secret"
	DevOrganizationSecret = "simulator-organization-secret"
)

// readings name the simulator's options, each of which plays one reading of
// the public record where it is ambiguous (docs/cloud-elements-api.md,
// section 4).
var readings = map[string]func(*simulator.Options){
	"empty-list-not-found":         func(o *simulator.Options) { o.EmptyListNotFound = true },
	"next-page-token-on-last-page": func(o *simulator.Options) { o.NextPageTokenOnLastPage = true },
	"ignore-tag-filter":            func(o *simulator.Options) { o.IgnoreTagFilter = true },
	"put-drops-oauth-tokens":       func(o *simulator.Options) { o.PutDropsOAuthTokens = true },
	"object-tags":                  func(o *simulator.Options) { o.ObjectTags = true },
	"typed-configuration-values":   func(o *simulator.Options) { o.TypedConfigurationValues = true },
	"clear-client-id":              func(o *simulator.Options) { o.ClearClientID = true },
	"strict-event-keys":            func(o *simulator.Options) { o.StrictEventKeys = true },
	"omit-extra-instance-fields":   func(o *simulator.Options) { o.OmitExtraInstanceFields = true },
}

// shutdownGrace bounds how long in-flight requests (a simulated hang among
// them) may delay an exit.
const shutdownGrace = 5 * time.Second

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cloud-elements-simulator:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("cloud-elements-simulator", flag.ContinueOnError)
	listen := flags.String("listen", "127.0.0.1:8090", "address to listen on")
	// The secrets' defaults stay empty so that -help never prints a secret
	// taken from the environment.
	userSecret := flags.String("user-secret", "", "the account's user secret (default $SIMULATOR_USER_SECRET)")
	organizationSecret := flags.String("organization-secret", "", "the account's organization secret (default $SIMULATOR_ORGANIZATION_SECRET)")
	seed := flags.Int64("seed", 0, "seed for tokens, codes and fault draws; 0 picks one from the clock and prints it")
	codeTTL := flags.Duration("code-ttl", 10*time.Minute, "lifetime of an OAuth authorization code")
	baseURL := flags.String("base-url", "", "scheme://host[:port] where browsers reach this simulator, for the oauthUrl it returns; default: the Host of each request")
	readingList := flags.String("readings", "", "comma-separated readings of the record to play instead of the defaults: "+strings.Join(slices.Sorted(maps.Keys(readings)), ", "))
	if err := flags.Parse(args); err != nil {
		return err
	}
	opts := simulator.Options{}
	for _, name := range strings.Split(*readingList, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		play, ok := readings[name]
		if !ok {
			return fmt.Errorf("--readings: unknown reading %q; known: %s", name, strings.Join(slices.Sorted(maps.Keys(readings)), ", "))
		}
		play(&opts)
	}
	if *userSecret == "" {
		*userSecret = os.Getenv("SIMULATOR_USER_SECRET")
	}
	if *organizationSecret == "" {
		*organizationSecret = os.Getenv("SIMULATOR_ORGANIZATION_SECRET")
	}
	logger := log.New(os.Stderr, "simulator: ", log.LstdFlags|log.Lmicroseconds)
	switch {
	case *userSecret == "" && *organizationSecret == "":
		*userSecret, *organizationSecret = DevUserSecret, DevOrganizationSecret
		logger.Printf("no secrets given: accepting the development secrets User %s, Organization %s", DevUserSecret, DevOrganizationSecret)
	case *userSecret == "" || *organizationSecret == "":
		return errors.New("give both secrets, --user-secret and --organization-secret (or SIMULATOR_USER_SECRET and SIMULATOR_ORGANIZATION_SECRET), or neither")
	}
	opts.UserSecret, opts.OrganizationSecret = *userSecret, *organizationSecret
	opts.Seed, opts.CodeTTL, opts.BaseURL, opts.Logger = *seed, *codeTTL, *baseURL, logger
	sim := simulator.New(opts)

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	logger.Printf("Cloud Elements API SIMULATOR (not the real service) listening on http://%s%s (seed %d; knobs under /simulator/)",
		listener.Addr(), simulator.APIPrefix, sim.Seed())

	server := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		_ = server.Close()
	}
	return nil
}
