package dataproduct_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
)

// referenceDecode is the plain encoding/json reading of a photometry
// object, which the fast decoder must agree with.
func referenceDecode(data []byte) (map[string]any, error) {
	var m map[string]any
	err := json.Unmarshal(data, &m)
	return m, err
}

// known are Photometry's own keys; other keys are kept in Extra as they are.
var known = map[string]bool{"magnitude": true, "error": true, "limit": true, "limit_sigma": true, "filter": true,
	"telescope": true, "flux_ujy": true, "flux_err_ujy": true, "mjd": true}

func TestPhotometryUnmarshalAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`,
		` { "magnitude" : 17.5 , "error":0.1,"filter":"g","telescope":"ATLAS" } `,
		`{"limit":19.5,"limit_sigma":3,"filter":"o","mjd":60316.123456}`,
		`{"magnitude":null,"limit":20,"filter":null}`,
		`{"filter":"c\u003c\"q\"","objID":"100000288620246070","nested":{"a":[1,{"b":"}"}],"c":"]"},"flag":true,"none":null}`,
		`{"magnitude":1e-7,"flux_ujy":-12.5E+3}`,
		`{"m\u0061gnitude":3}`,
	} {
		var p dataproduct.Photometry
		require.NoError(t, json.Unmarshal([]byte(in), &p), in)
		out, err := json.Marshal(p)
		require.NoError(t, err)
		want, err := referenceDecode([]byte(in))
		require.NoError(t, err)
		for k, v := range want {
			if known[k] && (v == nil || v == "" || (k == "limit_sigma" && v == 0.0)) {
				delete(want, k) // a null or empty field is absent
			}
		}
		got, err := referenceDecode(out)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
}

func TestPhotometryUnmarshalRejects(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{`, `{"magnitude":}`, `{"magnitude":"x"}`, `{"magnitude":0x10}`, `{"magnitude":Infinity}`,
		`{"filter":3}`, `{"a":1,}`, `{"a":1} x`, `{"a" 1}`, `{"nested":{"a":1}`, `{"s":"unterminated}`, `{"x":tru}`,
	} {
		var p dataproduct.Photometry
		assert.Error(t, json.Unmarshal([]byte(in), &p), "%q", in)
	}
}

func FuzzPhotometryUnmarshal(f *testing.F) {
	for _, s := range []string{`{"magnitude":17.5,"error":0.1,"filter":"g"}`, `{"limit":19,"x":{"y":[1,"}"]}}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p dataproduct.Photometry
		err := json.Unmarshal(data, &p)
		ref, refErr := referenceDecode(data)
		if refErr != nil {
			if err == nil {
				t.Fatalf("accepted %q, which encoding/json refuses: %v", data, refErr)
			}
			return
		}
		if err != nil {
			return // stricter than a generic object: e.g. a string magnitude
		}
		out, err := json.Marshal(p)
		if err != nil {
			return // e.g. an extra key colliding after escapes
		}
		got, _ := referenceDecode(out)
		for k, v := range ref {
			if known[k] && (v == nil || v == "" || (k == "limit_sigma" && v == 0.0)) {
				continue
			}
			if _, ok := got[k]; !ok {
				t.Fatalf("key %q lost from %q", k, data)
			}
		}
	})
}
