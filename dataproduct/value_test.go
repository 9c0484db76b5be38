package dataproduct_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
)

func TestPhotometryJSONIsCanonical(t *testing.T) {
	p := dataproduct.Photometry{
		Magnitude: dataproduct.Float(17.123456789), Error: dataproduct.Float(1e-7), Filter: "c<&>",
		Telescope: "ATLAS", FluxUJy: dataproduct.Float(-12), FluxErrUJy: dataproduct.Float(1e21),
		MJD: dataproduct.Float(60316.0), LimitSigma: 3,
		Extra: map[string]any{"zz": []any{1.0, "x"}, "a_key": "é", "chi/N": 1.5},
	}
	got, err := json.Marshal(p)
	require.NoError(t, err)
	// encoding/json's own rendering of the same object through a map.
	var generic map[string]any
	require.NoError(t, json.Unmarshal(got, &generic))
	want, err := json.Marshal(generic)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	assert.Contains(t, string(got), `"error":1e-7`)
	assert.Contains(t, string(got), `"filter":"c\u003c\u0026\u003e"`)

	var back dataproduct.Photometry
	require.NoError(t, json.Unmarshal(got, &back))
	again, err := json.Marshal(back)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(again), "decode then encode is the identity")
	assert.Equal(t, "x", back.Extra["zz"].([]any)[1])
}

func TestPhotometryOmitsAbsentFields(t *testing.T) {
	b, err := json.Marshal(dataproduct.Photometry{Limit: dataproduct.Float(19.5), LimitSigma: 3, Filter: "o", Telescope: "ATLAS"})
	require.NoError(t, err)
	assert.Equal(t, `{"filter":"o","limit":19.5,"limit_sigma":3,"telescope":"ATLAS"}`, string(b))
}

func TestPhotometryErrors(t *testing.T) {
	_, err := json.Marshal(dataproduct.Photometry{Magnitude: dataproduct.Float(math.Inf(1))})
	assert.ErrorContains(t, err, "magnitude")
	_, err = json.Marshal(dataproduct.Photometry{Extra: map[string]any{"magnitude": 1}})
	assert.ErrorContains(t, err, "collides")
	var p dataproduct.Photometry
	assert.Error(t, json.Unmarshal([]byte(`{"magnitude":"bright"}`), &p))
}

func TestCanonicalValue(t *testing.T) {
	a, err := dataproduct.CanonicalValue(json.RawMessage(`{"b": 1.50, "a": [true, null]}`))
	require.NoError(t, err)
	assert.Equal(t, `{"a":[true,null],"b":1.5}`, string(a))
	s := dataproduct.Spectrum{Wavelength: []float64{1, 2}, Flux: []float64{3}, FluxUnits: "u", WavelengthUnits: "Angstrom"}
	_, err = dataproduct.CanonicalValue(s)
	assert.ErrorIs(t, err, dataproduct.ErrInvalidDatum)
	s.Flux = []float64{3, math.NaN()}
	_, err = dataproduct.CanonicalValue(&s)
	assert.ErrorContains(t, err, "flux[1]")
	_, err = dataproduct.CanonicalValue(nil)
	assert.ErrorIs(t, err, dataproduct.ErrInvalidDatum)
	// Typed nil pointers pass Datum.Check (they are not == nil) and must
	// be refused here, not panic.
	_, err = dataproduct.CanonicalValue((*dataproduct.Photometry)(nil))
	assert.ErrorIs(t, err, dataproduct.ErrInvalidDatum)
	_, err = dataproduct.CanonicalValue((*dataproduct.Spectrum)(nil))
	assert.ErrorIs(t, err, dataproduct.ErrInvalidDatum)
}

func TestDecodeValue(t *testing.T) {
	v, err := dataproduct.DecodeValue("photometry", []byte(`{"magnitude":17,"filter":"g"}`))
	require.NoError(t, err)
	assert.Equal(t, 17.0, *v.(dataproduct.Photometry).Magnitude)
	v, err = dataproduct.DecodeValue("spectroscopy", []byte(`{"wavelength":[1],"flux":[2],"flux_units":"u","wavelength_units":"Angstrom"}`))
	require.NoError(t, err)
	assert.Equal(t, []float64{2}, v.(dataproduct.Spectrum).Flux)
	v, err = dataproduct.DecodeValue("other", []byte(`{"x":1}`))
	require.NoError(t, err)
	assert.Equal(t, json.RawMessage(`{"x":1}`), v)
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"SN 2024abc":       "SN_2024abc",
		"../../etc/passwd": "etc_passwd",
		"a/b\\c":           "a_b_c",
		"nul\x00name":      "nul_name",
		"..":               "target",
		"":                 "target",
		"ÅT 2023ixf":       "T_2023ixf",
		"x..y":             "x_y",
	} {
		got := dataproduct.SafeName(in)
		assert.Equal(t, want, got, "SafeName(%q)", in)
		assert.NoError(t, dataproduct.CheckName(got))
	}
	long := dataproduct.SafeName(string(make([]byte, 0)) + "abcdefghij" + "abcdefghij" + "abcdefghij" + "abcdefghij" + "abcdefghij" + "abcdefghij" + "abcdefghij")
	assert.LessOrEqual(t, len(long), 64)
	for _, bad := range []string{"", ".", "..", "a/b", "a\\b", "a\x00b", "a\nb", "\xff"} {
		assert.Error(t, dataproduct.CheckName(bad), "%q", bad)
	}
}

// Invalid UTF-8 in a string encodes as the U+FFFD it reads back as, so
// that a value from a processor and the same value from a store have the
// same canonical bytes; an extra key that is not UTF-8 is refused.
func TestCanonicalInvalidUTF8(t *testing.T) {
	p := dataproduct.Photometry{Limit: dataproduct.Float(20), Filter: "g\xff", Telescope: "<a\xfe>"}
	b, err := dataproduct.CanonicalValue(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := dataproduct.DecodeValue(dataproduct.TypePhotometry, b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := dataproduct.CanonicalValue(back)
	if err != nil || string(b) != string(b2) {
		t.Fatalf("%s re-encodes as %s (%v)", b, b2, err)
	}
	raw, err := dataproduct.CanonicalValue(json.RawMessage(b))
	if err != nil || string(raw) != string(b) {
		t.Fatalf("%s as raw JSON encodes as %s (%v)", b, raw, err)
	}
	p.Extra = map[string]any{"a\xff": 1.0}
	if _, err := dataproduct.CanonicalValue(p); err == nil {
		t.Fatal("an extra key that is not UTF-8 encoded")
	}
}

// Text fields of a datum hold no NUL or other control character: a NUL
// reads back differently (or not at all, on PostgreSQL) and control
// characters can rewrite a terminal (issue 20 item 14).
func TestDatumCheckRefusesControlCharacters(t *testing.T) {
	ok := dataproduct.Datum{TargetID: 1, DataType: dataproduct.TypePhotometry, Timestamp: time.Unix(1e9, 0), Source: "upload",
		Value: dataproduct.Photometry{Magnitude: dataproduct.Float(17), Filter: "g", Telescope: "ZTF 1.2 m", Extra: map[string]any{"note": "a\tb"}}}
	require.NoError(t, ok.Check())
	for name, mutate := range map[string]func(*dataproduct.Datum){
		"NUL in filter":       func(d *dataproduct.Datum) { d.Value = dataproduct.Photometry{Filter: "g\x00"} },
		"NUL in *filter":      func(d *dataproduct.Datum) { d.Value = &dataproduct.Photometry{Filter: "\x00g"} },
		"escape in telescope": func(d *dataproduct.Datum) { d.Value = dataproduct.Photometry{Filter: "g", Telescope: "\x1b[2J"} },
		"DEL in filter":       func(d *dataproduct.Datum) { d.Value = dataproduct.Photometry{Filter: "g\x7f"} },
		"NUL in extra": func(d *dataproduct.Datum) {
			d.Value = dataproduct.Photometry{Filter: "g", Extra: map[string]any{"x": "\x00"}}
		},
		"NUL in extra key": func(d *dataproduct.Datum) {
			d.Value = dataproduct.Photometry{Filter: "g", Extra: map[string]any{"x\x00": 1.0}}
		},
		"NUL in source": func(d *dataproduct.Datum) { d.Source = "up\x00load" },
		"NUL in units": func(d *dataproduct.Datum) {
			d.DataType = dataproduct.TypeSpectroscopy
			d.Value = dataproduct.Spectrum{Wavelength: []float64{1}, Flux: []float64{1}, FluxUnits: "erg\x00"}
		},
	} {
		d := ok
		mutate(&d)
		err := d.Check()
		assert.ErrorIs(t, err, dataproduct.ErrInvalidDatum, name)
		assert.ErrorContains(t, err, "control character", name)
	}
}

// AppendJSONFloat must give encoding/json's bytes for every float64: they
// are part of every de-duplication key already stored.
func TestAppendJSONFloatMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	vs := []float64{0, math.Copysign(0, -1), 1e-6, 9.99999e-7, 1e21, 999999999999999999999, 17.578, -0.104, 57201.169085}
	for range 100_000 {
		switch r.IntN(3) {
		case 0:
			vs = append(vs, float64(r.Int64N(1e12)-5e11)/math.Pow(10, float64(r.IntN(10))))
		case 1:
			vs = append(vs, math.Float64frombits(r.Uint64()))
		default:
			vs = append(vs, 23.9-2.5*math.Log10(r.Float64()*1000))
		}
	}
	for _, v := range vs {
		want, err := json.Marshal(v)
		got, gotErr := dataproduct.AppendJSONFloat(nil, v)
		if err != nil {
			require.Error(t, gotErr, "%v", v)
			continue
		}
		require.NoError(t, gotErr)
		require.Equal(t, string(want), string(got), "bits %#x", math.Float64bits(v))
	}
}
