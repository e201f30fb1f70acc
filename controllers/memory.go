package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// memory is what the operator knows about each object without writing it
// anywhere. Losing it (a restart) costs one extra read per object, never a
// write, which is what keeps the operator quiet at rest and after restarts.
type memory struct {
	mu      sync.Mutex
	objects map[types.UID]*remembered
}

type remembered struct {
	// verifiedAt is when the instance was last seen at Cloud Elements; the
	// next drift poll is due pollInterval later.
	verifiedAt time.Time
	// objectVersion is the resourceVersion of our own last write to the
	// HubSpotInstance: a cached copy with another version may be stale.
	objectVersion string
	// secretVersion and secretDigest describe our last write (or check) of
	// the token Secret: if its resourceVersion moved, somebody edited it.
	secretVersion string
	secretDigest  string
}

func newMemory() *memory { return &memory{objects: map[types.UID]*remembered{}} }

func (m *memory) get(uid types.UID) remembered {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.objects[uid]; ok {
		return *r
	}
	return remembered{}
}

func (m *memory) update(uid types.UID, change func(*remembered)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.objects[uid]
	if !ok {
		r = &remembered{}
		m.objects[uid] = r
	}
	change(r)
}

func (m *memory) forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, uid)
}
