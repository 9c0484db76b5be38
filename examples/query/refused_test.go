package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/sqlstore"
)

// A file -process refuses is not kept in the store, unless -keep-failed
// (issue 20 item 7).
func TestProcessRefusedFileNotKept(t *testing.T) {
	db := "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "td.db"))
	bad := writeFile(t, "bad.csv", "time,filter,magnitude\n60000.5,g,17\n60001,g,bright\n")
	good := writeFile(t, "good.csv", "time,filter,magnitude\n60000.5,g,17\n")
	products := func() []dataproduct.Product {
		st, err := sqlstore.Open(context.Background(), db, nil)
		require.NoError(t, err)
		defer st.Close()
		ps, err := st.ListProducts(context.Background(), dataproduct.ProductFilter{})
		require.NoError(t, err)
		return ps
	}
	_, errOut, code := runCLI(t, "-process", "photometry", "-file", bad, "-db", db)
	assert.Equal(t, 1, code, errOut)
	assert.Empty(t, products(), "the refused file is not kept")

	_, errOut, code = runCLI(t, "-process", "photometry", "-file", good, "-db", db)
	require.Equal(t, 0, code, errOut)
	assert.Len(t, products(), 1)

	_, errOut, code = runCLI(t, "-process", "photometry", "-file", bad, "-db", db, "-keep-failed")
	assert.Equal(t, 1, code, errOut)
	assert.Len(t, products(), 2, "-keep-failed keeps it")
}

// Another file under a name the store already holds for the target is
// refused, and the message says what the user can do (the library's
// ReplaceProduct is no option on the command line).
func TestProcessSameNameOtherContent(t *testing.T) {
	db := "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "td.db"))
	dir := t.TempDir()
	f := filepath.Join(dir, "up.csv")
	require.NoError(t, os.WriteFile(f, []byte("time,filter,magnitude\n60000.5,g,17\n"), 0o600))
	_, errOut, code := runCLI(t, "-process", "photometry", "-file", f, "-db", db)
	require.Equal(t, 0, code, errOut)
	require.NoError(t, os.WriteFile(f, []byte("time,filter,magnitude\n60001.5,g,17\n"), 0o600))
	_, errOut, code = runCLI(t, "-process", "photometry", "-file", f, "-db", db)
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, errOut, "conflict")
	assert.Contains(t, errOut, "rename the file or give another -target-id")
}
