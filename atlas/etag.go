package atlas

import (
	"net/http"
	"sync"
)

// The answers a Client keeps for conditional GETs: at most this many, and
// this many bytes of bodies (a list page of 100 tasks is about 100 KB).
const (
	maxETags     = 4096
	maxETagBytes = 16 << 20
)

// etagCache keeps, per URL, the last answer that carried an ETag, so that
// the next GET of the URL can send If-None-Match and a 304 can reuse the
// answer. It is safe for concurrent use.
type etagCache struct {
	mu    sync.Mutex
	m     map[string]etagEntry
	bytes int
}

type etagEntry struct {
	etag   string
	header http.Header
	body   []byte
}

func newETagCache() *etagCache { return &etagCache{m: map[string]etagEntry{}} }

func (c *etagCache) get(url string) (etagEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[url]
	return e, ok
}

func (c *etagCache) put(url string, e etagEntry) {
	if len(e.body) > maxETagBytes/4 {
		return // too big to keep
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(url)
	for k := range c.m { // drop any: a lost entry costs one full answer
		if len(c.m) < maxETags && c.bytes+len(e.body) <= maxETagBytes {
			break
		}
		c.dropLocked(k)
	}
	c.m[url] = e
	c.bytes += len(e.body)
}

func (c *etagCache) drop(url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(url)
}

func (c *etagCache) dropLocked(url string) {
	if e, ok := c.m[url]; ok {
		c.bytes -= len(e.body)
		delete(c.m, url)
	}
}
