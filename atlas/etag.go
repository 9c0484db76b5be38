package atlas

import (
	"net/http"
	"sync"
)

// maxETags bounds the answers a Client keeps for conditional GETs.
const maxETags = 4096

// etagCache keeps, per URL, the last answer that carried an ETag, so that
// the next GET of the URL can send If-None-Match and a 304 can reuse the
// answer. It is safe for concurrent use.
type etagCache struct {
	mu sync.Mutex
	m  map[string]etagEntry
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[url]; !ok && len(c.m) >= maxETags {
		for k := range c.m { // drop any one: a lost entry costs one full answer
			delete(c.m, k)
			break
		}
	}
	c.m[url] = e
}

func (c *etagCache) drop(url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, url)
}
