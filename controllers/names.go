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
	"hash/maphash"
	"time"
)

// Before it creates, an object looks up its name tag, for an instance of its
// identity to adopt: one more call per create. Its account's listing, which
// sees every managed instance anyway, answers that question for all the
// objects of the account at once: a nameIndex keeps the name tags of the
// instances no member held when the listing ran (orphans, other shards' and
// other clusters' instances), and of those this process let go since. A
// name it does not hold needs no lookup; a name it holds, or an index too
// old to trust, gets the lookup as before.
type nameIndex struct {
	// listed are the name tags of the last complete listing; nil before one.
	listed map[uint64]struct{}
	// listedAt is when that listing began.
	listedAt time.Time
	// released are the name tags of instances this process let go (deleted
	// with deletionPolicy Orphan, or handed over), with when.
	released map[uint64]time.Time
}

// nameSeed keys the hashes: a name tag is never kept as text.
var nameSeed = maphash.MakeSeed()

func nameHash(nameTag string) uint64 { return maphash.String(nameSeed, nameTag) }

// unseen says whether the index proves that no instance carries nameTag: a
// listing that began within fresh of now showed none, and this process let
// none go since. A hash collision can only make it answer false, which costs
// a lookup.
func (x *nameIndex) unseen(nameTag string, now time.Time, fresh time.Duration) bool {
	if !x.trusted(now, fresh) {
		return false
	}
	h := nameHash(nameTag)
	_, listed := x.listed[h]
	_, released := x.released[h]
	return !listed && !released
}

// trusted: a complete listing began within fresh of now.
func (x *nameIndex) trusted(now time.Time, fresh time.Duration) bool {
	return x.listed != nil && now.Sub(x.listedAt) <= fresh
}

// release records an instance let go, under the name tag it now carries.
func (x *nameIndex) release(nameTag string, now time.Time) {
	if x.released == nil {
		x.released = map[uint64]time.Time{}
	}
	x.released[nameHash(nameTag)] = now
}

// replace takes a complete listing that began at started; what was released
// before it began is in it, what was released since is kept.
func (x *nameIndex) replace(listed map[uint64]struct{}, started time.Time) {
	for h, at := range x.released {
		if at.Before(started) {
			delete(x.released, h)
		}
	}
	x.listed, x.listedAt = listed, started
}
