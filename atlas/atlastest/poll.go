package atlastest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxPageSize is the server's max_page_size of the task list.
const maxPageSize = 100

// This file is what the 2026 server offers pollers: the paginated task
// list, conditional GETs (ETag, If-None-Match, 304) and the queue
// positions.

// handleList answers GET /queue/: the user's tasks not deleted, newest
// first, in pages (the server's TaskPagination, a cursor pagination):
// ?pagesize= (at most 100; default Options.PageSize) and ?cursor= (the
// "next" link's). The body is
// {"next", "previous", "pagefirsttaskposition", "taskcount", "results"}
// and carries an ETag.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	u := s.account(w, r, s.checkRead, http.StatusForbidden, "You do not have permission to perform this action.")
	if u == nil {
		return
	}
	q := r.URL.Query()
	size := s.opts.PageSize
	if v := q.Get("pagesize"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			size = min(n, maxPageSize)
		}
	}
	var below int64 // ids below this one (0: from the newest)
	if c := q.Get("cursor"); c != "" {
		var ok bool
		if below, ok = decodeCursor(c); !ok {
			s.write(w, r, http.StatusNotFound, detail("Invalid cursor"))
			return
		}
	}
	s.mu.Lock()
	s.advanceLocked(s.opts.Now())
	s.stats.Lists++
	var mine []*task
	for _, t := range s.tasks {
		if t.owner == u && t.archived.IsZero() {
			mine = append(mine, t)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].id > mine[j].id })
	before := 0
	if below > 0 {
		before = sort.Search(len(mine), func(i int) bool { return mine[i].id < below })
	}
	page := mine[before:]
	more := len(page) > size
	if more {
		page = page[:size]
	}
	results := make([]taskJSON, 0, len(page))
	for _, t := range page {
		results = append(results, s.taskJSONLocked(r, t))
	}
	s.mu.Unlock()
	base := s.absBase(r) + "/queue/"
	link := func(cursor string) *string {
		v := url.Values{}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		if q.Get("pagesize") != "" {
			v.Set("pagesize", strconv.Itoa(size))
		}
		l := base
		if len(v) > 0 {
			l += "?" + v.Encode()
		}
		return &l
	}
	var next, prev *string
	if more {
		next = link(encodeCursor(page[len(page)-1].id))
	}
	if below > 0 {
		prev = link("")
	}
	s.writeTagged(w, r, struct {
		Next                  *string    `json:"next"`
		Previous              *string    `json:"previous"`
		PageFirstTaskPosition int        `json:"pagefirsttaskposition"`
		TaskCount             int        `json:"taskcount"`
		Results               []taskJSON `json:"results"`
	}{next, prev, before, len(mine), results})
}

// encodeCursor is the cursor of the page after the task with this id,
// written as Django REST framework writes its cursors (base64 of "p=...").
func encodeCursor(id int64) string {
	return base64.URLEncoding.EncodeToString([]byte("p=" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.URLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return 0, false
	}
	id, err := strconv.ParseInt(v.Get("p"), 10, 64)
	return id, err == nil && id > 0
}

// writeTagged answers 200 with v as JSON and its ETag, or 304 (no body)
// when the request's If-None-Match names that ETag.
func (s *Server) writeTagged(w http.ResponseWriter, r *http.Request, v any) {
	if s.isLegacy() || s.wantsHTML(r) {
		// ETags came with the 2026 server.
		s.write(w, r, http.StatusOK, v)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Vary", "Accept, Cookie")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		s.mu.Lock()
		s.stats.NotModified++
		s.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// etagMatches applies If-None-Match's weak comparison: "*" or any listed
// tag, with or without W/.
func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == "*" || part == etag {
			return true
		}
	}
	return false
}

// handleQueuePositions answers GET /queuepositions.json (2026 server):
// the positions of the user's unfinished tasks in the global queue (0 =
// next, the running ones 0 too), their request types, and queueoffset.
// The legacy server answers 404.
func (s *Server) handleQueuePositions(w http.ResponseWriter, r *http.Request) {
	if s.isLegacy() {
		s.notFoundHTML(w) // the endpoint came with the 2026 server
		return
	}
	u := s.account(w, r, s.checkRead, http.StatusForbidden, "You do not have permission to perform this action.")
	if u == nil {
		return
	}
	s.mu.Lock()
	s.advanceLocked(s.opts.Now())
	pos := map[string]int{}
	types := map[string]string{}
	for _, t := range s.tasks {
		if t.owner != u || !t.active() || !t.archived.IsZero() {
			continue
		}
		id := strconv.FormatInt(t.id, 10)
		types[id] = "FP"
		if t.started.IsZero() {
			pos[id] = s.queuePosLocked(t)
		} else {
			pos[id] = 0
		}
	}
	s.mu.Unlock()
	s.write(w, r, http.StatusOK, map[string]any{"queuepositions": pos, "queuedtypes": types, "queueoffset": 0})
}
