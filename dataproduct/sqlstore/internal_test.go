package sqlstore

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
)

func TestSchemaVersionMatchesMigrations(t *testing.T) {
	assert.Len(t, sqliteDialect.migrations, SchemaVersion)
	assert.Len(t, postgresDialect.migrations, SchemaVersion)
}

func TestParseDBURL(t *testing.T) {
	for _, c := range []struct {
		in     string
		kind   string
		path   string
		memory bool
	}{
		{"sqlite://targetdata.db", kindSQLite, "targetdata.db", false},
		{"sqlite://data/td.db", kindSQLite, filepath.FromSlash("data/td.db"), false},
		{"sqlite:///var/lib/tom/td.db", kindSQLite, filepath.FromSlash("/var/lib/tom/td.db"), false},
		{"sqlite://./td.db", kindSQLite, "td.db", false},
		{"sqlite://my%20data/td.db", kindSQLite, filepath.FromSlash("my data/td.db"), false},
		{"sqlite::memory:", kindSQLite, "", true},
		{"sqlite://:memory:", kindSQLite, "", true},
		{"SQLite://td.db", kindSQLite, "td.db", false},
		{"postgres://u:p@h/db", kindPostgres, "", false},
		{"postgresql://u:p@h:5433/db?sslmode=disable", kindPostgres, "", false},
	} {
		cfg, err := parseDBURL(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.kind, cfg.kind, c.in)
		assert.Equal(t, c.path, cfg.path, c.in)
		assert.Equal(t, c.memory, cfg.memory, c.in)
	}
}

func TestRebind(t *testing.T) {
	assert.Equal(t, "a = $1 AND b IN ($2, $3)", postgresDialect.rebind("a = ? AND b IN (?, ?)"))
	assert.Equal(t, "a = ?", sqliteDialect.rebind("a = ?"))
}

func TestSpectrumCodec(t *testing.T) {
	for _, s := range []dataproduct.Spectrum{
		{Wavelength: []float64{1}, Flux: []float64{2}},
		{Wavelength: []float64{1, 2, 3}, Flux: []float64{math.SmallestNonzeroFloat64, math.Copysign(0, -1), math.MaxFloat64},
			Error: []float64{0.1, 0.2, 0.3}, FluxUnits: "erg / (Angstrom s cm2)", WavelengthUnits: "Ångström"},
	} {
		b := appendSpectrum(nil, &s)
		got, err := decodeSpectrum(b)
		require.NoError(t, err)
		assert.Equal(t, s, got)
		want, _ := json.Marshal(s)
		have, _ := json.Marshal(got)
		assert.Equal(t, string(want), string(have))
		assert.Less(t, len(b), len(want)+8)
		// Every truncation is an error, never a panic.
		for i := range b {
			_, err := decodeSpectrum(b[:i])
			assert.Error(t, err, "truncated at %d", i)
		}
	}
}

func TestCeilMicro(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, base.UnixMicro(), ceilMicro(base))
	assert.Equal(t, base.UnixMicro()+1, ceilMicro(base.Add(time.Nanosecond)))
	assert.Equal(t, base.UnixMicro(), ceilMicro(base.Add(-time.Nanosecond)))
	pre := time.Date(1960, 1, 1, 0, 0, 0, 1500, time.UTC)
	assert.Equal(t, pre.Truncate(time.Microsecond).UnixMicro()+1, ceilMicro(pre))
}

// TestListDatumsUsesIndexes shows the plan of every ListDatums filter that
// names a target or a product: an index range scan, never a table scan. On
// SQLite the index also gives the ORDER BY order (no sort step); PostgreSQL
// prefers a bitmap index scan and a sort when few rows match, as here, and
// an ordered index scan when many do or a LIMIT applies.
func TestListDatumsUsesIndexes(t *testing.T) {
	filters := map[string]dataproduct.DatumFilter{
		"target":        {TargetID: 1},
		"target+time":   {TargetID: 1, From: time.Unix(100, 0), To: time.Unix(200, 0)},
		"target+type":   {TargetID: 1, DataType: dataproduct.TypePhotometry},
		"type+time":     {TargetID: 1, DataType: dataproduct.TypeSpectroscopy, From: time.Unix(100, 0), Limit: 10},
		"target+source": {TargetID: 1, Source: "ATLAS"},
		"product":       {ProductID: 1},
		"product+time":  {ProductID: 1, To: time.Unix(200, 0)},
	}
	wantIndex := map[string]string{
		// Any (target_id, ...) index serves a target alone.
		"target":        "targetdata_datums_target_",
		"target+time":   "targetdata_datums_target_",
		"target+type":   "targetdata_datums_target_type_ts",
		"type+time":     "targetdata_datums_target_type_ts",
		"target+source": "targetdata_datums_target_source_ts",
		"product":       "targetdata_datums_product_ts",
		"product+time":  "targetdata_datums_product_ts",
	}
	fill := func(t *testing.T, s *Store) {
		// Enough rows, with several targets, types and sources, for the
		// planners to have a choice.
		var ds []dataproduct.Datum
		for i := range 3000 {
			ds = append(ds, dataproduct.Datum{
				TargetID: int64(1 + i%30), DataType: []string{"photometry", "spectroscopy", "other"}[i%3],
				Timestamp: time.Unix(int64(i), 0), Source: []string{"ATLAS", "ZTF", "PS1", "NOT"}[i%4],
				Value: json.RawMessage(`{"i":1}`),
			})
		}
		_, err := s.AddDatums(context.Background(), dataproduct.Datums(ds))
		require.NoError(t, err)
		_, err = s.db.Exec(`ANALYZE targetdata_datums`)
		require.NoError(t, err)
	}

	t.Run("SQLite", func(t *testing.T) {
		s, err := Open(context.Background(), "sqlite://"+filepath.ToSlash(filepath.Join(t.TempDir(), "x.db")), nil)
		require.NoError(t, err)
		defer s.Close()
		fill(t, s)
		for name, f := range filters {
			q, args := s.datumQuery(f)
			rows, err := s.rdb.Query("EXPLAIN QUERY PLAN "+q, args...)
			require.NoError(t, err)
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
				plan = append(plan, detail)
			}
			require.NoError(t, rows.Err())
			rows.Close()
			p := strings.Join(plan, "; ")
			t.Logf("%-13s %s", name, p)
			assert.Contains(t, p, "USING INDEX "+wantIndex[name], name)
			assert.NotContains(t, p, "TEMP B-TREE", "%s: no sort step", name)
		}
	})

	t.Run("PostgreSQL", func(t *testing.T) {
		s, err := Open(context.Background(), PostgresURLForTest(t), &Options{BlobURL: "mem://"})
		require.NoError(t, err)
		defer s.Close()
		fill(t, s)
		for name, f := range filters {
			q, args := s.datumQuery(f)
			rows, err := s.db.Query("EXPLAIN "+q, args...)
			require.NoError(t, err)
			var plan []string
			for rows.Next() {
				var line string
				require.NoError(t, rows.Scan(&line))
				plan = append(plan, strings.TrimSpace(line))
			}
			require.NoError(t, rows.Err())
			rows.Close()
			p := strings.Join(plan, "; ")
			t.Logf("%-13s %s", name, p)
			assert.Regexp(t, `Index Scan (using|on) `+wantIndex[name], p, name)
			assert.NotContains(t, p, "Seq Scan", name)
		}
	})
}
