package singletarget_test

import (
	"context"
	"encoding/json"

	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/internal/demo"
	"github.com/tomgo/targetdata/singletarget"
)

func TestRedactForms(t *testing.T) {
	s := singletarget.Secret(`me+tom@example.org/"x"<&>`)
	for _, form := range []string{
		string(s),
		url.QueryEscape(string(s)),
		url.PathEscape(string(s)),
		strings.Trim(fmt.Sprintf("%q", string(s)), `"`),
		`me+tom@example.org/\"x\"\u003c\u0026\u003e`,  // encoding/json
		"me+tom@example.org/&#34;x&#34;&lt;&amp;&gt;", // html/template, html.EscapeString
	} {
		got := singletarget.Redact("echo: "+form+" end", s)
		assert.Equal(t, "echo: [REDACTED] end", got, "form %q", form)
	}
	assert.Equal(t, "abc", singletarget.Redact("abc", "ab"), "secrets under 4 bytes are ignored")
}

// echoing is a service whose server repeats its credentials in every
// answer: a field error, a task's error message, a progress message, a
// remote task's URL.
type echoing struct {
	token singletarget.Secret
	fail  int // 0: field error; 1: pending with echo then a task failure
}

func (e *echoing) Name() string                    { return "ECHO" }
func (e *echoing) NewForm() singletarget.QueryForm { return &singletarget.FormBase{} }
func (e *echoing) Info() singletarget.Info {
	return singletarget.Info{DataProductType: demo.DataProductType}
}
func (e *echoing) Redact(text string) string { return singletarget.Redact(text, e.token) }
func (e *echoing) echo() string {
	return fmt.Sprintf("you sent token %s (%s)", e.token.Reveal(), url.QueryEscape(e.token.Reveal()))
}
func (e *echoing) CancelRemote(context.Context, singletarget.RemoteTask) error { return nil }
func (e *echoing) Query(ctx context.Context, _ singletarget.Target, _ singletarget.QueryForm, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	singletarget.ReportProgress(ctx, singletarget.Progress{Service: "ECHO", Stage: singletarget.StageQueued, Message: e.echo()})
	if e.fail == 0 {
		return nil, &singletarget.FormErrors{Fields: map[string][]string{"ra": {e.echo()}}}
	}
	return &singletarget.Outcome{Pending: &singletarget.RemoteTask{ID: "1", URL: "https://x.example/task/1?token=" + e.token.Reveal(),
		State: "queued " + e.token.Reveal(), Data: map[string]string{"note": e.echo()}}}, nil
}
func (e *echoing) Resume(ctx context.Context, _ singletarget.Target, _ singletarget.RemoteTask, _ singletarget.ProductSink) (*singletarget.Outcome, error) {
	return nil, fmt.Errorf("ECHO: task 1 failed: %w: %s", singletarget.ErrTaskFailed, e.echo())
}

// A secret a server echoes back reaches no error, progress report, job
// status or log of the Manager and its executors (issue 20 item 3).
func TestManagerRedactsEchoedSecrets(t *testing.T) {
	token := singletarget.Secret("Echo-5ecret-Tok3n")
	var logs strings.Builder
	var mu sync.Mutex
	logger := newTextLogger(&logs, &mu)
	for _, fail := range []int{0, 1} {
		svc := &echoing{token: token, fail: fail}
		m := singletarget.NewManager(dataproduct.NewMemoryStore(nil), &singletarget.ManagerOptions{Logger: logger})
		require.NoError(t, m.AddProcessor(demo.DataProductType, demo.Processor()))
		require.NoError(t, m.AddService(svc))
		req := singletarget.Request{Service: "ECHO", Target: sn2023ixf}
		var seen []string
		ctx := singletarget.WithProgress(context.Background(), func(p singletarget.Progress) {
			seen = append(seen, fmt.Sprintf("%+v %+v", p, p.Remote))
		})
		save := func(_ context.Context, cp singletarget.Checkpoint) error {
			b, err := json.Marshal(cp) // what an executor writes to its job row
			seen = append(seen, string(b))
			return err
		}
		res, err := m.Step(ctx, req, singletarget.Checkpoint{}, save)
		if fail == 0 {
			require.Error(t, err)
			assert.ErrorIs(t, err, singletarget.ErrInvalidForm, "the error still matches")
			var fe *singletarget.FormErrors
			require.True(t, errors.As(err, &fe))
		} else {
			require.NoError(t, err)
			require.NotNil(t, res.Pending)
			seen = append(seen, fmt.Sprintf("%+v", *res.Pending))
			_, err = m.Step(ctx, req, res.Checkpoint, save)
			require.Error(t, err)
			assert.ErrorIs(t, err, singletarget.ErrTaskFailed)
		}
		seen = append(seen, fmt.Sprintf("%v | %+v | %s", err, err, err.Error()))
		_, err = m.Run(context.Background(), req)
		require.Error(t, err)
		seen = append(seen, err.Error())

		pool := singletarget.NewPool(m, &singletarget.PoolOptions{Workers: 1, MaxAttempts: 1, Logger: logger})
		require.NoError(t, pool.Start(context.Background()))
		id, err := pool.Submit(context.Background(), req)
		require.NoError(t, err)
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err := pool.Wait(wctx, id)
		cancel()
		require.NoError(t, err)
		require.NoError(t, pool.Stop(context.Background()))
		assert.Equal(t, singletarget.JobFailed, st.State)
		seen = append(seen, fmt.Sprintf("%+v %v", st, st.Err))

		mu.Lock()
		seen = append(seen, logs.String())
		mu.Unlock()
		for _, s := range seen {
			for _, form := range []string{token.Reveal(), url.QueryEscape(token.Reveal())} {
				assert.NotContains(t, s, form)
			}
		}
		assert.Contains(t, strings.Join(seen, "\n"), "[REDACTED]", "the echoes were seen, redacted")
	}
}

// lockedWriter serialises writes to a strings.Builder.
type lockedWriter struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newTextLogger(b *strings.Builder, mu *sync.Mutex) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{b, mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
