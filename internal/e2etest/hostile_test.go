package e2etest

import (
	"context"
	"errors"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tomgo/targetdata/builtin"
	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/singletarget"
)

// hostileTargets are targets no query may run for; field is the form
// field the error must name.
var hostileTargets = []struct {
	name  string
	t     singletarget.Target
	field string
}{
	{"name with .. segments", singletarget.Target{ID: 7, Name: "../../etc/passwd", RA: 10, Dec: 10}, "name"},
	{"name that is ..", singletarget.Target{ID: 7, Name: "..", RA: 10, Dec: 10}, "name"},
	{"name with a backslash .. segment", singletarget.Target{ID: 7, Name: `a\..\b`, RA: 10, Dec: 10}, "name"},
	{"name with NUL", singletarget.Target{ID: 7, Name: "SN\x002023ixf", RA: 10, Dec: 10}, "name"},
	{"name not UTF-8", singletarget.Target{ID: 7, Name: "SN \xff\xfe", RA: 10, Dec: 10}, "name"},
	{"very long name", singletarget.Target{ID: 7, Name: strings.Repeat("SN2023ixf", 1000), RA: 10, Dec: 10}, "name"},
	{"empty name", singletarget.Target{ID: 7, Name: "  ", RA: 10, Dec: 10}, "name"},
	{"RA negative", singletarget.Target{ID: 7, Name: "x", RA: -0.001, Dec: 10}, "ra"},
	{"RA 360", singletarget.Target{ID: 7, Name: "x", RA: 360, Dec: 10}, "ra"},
	{"RA NaN", singletarget.Target{ID: 7, Name: "x", RA: math.NaN(), Dec: 10}, "ra"},
	{"RA infinite", singletarget.Target{ID: 7, Name: "x", RA: math.Inf(1), Dec: 10}, "ra"},
	{"Dec above 90", singletarget.Target{ID: 7, Name: "x", RA: 10, Dec: 90.0001}, "dec"},
	{"Dec below -90", singletarget.Target{ID: 7, Name: "x", RA: 10, Dec: -91}, "dec"},
	{"Dec NaN", singletarget.Target{ID: 7, Name: "x", RA: 10, Dec: math.NaN()}, "dec"},
	{"target id 0", singletarget.Target{ID: 0, Name: "x", RA: 10, Dec: 10}, "target_id"},
}

// hostileParams are each service's query parameters that must be refused:
// reversed and absurd date ranges, and unknown fields.
var hostileParams = map[string][]struct {
	name   string
	params url.Values
	field  string
}{
	"ATLAS": {
		{"reversed MJD range", url.Values{"min_date_mjd": {"60030"}, "max_date_mjd": {"60000"}}, "max_date_mjd"},
		{"reversed dates", url.Values{"min_date": {"2024-02-01"}, "max_date": {"2024-01-01"}}, "max_date"},
		{"absurd MJD", url.Values{"min_date_mjd": {"1e9"}}, "min_date_mjd"},
		{"negative MJD", url.Values{"min_date_mjd": {"-5"}}, "min_date_mjd"},
		{"NaN MJD", url.Values{"min_date_mjd": {"NaN"}}, "min_date_mjd"},
		{"future start", url.Values{"min_date": {"2999-01-01"}}, "min_date"},
		{"unknown field", url.Values{"ra": {"0"}}, "ra"},
	},
	"PANSTARRS": {
		{"reversed MJD range", url.Values{"min_date_mjd": {"57000"}, "max_date_mjd": {"56000"}}, "max_date_mjd"},
		{"absurd MJD", url.Values{"max_date_mjd": {"1e12"}}, "max_date_mjd"},
		{"absurd radius", url.Values{"radius_arcsec": {"1e6"}}, "radius_arcsec"},
		{"catalog not in the release", url.Values{"data_release": {"dr1"}, "catalog": {"detection"}}, "catalog"},
		{"unknown field", url.Values{"columns": {"objID;DROP TABLE"}}, "columns"},
	},
	"ZTF": {
		{"reversed MJD range", url.Values{"min_date_mjd": {"60000"}, "max_date_mjd": {"59000"}}, "max_date_mjd"},
		{"reversed MJD range (older names)", url.Values{"mjd_min": {"60000"}, "mjd_max": {"59000"}}, "max_date_mjd"},
		{"absurd MJD", url.Values{"max_date_mjd": {"1e12"}}, "max_date_mjd"},
		{"collection with a path", url.Values{"collection": {"../../etc"}}, "collection"},
		{"unknown field", url.Values{"POS": {"CIRCLE 0 0 10"}}, "POS"},
	},
	"ZTF_FP": {
		{"reversed MJD range", url.Values{"min_date_mjd": {"60000"}, "max_date_mjd": {"59000"}}, "max_date_mjd"},
		{"absurd MJD", url.Values{"min_date_mjd": {"1e15"}}, "min_date_mjd"},
		{"MJD where a JD goes (older name)", url.Values{"jd_start": {"59000"}}, "min_date_mjd"},
		{"unknown field", url.Values{"email": {"someone@example.org"}}, "email"},
	},
}

// checkFieldError checks that err is a *FormErrors naming field.
func checkFieldError(t *testing.T, err error, field string) {
	t.Helper()
	var fe *singletarget.FormErrors
	if !errors.As(err, &fe) || !errors.Is(err, singletarget.ErrInvalidForm) {
		t.Fatalf("error %v is not a *FormErrors", err)
	}
	if len(fe.Fields[field]) == 0 {
		t.Fatalf("error %v does not name %q", err, field)
	}
}

// TestHostileInput sends every service hostile targets and parameters
// through Manager.Check, Manager.Run and Pool.Submit: each is an error
// naming the field, no request reaches the simulator and nothing is
// stored.
func TestHostileInput(t *testing.T) {
	ctx := context.Background()
	for _, rg := range rigs {
		t.Run(rg.name, func(t *testing.T) {
			t.Parallel()
			r := rg.make(t, rigOptions{})
			pool := singletarget.NewPool(r.m, nil)
			must(t, pool.Start(ctx))
			defer pool.Stop(ctx)
			try := func(req singletarget.Request, field string) {
				t.Helper()
				checkFieldError(t, r.m.Check(req), field)
				_, err := r.m.Run(ctx, req)
				checkFieldError(t, err, field)
				_, err = pool.Submit(ctx, req)
				checkFieldError(t, err, field)
			}
			for _, h := range hostileTargets {
				req := r.req
				req.Target = h.t
				try(req, h.field)
			}
			for _, h := range hostileParams[rg.name] {
				req := r.req
				req.Params = h.params
				try(req, h.field)
			}
			if n := r.requests(); n != 0 {
				t.Fatalf("%d requests reached the simulator", n)
			}
			if ps, ds := products(t, r.store), datumKeys(t, r.store); len(ps)+len(ds) != 0 {
				t.Fatalf("%d products and %d datums stored", len(ps), len(ds))
			}
		})
	}
}

// TestNameWithSlash: a lone "/" is a legitimate name character (comets,
// "C/2023 A3"); the query runs and the product name holds no path.
func TestNameWithSlash(t *testing.T) {
	r := newPanSTARRS(t, rigOptions{})
	req := r.req
	req.Target.Name = "C/2023 A3 (Tsuchinshan-ATLAS)/"
	res, err := r.m.Run(context.Background(), req)
	must(t, err)
	for _, p := range res.Products {
		if err := dataproduct.CheckName(p.Name); err != nil || strings.ContainsAny(p.Name, `/\`) {
			t.Fatalf("product name %q: %v", p.Name, err)
		}
		if key := dataproduct.StorageKey(p); strings.Contains(key, "..") || strings.Count(key, "/") != 2 {
			t.Fatalf("storage key %q", key)
		}
	}
}

// TestBodyOverTheCap gives every service a cap of 2 KiB on answers and
// result files: the query fails with a remote error and nothing is
// stored (a file cut at the cap would be data lost without a word).
func TestBodyOverTheCap(t *testing.T) {
	for _, rg := range rigs {
		t.Run(rg.name, func(t *testing.T) {
			t.Parallel()
			r := rg.make(t, rigOptions{maxBody: 2 << 10})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := r.m.Run(ctx, r.req)
			if !errors.Is(err, singletarget.ErrRemote) {
				t.Fatalf("error %v, want one matching ErrRemote", err)
			}
			if !strings.Contains(err.Error(), "2048") && !strings.Contains(strings.ToLower(err.Error()), "larger") &&
				!strings.Contains(strings.ToLower(err.Error()), "cap") && !strings.Contains(strings.ToLower(err.Error()), "limit") {
				t.Errorf("the error does not say the answer was too large: %v", err)
			}
			if ps, ds := products(t, r.store), datumKeys(t, r.store); len(ps)+len(ds) != 0 {
				t.Fatalf("%d products and %d datums stored", len(ps), len(ds))
			}
			t.Log(err)
		})
	}
}

// TestCLIHostileInput runs the examples/query command line with hostile
// targets, parameters and settings: each exits with status 2 and a message
// naming the field or key, and nothing is stored.
func TestCLIHostileInput(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "query")
	build := exec.Command("go", "build", "-o", bin, "github.com/tomgo/targetdata/examples/query")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := "sqlite://" + filepath.Join(dir, "store.db")
	files := "file://" + filepath.Join(dir, "files")
	never := "database: sqlite://" + filepath.Join(dir, "never.db") + "\nstorage: file://" + filepath.Join(dir, "never") + "\n"
	topKey := filepath.Join(dir, "top.yaml")
	must(t, os.WriteFile(topKey, []byte("single_target_data_services:\n  PANSTARRS:\n    class: panstarrs.Service\n"+never+"retention: forever\n"), 0o600))
	serviceKey := filepath.Join(dir, "service.yaml")
	must(t, os.WriteFile(serviceKey, []byte("single_target_data_services:\n  PANSTARRS:\n    class: panstarrs.Service\n    colour: blue\n"+never), 0o600))
	base := []string{"-service", "PANSTARRS", "-simulate", "-db", db, "-storage", files}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"name with .. segments", append(base, "-name", "../../etc/passwd", "-ra", "10", "-dec", "10"), "name:"},
		{"very long name", append(base, "-name", strings.Repeat("x", 5000), "-ra", "10", "-dec", "10"), "name:"},
		{"RA out of range", append(base, "-name", "x", "-ra", "360", "-dec", "10"), "ra:"},
		{"Dec out of range", append(base, "-name", "x", "-ra", "10", "-dec", "-90.5"), "dec:"},
		{"reversed MJD range", append(base, "-name", "x", "-ra", "10", "-dec", "10", "-param", "min_date_mjd=57000", "-param", "max_date_mjd=56000"), "max_date_mjd:"},
		{"absurd MJD", append(base, "-name", "x", "-ra", "10", "-dec", "10", "-param", "max_date_mjd=1e300"), "max_date_mjd:"},
		{"unknown top-level settings key", []string{"-config", topKey, "-service", "PANSTARRS", "-name", "x", "-ra", "10", "-dec", "10"}, "retention"},
		{"unknown service settings key", []string{"-config", serviceKey, "-service", "PANSTARRS", "-name", "x", "-ra", "10", "-dec", "10"}, "colour"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want status 2; output:\n%s", err, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Fatalf("output does not name %q:\n%s", c.want, out)
			}
		})
	}
	for _, never := range []string{"never.db", "never"} {
		if _, err := os.Stat(filepath.Join(dir, never)); !os.IsNotExist(err) {
			t.Errorf("%s was created from settings that do not load", never)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "store.db")); err == nil {
		store, closeStore, err := builtin.OpenStore(context.Background(), db, files)
		must(t, err)
		defer closeStore()
		if ps, ds := products(t, store), datumKeys(t, store); len(ps)+len(ds) != 0 {
			t.Fatalf("%d products and %d datums stored", len(ps), len(ds))
		}
	}
}
