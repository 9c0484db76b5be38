package atlas_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/singletarget"
)

func formAt(now time.Time) *atlas.Form {
	return atlas.NewForm(func() time.Time { return now })
}

func TestFormInitialValues(t *testing.T) {
	now := time.Date(2024, 2, 1, 17, 42, 5, 0, time.UTC)
	f := formAt(now)
	fields := f.Fields()
	byName := map[string]singletarget.Field{}
	for _, fd := range fields {
		byName[fd.Name] = fd
	}
	assert.Equal(t, "2024-01-12T00:00:00", byName["min_date"].Initial, "the last 20 days, from the start of the UTC day")
	assert.Equal(t, singletarget.KindDateTime, byName["min_date"].Kind)
	assert.Equal(t, "", byName["max_date"].Initial, "open: up to now")
	assert.Equal(t, singletarget.KindNumber, byName["min_date_mjd"].Kind)
	assert.Equal(t, singletarget.KindBool, byName["use_reduced_data"].Kind)
	assert.Equal(t, singletarget.KindHidden, byName["target_id"].Kind)
	assert.Equal(t, "ATLAS", byName["service"].Initial)
	require.NoError(t, f.Validate(), "the initial values are valid")
	lo, hi := f.Window()
	assert.Equal(t, 60321.0, lo) // 2024-01-12
	assert.Nil(t, hi)
	assert.Equal(t, fields, formAt(now.Add(time.Hour)).Fields(), "forms made the same day agree")
	assert.Equal(t, [][]string{{"min_date", "min_date_mjd"}, {"max_date", "max_date_mjd"}, {"use_reduced_data"}}, f.Layout().Rows)
}

func TestFormDecode(t *testing.T) {
	now := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		params url.Values
		lo     float64
		hi     *float64
		red    bool
	}{
		{"MJD window", url.Values{"min_date_mjd": {"60316"}, "max_date_mjd": {"60336"}}, 60316, f64(60336), false},
		{"dates", url.Values{"min_date": {"2024-01-07"}, "max_date": {"2024-01-27T12:00"}}, 60316, f64(60336.5), false},
		{"mixed", url.Values{"min_date": {"2024-01-07T06:00:00Z"}, "max_date_mjd": {"60336.25"}, "use_reduced_data": {"true"}}, 60316.25, f64(60336.25), true},
		{"zoned date", url.Values{"min_date": {"2024-01-07T01:00:00+01:00"}}, 60316, nil, false},
		{"empty max clears it", url.Values{"min_date_mjd": {"60316.123456789"}, "max_date": {""}}, 60316.123457, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := formAt(now)
			require.NoError(t, f.Decode(tc.params))
			require.NoError(t, f.Validate())
			lo, hi := f.Window()
			assert.InDelta(t, tc.lo, lo, 1e-9)
			if tc.hi == nil {
				assert.Nil(t, hi)
			} else {
				require.NotNil(t, hi)
				assert.InDelta(t, *tc.hi, *hi, 1e-9)
			}
			assert.Equal(t, tc.red, f.UseReducedData)
		})
	}
}

func TestFormErrors(t *testing.T) {
	now := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		params url.Values
		field  string
	}{
		{"not a number", url.Values{"min_date_mjd": {"abc"}}, "min_date_mjd"},
		{"not a date", url.Values{"min_date": {"yesterday"}}, "min_date"},
		{"no minimum", url.Values{"min_date": {""}}, "min_date"},
		{"both minimums", url.Values{"min_date": {"2024-01-07"}, "min_date_mjd": {"60316"}}, "min_date_mjd"},
		{"both maximums", url.Values{"max_date": {"2024-01-27"}, "max_date_mjd": {"60336"}}, "max_date_mjd"},
		{"max before min", url.Values{"min_date_mjd": {"60336"}, "max_date_mjd": {"60316"}}, "max_date_mjd"},
		{"max date before min date", url.Values{"min_date": {"2024-01-27"}, "max_date": {"2024-01-07"}}, "max_date"},
		{"min in the future", url.Values{"min_date_mjd": {"60400"}}, "min_date_mjd"},
		{"negative MJD", url.Values{"min_date_mjd": {"-5"}}, "min_date_mjd"},
		{"absurd MJD", url.Values{"max_date_mjd": {"1e9"}}, "max_date_mjd"},
		{"before MJD 0", url.Values{"min_date": {"1800-01-01"}}, "min_date"},
		{"unknown field", url.Values{"radius": {"5"}}, "radius"},
		{"not a bool", url.Values{"use_reduced_data": {"maybe"}}, "use_reduced_data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := formAt(now)
			err := f.Decode(tc.params)
			if err == nil {
				err = f.Validate()
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, singletarget.ErrInvalidForm)
			var fe *singletarget.FormErrors
			require.ErrorAs(t, err, &fe)
			assert.NotEmpty(t, fe.Fields[tc.field], "errors name %s: %v", tc.field, err)
		})
	}
}
