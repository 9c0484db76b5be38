package ztf

import (
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The streaming check of a result file finds the column name and the
// trailer however the file is cut into reads.
func TestResultFileCheckStreams(t *testing.T) {
	b, err := os.ReadFile("testdata/ztf_fps_result.txt")
	require.NoError(t, err)
	for name, in := range map[string]string{"whole": string(b), "trailing blank lines": string(b) + "\n  \n\n"} {
		for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in)), iotest.HalfReader(strings.NewReader(in))} {
			chk := &resultFileCheck{r: r}
			got, err := io.ReadAll(chk)
			require.NoError(t, err, name)
			assert.Equal(t, in, string(got))
		}
	}
	cut := string(b[:len(b)-80])
	_, err = io.ReadAll(&resultFileCheck{r: iotest.OneByteReader(strings.NewReader(cut))})
	assert.ErrorContains(t, err, "cut short")
	_, err = io.ReadAll(&resultFileCheck{r: strings.NewReader("<html>Service unavailable</html>\n# END\n")})
	assert.ErrorContains(t, err, "not a forced-photometry result file: \"Service unavailable")
}
