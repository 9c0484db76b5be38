package singletarget

import (
	"context"
	"maps"

	"github.com/tomgo/targetdata/internal/redact"
)

// Redactor is implemented by a service that holds credentials: Redact
// returns text with each of them, in every form the service sends them
// (as is, escaped, inside an HTTP Basic header), replaced by "[REDACTED]"
// (see the package function Redact and BasicSecret). A server may repeat
// a credential it was sent (a 400 answer quoting the request, a remote
// task's error message): the Manager passes every error, progress report
// and remote task of a query through the Redact of each of its services,
// so that no log, job status, River job row or page shows one. A service
// should still redact what it puts into its own errors.
type Redactor interface {
	Redact(text string) string
}

// Redact returns text with the credentials of every service of m that is
// a Redactor removed.
func (m *Manager) Redact(text string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, name := range m.order {
		if r, ok := m.services[name].(Redactor); ok {
			text = r.Redact(text)
		}
	}
	return text
}

// redactErr returns err, or when its text holds a credential, an error
// with the redacted text that still matches what err matched (errors.Is,
// errors.As).
func (m *Manager) redactErr(err error) error { return redact.ErrorFunc(err, m.Redact) }

// redactTask removes credentials from a remote task's text fields, in
// place.
func (m *Manager) redactTask(t *RemoteTask) {
	if t == nil {
		return
	}
	t.ID, t.URL, t.State = m.Redact(t.ID), m.Redact(t.URL), m.Redact(t.State)
	if len(t.Data) > 0 {
		data := maps.Clone(t.Data)
		for k, v := range data {
			data[k] = m.Redact(v)
		}
		t.Data = data
	}
}

// redactingProgress returns ctx whose progress reports reach the outer
// functions with credentials removed.
func (m *Manager) redactingProgress(ctx context.Context) context.Context {
	outer := progressOf(ctx)
	if outer == nil {
		return ctx
	}
	return context.WithValue(ctx, progressKey{}, ProgressFunc(func(p Progress) {
		p.Message, p.Stage = m.Redact(p.Message), m.Redact(p.Stage)
		if p.Remote != nil {
			r := *p.Remote
			m.redactTask(&r)
			p.Remote = &r
		}
		outer(p)
	}))
}

// redactStep removes credentials from what Step returns.
func (m *Manager) redactStep(res *StepResult, err *error) {
	*err = m.redactErr(*err)
	if res == nil {
		return
	}
	m.redactTask(res.Pending)
	if res.Remote != nil && res.Remote != res.Pending {
		m.redactTask(res.Remote)
	}
}
