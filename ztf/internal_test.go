package ztf

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/singletarget"
)

func TestHTMLTables(t *testing.T) {
	page := `<HTML><script>var x = "<table><tr><td>no</td></tr></table>";</script>
<TABLE class="x"><TR><TH>a</TH><TH>b &amp; c</TH></TR>
<TR><TD>1<br>2</TD><TD><a href="/ztf/ops/f_lc.txt">file</a></TD></TR>
<tr><td>nested<table><tr><td>inner</td></tr></table> end</td></tr>
</TABLE><table><tr><td>second</td></tr></table><table><tr><td>unclosed`
	tables := htmlTables(page)
	require.Len(t, tables, 3)
	rows := tables[0]
	require.Len(t, rows, 3)
	assert.True(t, rows[0][0].Header)
	assert.Equal(t, "b & c", rows[0][1].Text)
	assert.Equal(t, "1 2", rows[1][0].Text)
	assert.Equal(t, "file", rows[1][1].Text)
	assert.Contains(t, rows[1][1].Raw, `href="/ztf/ops/f_lc.txt"`)
	assert.Contains(t, rows[2][0].Text, "nested")
	assert.Equal(t, "second", tables[1][0][0].Text)
	assert.Equal(t, "unclosed", tables[2][0][0].Text)
	assert.Empty(t, htmlTables("<p>no table</p>"))
	assert.Equal(t, " a  b ", htmlText("<p>a<!-- x --><style>p{}</style></p>b<br/>"))
}

// inspectTable checks that body is a light-curve table in format and
// counts its data rows, as the client does while the answer streams.
func inspectTable(body []byte, format Format) (int, error) {
	chk := &tableCheck{format: format}
	_, _ = chk.Write(body)
	return chk.finish()
}

func TestInspectTable(t *testing.T) {
	n, err := inspectTable([]byte("oid,mjd\n1,2\n3,4\n"), FormatCSV)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = inspectTable([]byte("oid,mjd\r\n1,2\r\n"), FormatCSV)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = inspectTable([]byte("<votable/>"), FormatCSV)
	assert.ErrorContains(t, err, "no oid column")
	_, err = inspectTable([]byte("oid,mjd\n1,2\n3"), FormatCSV)
	assert.ErrorContains(t, err, "cut short")
	n, err = inspectTable([]byte("\\k = v\n|oid|mjd|\n|long|double|\n   1   2 \n"), FormatIPAC)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = inspectTable([]byte("|  oid|  mjd|\n     1   "), FormatIPAC)
	assert.ErrorContains(t, err, "cut short")
	_, err = inspectTable([]byte("ERROR: bad"), FormatIPAC)
	assert.ErrorContains(t, err, `"ERROR: bad"`)
}

func TestEndOfDayJD(t *testing.T) {
	at := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	assert.Equal(t, 2461369.5, endOfDayJD(at), "the next UTC midnight")
	assert.Equal(t, 2461369.5, endOfDayJD(time.Date(2026, 11, 24, 23, 59, 0, 0, time.UTC)))
	assert.Equal(t, 2461370.5, endOfDayJD(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)))
}

func TestFindJob(t *testing.T) {
	req := ForcedPhotometryRequest{RA: 10, Dec: 20, JDStart: 2459000.5, JDEnd: 2459100.5}
	jobs := []Job{
		{ReqID: 5, RA: 10, Dec: 20, JDStart: 2459000.5, JDEnd: 2459100.5},
		{ReqID: 9, RA: 10, Dec: 20, JDStart: 2459000.5, JDEnd: 2459100.5},
		{ReqID: 7, RA: 10, Dec: 20, JDStart: 2459000.5, JDEnd: 2459100.5},
		{ReqID: 6, RA: 11, Dec: 20, JDStart: 2459000.5, JDEnd: 2459100.5},
	}
	task := singletarget.RemoteTask{Data: map[string]string{"known": "5"}}
	assert.Equal(t, int64(7), findJob(jobs, task, req).ReqID, "the oldest job not listed before")
	task.ID = "9"
	assert.Equal(t, int64(9), findJob(jobs, task, req).ReqID)
	task.ID = "x"
	assert.Nil(t, findJob(jobs, task, req))
	assert.Nil(t, findJob(nil, singletarget.RemoteTask{}, req))
	j := Job{RA: 359.999999, Dec: 0, JDStart: 1, JDEnd: 2}
	assert.True(t, j.Matches(0.000001, 0, 1, 2), "RA wraps at 360")
}
