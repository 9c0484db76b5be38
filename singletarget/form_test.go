package singletarget_test

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/singletarget"
)

type testForm struct {
	singletarget.FormBase
	Radius  float64    `form:"radius" label:"Radius (arcsec)" help:"Cone radius." validate:"gt=0,lte=3600"`
	Band    string     `form:"band" choices:"g=g band|r=r band"`
	MinMJD  *float64   `form:"min_date_mjd" alias:"min_mjd,mjd_min" validate:"omitempty,gte=40000"`
	MaxDate *time.Time `form:"max_date"`
	Count   int        `form:"count" validate:"required"`
	Reduced bool       `form:"reduced"`
	Notes   string     `form:"notes" kind:"textarea"`
}

func (f *testForm) Clean(errs *singletarget.FormErrors) {
	if f.MinMJD != nil && f.MaxDate != nil && *f.MinMJD > 60000 {
		errs.Add(singletarget.NonFieldErrors, "min_date_mjd is after max_date")
	}
}

func newTestForm() *testForm {
	f := &testForm{Radius: 30, Band: "g", Count: 2}
	f.Bind(f)
	return f
}

func TestFormDecodeValidate(t *testing.T) {
	f := newTestForm()
	require.NoError(t, f.Decode(url.Values{"radius": {"12.5"}, "min_date_mjd": {"59316.5"}, "max_date": {"2024-02-01"},
		"reduced": {"true"}, "service": {"TEST"}, "target_id": {"7"}}))
	require.NoError(t, f.Validate())
	assert.Equal(t, 12.5, f.Radius)
	assert.Equal(t, "g", f.Band, "fields not given keep their initial values")
	assert.Equal(t, 59316.5, *f.MinMJD)
	assert.Equal(t, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), *f.MaxDate)
	assert.True(t, f.Reduced)
	assert.Equal(t, "TEST", f.Service)
	assert.Equal(t, int64(7), f.TargetID)

	require.NoError(t, f.Decode(url.Values{"min_date_mjd": {""}}))
	assert.Nil(t, f.MinMJD, "an empty value clears a pointer field")
}

// A field's older names (its alias tag) are accepted; both names at once
// are an error of the field; the field list shows only the current name.
func TestFormAliases(t *testing.T) {
	for _, old := range []string{"min_mjd", "mjd_min"} {
		f := newTestForm()
		require.NoError(t, f.Decode(url.Values{old: {"59316.5"}}))
		require.NotNil(t, f.MinMJD, old)
		assert.Equal(t, 59316.5, *f.MinMJD, old)

		err := newTestForm().Decode(url.Values{old: {"abc"}})
		var fe *singletarget.FormErrors
		require.ErrorAs(t, err, &fe)
		assert.Contains(t, fe.Fields, "min_date_mjd", "a bad value under an old name is the field's error")
	}
	err := newTestForm().Decode(url.Values{"min_date_mjd": {"59000"}, "mjd_min": {"59000"}})
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []string{"Given twice: as min_date_mjd and as its older name mjd_min."}, fe.Fields["min_date_mjd"])
	// Two older names at once are given twice too (not one silently
	// dropped).
	err = newTestForm().Decode(url.Values{"min_mjd": {"59000"}, "mjd_min": {"59001"}})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []string{"Given twice: as min_mjd and as mjd_min, both older names of min_date_mjd."}, fe.Fields["min_date_mjd"])

	names := []string{}
	for _, fl := range newTestForm().Fields() {
		names = append(names, fl.Name)
	}
	assert.Contains(t, names, "min_date_mjd")
	assert.NotContains(t, names, "mjd_min")
}

func TestFormErrorsNameFields(t *testing.T) {
	f := newTestForm()
	err := f.Decode(url.Values{"radius": {"wide"}, "max_date": {"yesterday"}, "radus": {"3"}})
	var fe *singletarget.FormErrors
	require.ErrorAs(t, err, &fe)
	assert.True(t, errors.Is(err, singletarget.ErrInvalidForm))
	assert.Contains(t, fe.Fields["radius"][0], `Enter a number, not "wide"`)
	assert.Contains(t, fe.Fields["max_date"][0], "valid date")
	assert.Contains(t, fe.Fields["radus"][0], "Unknown field")
	assert.Contains(t, fe.Fields["radus"][0], "radius")

	f = newTestForm()
	require.NoError(t, f.Decode(url.Values{"radius": {"-1"}, "band": {"z"}, "min_date_mjd": {"10"}, "count": {""}}))
	err = f.Validate()
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []string{"Ensure this value is greater than 0."}, fe.Fields["radius"])
	assert.Contains(t, fe.Fields["band"][0], "Select a valid choice")
	assert.Equal(t, []string{"Ensure this value is greater than or equal to 40000."}, fe.Fields["min_date_mjd"])
	assert.Equal(t, []string{"This field is required."}, fe.Fields["count"])
	assert.NotContains(t, fe.Fields, singletarget.NonFieldErrors, "Clean runs only when fields pass")

	f = newTestForm()
	require.NoError(t, f.Decode(url.Values{"min_date_mjd": {"60100"}, "max_date": {"2024-01-01T00:00:00Z"}}))
	err = f.Validate()
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []string{"min_date_mjd is after max_date"}, fe.Fields[singletarget.NonFieldErrors])
	assert.Equal(t, "invalid form: min_date_mjd is after max_date", err.Error())
}

func TestFormFieldsAndLayout(t *testing.T) {
	f := newTestForm()
	fields := f.Fields()
	names := []string{}
	for _, fd := range fields {
		names = append(names, fd.Name)
	}
	assert.Equal(t, []string{"service", "target_id", "radius", "band", "min_date_mjd", "max_date", "count", "reduced", "notes"}, names)
	r, _ := singletarget.FieldByName(fields, "radius")
	assert.Equal(t, "Radius (arcsec)", r.Label)
	assert.Equal(t, "Cone radius.", r.Help)
	assert.Equal(t, singletarget.KindNumber, r.Kind)
	assert.Equal(t, "30", r.Initial)
	assert.Equal(t, 0.0, *r.Min)
	assert.True(t, r.MinExclusive, "gt=0 excludes 0")
	assert.False(t, r.MaxExclusive)
	assert.Equal(t, 3600.0, *r.Max)
	b, _ := singletarget.FieldByName(fields, "band")
	assert.Equal(t, singletarget.KindChoice, b.Kind)
	assert.Equal(t, []singletarget.Choice{{Value: "g", Label: "g band"}, {Value: "r", Label: "r band"}}, b.Choices)
	c, _ := singletarget.FieldByName(fields, "count")
	assert.True(t, c.Required)
	assert.Equal(t, singletarget.KindInteger, c.Kind)
	d, _ := singletarget.FieldByName(fields, "max_date")
	assert.Equal(t, singletarget.KindDateTime, d.Kind)
	assert.Equal(t, "", d.Initial)
	m, _ := singletarget.FieldByName(fields, "reduced")
	assert.Equal(t, singletarget.KindBool, m.Kind)
	n, _ := singletarget.FieldByName(fields, "notes")
	assert.Equal(t, singletarget.KindTextArea, n.Kind)
	s, _ := singletarget.FieldByName(fields, "service")
	assert.Equal(t, singletarget.KindHidden, s.Kind)
	assert.Len(t, f.Layout().Rows, 7, "hidden fields are not laid out")

	g := newTestForm()
	g.Radius = 99
	r2, _ := singletarget.FieldByName(f.Fields(), "radius")
	assert.Equal(t, "30", r2.Initial, "forms are independent")
}
