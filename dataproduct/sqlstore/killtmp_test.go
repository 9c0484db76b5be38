package sqlstore_test

import (
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
)

// envKilledPut makes the test binary a child that starts a PutProduct of
// a file that never ends, into the store at the URL the variable holds.
const envKilledPut = "SQLSTORE_TEST_KILLED_PUT"

// endless yields 64 KiB, then blocks for ever: a download or an upload
// that is still coming when the process is killed.
type endless struct{ sent int }

func (e *endless) Read(p []byte) (int, error) {
	if e.sent >= 64<<10 {
		select {}
	}
	n := min(len(p), 64<<10-e.sent)
	for i := range p[:n] {
		p[i] = 'x'
	}
	e.sent += n
	return n, nil
}

func TestKilledPutChild(t *testing.T) {
	dbURL := os.Getenv(envKilledPut)
	if dbURL == "" {
		t.Skip("the child process of TestKilledPutLeavesNoTempFile; runs only when that test starts it")
	}
	st, err := sqlstore.Open(context.Background(), dbURL, nil)
	require.NoError(t, err)
	_, _ = st.PutProduct(context.Background(), dataproduct.Product{TargetID: 1, Name: "big.txt", DataProductType: "photometry"}, &endless{})
	t.Fatal("PutProduct of an endless file returned")
}

// tempFiles lists the *.tmp files under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".tmp") {
			out = append(out, path)
		}
		return err
	}))
	return out
}

// kill -9 during PutProduct leaves fileblob's half-written
// "<key>.<hex>.tmp" next to the final file; opening the store again
// removes it once nothing has written to it for an hour, and leaves a
// fresh one (another process's write in progress) alone (issue 20 item 14).
func TestKilledPutLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.ToSlash(filepath.Join(dir, "targetdata.db"))
	files := filepath.Join(dir, "files")
	// Create the schema first, so that the child only writes the file.
	st, err := sqlstore.Open(context.Background(), dbURL, nil)
	require.NoError(t, err)
	require.NoError(t, st.Close())

	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledPutChild$", "-test.v")
	cmd.Env = append(os.Environ(), envKilledPut+"="+dbURL)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	var tmps []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(files); err == nil {
			if tmps = tempFiles(t, files); len(tmps) > 0 {
				if fi, err := os.Stat(tmps[0]); err == nil && fi.Size() > 0 {
					break
				}
			}
		}
	}
	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred clean-up runs
	_ = cmd.Wait()
	require.Len(t, tmps, 1, "the killed put left its temporary file")

	// A fresh temporary file may be another process's write: kept.
	reopened, err := sqlstore.Open(context.Background(), dbURL, nil)
	require.NoError(t, err)
	require.NoError(t, reopened.Close())
	assert.Equal(t, tmps, tempFiles(t, files), "a temporary file written a moment ago is left alone")

	// An hour later it is the remains of a killed write: removed on open.
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(tmps[0], old, old))
	reopened, err = sqlstore.Open(context.Background(), dbURL, nil)
	require.NoError(t, err)
	defer reopened.Close()
	assert.Empty(t, tempFiles(t, files), "the stale temporary file is removed when the store opens")
	ps, err := reopened.ListProducts(context.Background(), dataproduct.ProductFilter{})
	require.NoError(t, err)
	assert.Empty(t, ps, "the killed put recorded nothing")
	// The store works: a product named like a temporary file is a product.
	p, err := reopened.PutProduct(context.Background(), dataproduct.Product{TargetID: 1, Name: "x.0123abcd.tmp", DataProductType: "photometry"}, strings.NewReader("a,b\n"))
	require.NoError(t, err)
	keyFiles := tempFiles(t, files)
	require.Len(t, keyFiles, 1)
	require.NoError(t, os.Chtimes(keyFiles[0], old, old))
	require.NoError(t, reopened.Close())
	reopened, err = sqlstore.Open(context.Background(), dbURL, nil)
	require.NoError(t, err)
	rc, err := reopened.OpenProduct(context.Background(), p.ID)
	require.NoError(t, err, "a stored product whose name ends in .tmp is never taken for a temporary file")
	rc.Close()
}
