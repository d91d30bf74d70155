package sqlstore

import (
	"slices"
	"sync"

	"github.com/cardflow/cardflow/internal/store"
)

// connCacheMax bounds the connections a store keeps read; past it the
// cache starts over (an org has a handful of connections, not thousands).
const connCacheMax = 1024

// connCache holds the connections this store has read, each as of its
// version. Every change to a connection's row bumps its version in the
// same statement (updateConnection), so a connection whose version in the
// database is the cached one's is the cached one: GetConnection then reads
// only the version, where a full read materializes every column, parses
// the scope lists and copies the sealed secrets (a card run reads its
// connection once; a flow's hundreds of card runs read the same one).
// Connection ids are random and never reused.
type connCache struct {
	mu sync.Mutex
	m  map[string]*store.Connection
}

// get returns a copy of the cached connection id at version, or nil.
func (cc *connCache) get(id string, version int64) *store.Connection {
	cc.mu.Lock()
	c := cc.m[id]
	cc.mu.Unlock()
	if c == nil || c.Version != version {
		return nil
	}
	return cloneConnection(c)
}

// put caches a copy of c.
func (cc *connCache) put(c *store.Connection) {
	c = cloneConnection(c)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil || len(cc.m) >= connCacheMax {
		cc.m = make(map[string]*store.Connection)
	}
	cc.m[c.ID] = c
}

// drop forgets connection id.
func (cc *connCache) drop(id string) {
	cc.mu.Lock()
	delete(cc.m, id)
	cc.mu.Unlock()
}

// cloneConnection copies c with its own slices, so that no caller of
// GetConnection changes what another one gets.
func cloneConnection(c *store.Connection) *store.Connection {
	d := *c
	d.RequestedScopes = slices.Clone(c.RequestedScopes)
	d.GrantedScopes = slices.Clone(c.GrantedScopes)
	d.SealedClientSecret = slices.Clone(c.SealedClientSecret)
	d.SealedRefreshToken = slices.Clone(c.SealedRefreshToken)
	d.SealedAccessToken = slices.Clone(c.SealedAccessToken)
	d.SealedIDToken = slices.Clone(c.SealedIDToken)
	d.SealedPrivateKey = slices.Clone(c.SealedPrivateKey)
	d.SealedNextPrivateKey = slices.Clone(c.SealedNextPrivateKey)
	d.SealedDPoPKey = slices.Clone(c.SealedDPoPKey)
	return &d
}
