package sqlstore

import (
	"context"
	"database/sql"
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
	for _, c := range []struct {
		in     string
		path   string
		cache  int64
		batch  int
		memory bool
	}{
		{"sqlite://td.db?cache_size=512MiB&batch_size=2000", "td.db", 512 << 20, 2000, false},
		{"sqlite:///var/td.db?cache_size=1048576", filepath.FromSlash("/var/td.db"), 1 << 20, 0, false},
		{"sqlite://td.db?batch_size=7", "td.db", 0, 7, false},
		{"sqlite://td.db?cache_size=64kib", "td.db", 64 << 10, 0, false},
		{"sqlite::memory:?cache_size=2GiB", "", 2 << 30, 0, true},
	} {
		cfg, err := parseDBURL(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.path, cfg.path, c.in)
		assert.Equal(t, c.cache, cfg.cacheSize, c.in)
		assert.Equal(t, c.batch, cfg.batchSize, c.in)
		assert.Equal(t, c.memory, cfg.memory, c.in)
	}
	for _, bad := range []string{"sqlite://td.db?cache_size=0", "sqlite://td.db?cache_size=-1MiB", "sqlite://td.db?cache_size=1.5GiB",
		"sqlite://td.db?cache_size=99999999999GiB", "sqlite://td.db?cache_size=1MB", "sqlite://td.db?batch_size=x",
		"sqlite://td.db?batch_size=1&batch_size=2", "sqlite://td.db?journal_mode=off", "sqlite://td.db?%zz"} {
		_, err := parseDBURL(bad)
		assert.Error(t, err, bad)
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

// A database at schema version 1 (datum_key UNIQUE on its own) migrates to
// version 2 with its datums, their ids and the id counter kept, and
// de-duplicates against them afterwards.
func TestMigrateV1ToV2(t *testing.T) {
	for _, c := range []struct {
		name string
		d    *dialect
		url  func(t *testing.T) (dbURL, driver, dsn string)
	}{
		{"SQLite", sqliteDialect, func(t *testing.T) (string, string, string) {
			path := filepath.Join(t.TempDir(), "v1.db")
			return "sqlite://" + filepath.ToSlash(path), "sqlite", path + "?_foreign_keys=1"
		}},
		{"PostgreSQL", postgresDialect, func(t *testing.T) (string, string, string) {
			u := PostgresURLForTest(t)
			return u, "pgx", u
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dbURL, driver, dsn := c.url(t)
			raw, err := sql.Open(driver, dsn)
			require.NoError(t, err)
			defer raw.Close()
			exec := func(q string, args ...any) {
				t.Helper()
				_, err := raw.ExecContext(ctx, c.d.rebind(q), args...)
				require.NoError(t, err, q)
			}
			exec(`CREATE TABLE targetdata_schema (version INTEGER PRIMARY KEY, applied_us BIGINT NOT NULL)`)
			for _, q := range c.d.migrations[0] {
				exec(q)
			}
			exec(`INSERT INTO targetdata_schema (version, applied_us) VALUES (1, 0)`)
			exec(`INSERT INTO targetdata_products (id, target_id, name, data_product_type, storage_key, size, sha256, created_us, updated_us)
				VALUES (1, 7, 'a.txt', 'x', '7/x/a.txt', 1, 'aa', 0, 0)`)
			var ds []dataproduct.Datum
			for i := range 20 {
				d := dataproduct.Datum{TargetID: 7, ProductID: 1, DataType: dataproduct.TypePhotometry, Source: "S",
					Timestamp: time.Unix(int64(1_700_000_000+i*60), 0),
					Value:     dataproduct.Photometry{Magnitude: dataproduct.Float(17 + float64(i)/10), Filter: "o"}}
				ds = append(ds, d)
				r, err := makeRow(i, d)
				require.NoError(t, err)
				exec(`INSERT INTO targetdata_datums (datum_key, target_id, product_id, data_type, ts_us, source, value_json)
					VALUES (?, ?, ?, ?, ?, ?, ?)`, r.key[:], r.target, r.product, r.dataType, r.ts, r.source, string(r.json))
			}
			// The last ids were used and deleted: they must not come back.
			exec(`INSERT INTO targetdata_datums (datum_key, target_id, data_type, ts_us, source, value_json)
				VALUES (?, 7, 'x', 0, 'S', '{}')`, make([]byte, 32))
			var ids []int64
			rows, err := raw.QueryContext(ctx, `SELECT id FROM targetdata_datums ORDER BY id`)
			require.NoError(t, err)
			for rows.Next() {
				var id int64
				require.NoError(t, rows.Scan(&id))
				ids = append(ids, id)
			}
			require.NoError(t, rows.Err())
			require.Len(t, ids, 21)
			maxUsed := ids[20]
			exec(`DELETE FROM targetdata_datums WHERE id = ?`, maxUsed)
			require.NoError(t, raw.Close())

			opts := &Options{}
			if c.d.kind == kindPostgres {
				opts.BlobURL = "mem://"
			}
			st, err := Open(ctx, dbURL, opts)
			require.NoError(t, err)
			defer st.Close()
			var version int
			require.NoError(t, st.db.QueryRowContext(ctx, `SELECT MAX(version) FROM targetdata_schema`).Scan(&version))
			assert.Equal(t, 2, version)
			got, err := st.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 7})
			require.NoError(t, err)
			require.Len(t, got, 20)
			for i, d := range got {
				assert.Equal(t, ids[i], d.ID)
				assert.Equal(t, int64(1), d.ProductID)
				assert.Equal(t, ds[i].Value, d.Value)
			}
			fresh := ds[0]
			fresh.Timestamp = fresh.Timestamp.Add(time.Second)
			res, err := st.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{fresh, fresh}))
			require.NoError(t, err)
			assert.Equal(t, dataproduct.IngestResult{Added: 1, Skipped: 1}, res)
			added, err := st.ListDatums(ctx, dataproduct.DatumFilter{TargetID: 7, From: fresh.Timestamp, To: fresh.Timestamp.Add(time.Second)})
			require.NoError(t, err)
			require.Len(t, added, 1)
			assert.Greater(t, added[0].ID, maxUsed, "ids used before the migration are not used again")
			res, err = st.AddDatums(ctx, dataproduct.Datums(ds))
			require.NoError(t, err)
			assert.Equal(t, dataproduct.IngestResult{Skipped: 20}, res, "the migrated keys still de-duplicate")
		})
	}
}

// Ingests take their targets' advisory locks in the order of the lock
// keys, not of the target ids: 5 < 1<<32 but the latter folds to key 1, so
// taking them by target id would lock 5 then 1 while another ingest locks
// 1 then 5 (a deadlock).
func TestTargetLockKeysAscending(t *testing.T) {
	targets := map[int64]bool{5: true, 1 << 32: true, 1: true, 7: true}
	assert.Equal(t, []int32{1, 5, 7}, targetLockKeys(targets), "sorted by key, 1<<32 and 1 sharing key 1")
	assert.Equal(t, int32(1), foldID(1<<32))
}
