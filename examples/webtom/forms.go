package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tomgo/targetdata/singletarget"
)

// csrfField is the name of the hidden field that carries the CSRF token.
// It is the page's, not the query form's, and is removed before decoding.
const csrfField = "csrf_token"

// fieldView is one form field ready for the template.
type fieldView struct {
	singletarget.Field
	// ID is the element id, unique on the page ("f-ATLAS-min_date").
	ID string
	// Value is what the input shows: the submitted value after a post, the
	// form's initial value otherwise (never a password).
	Value string
	// Checked is a checkbox's state.
	Checked bool
	// InputType is the <input> type for the kinds drawn as inputs.
	InputType string
	// Step, MinAttr and MaxAttr are the number inputs' attributes.
	Step, MinAttr, MaxAttr string
	// Options are the choices shown now: for a field that depends on
	// another, those allowed for the other's current value.
	Options []singletarget.Choice
	// DependsOnID is the element id of the field the choices depend on,
	// and ChoicesFor its choices by value, as JSON, for the page script.
	DependsOnID, ChoicesFor string
	// Errors are the field's messages.
	Errors []string
	// Autofocus is set on the first field in error.
	Autofocus bool
}

// formView is a service's query form ready for the template.
type formView struct {
	// Service is the registry name; Info describes it.
	Service string
	Info    singletarget.Info
	// Anchor is the id of the form's section.
	Anchor string
	// Action is where the form posts.
	Action string
	// Hidden are the hidden fields; Rows the visible ones as laid out.
	Hidden []fieldView
	Rows   [][]fieldView
	// Errors are the form's errors that belong to no visible field.
	Errors []string
	// Invalid reports that the form was posted and refused.
	Invalid bool
	// CSRF is the page's token.
	CSRF string
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// elementID makes an element id from parts.
func elementID(parts ...string) string {
	for i, p := range parts {
		parts[i] = unsafeID.ReplaceAllString(p, "_")
	}
	return strings.Join(parts, "-")
}

// inputTypes maps the field kinds drawn as <input> to the input type.
var inputTypes = map[string]string{
	singletarget.KindText:     "text",
	singletarget.KindInteger:  "number",
	singletarget.KindNumber:   "number",
	singletarget.KindDate:     "date",
	singletarget.KindDateTime: "datetime-local",
	singletarget.KindHidden:   "hidden",
	singletarget.KindPassword: "password",
}

// buildForm renders a service's form f for target. posted holds the
// submitted values after a refused post (nil on a fresh page) and errs
// the form's errors.
func buildForm(service string, info singletarget.Info, f singletarget.QueryForm, target singletarget.Target,
	posted url.Values, errs *singletarget.FormErrors) formView {
	fv := formView{
		Service: service, Info: info,
		Anchor:  elementID("svc", service),
		Action:  fmt.Sprintf("/targets/%d/query/%s", target.ID, url.PathEscape(service)),
		Invalid: !errs.Empty(),
	}
	fields := f.Fields()
	// The values the form shows: the submitted ones after a post, the
	// initial ones otherwise; the base's hidden fields are this page's.
	values := map[string]string{}
	for _, fd := range fields {
		v := fd.Initial
		if posted != nil {
			v = posted.Get(fd.Name)
		}
		if fd.Kind == singletarget.KindDate && len(v) > len("2006-01-02") && posted == nil {
			v = v[:len("2006-01-02")]
		}
		values[fd.Name] = v
	}
	values["service"] = service
	values["target_id"] = strconv.FormatInt(target.ID, 10)

	var fieldErrs map[string][]string
	if errs != nil {
		fieldErrs = errs.Fields
	}
	byName := map[string]fieldView{}
	for _, fd := range fields {
		v := fieldView{Field: fd, ID: elementID("f", service, fd.Name), Value: values[fd.Name], InputType: inputTypes[fd.Kind]}
		switch fd.Kind {
		case singletarget.KindBool:
			v.Checked, _ = strconv.ParseBool(v.Value)
		case singletarget.KindPassword:
			v.Value = "" // never sent back to the browser
		case singletarget.KindInteger:
			v.Step = "1"
		case singletarget.KindNumber:
			v.Step = "any"
		case singletarget.KindDateTime:
			v.Step = "1"
		case singletarget.KindChoice:
			v.Options = fd.Choices
			if fd.DependsOn != "" && fd.ChoicesFor != nil {
				if cs, ok := fd.ChoicesFor[values[fd.DependsOn]]; ok {
					v.Options = cs
				}
				v.DependsOnID = elementID("f", service, fd.DependsOn)
				b, _ := json.Marshal(fd.ChoicesFor)
				v.ChoicesFor = string(b)
			}
			if v.Value == "" && !slices.ContainsFunc(v.Options, func(c singletarget.Choice) bool { return c.Value == "" }) {
				v.Options = append([]singletarget.Choice{{Value: "", Label: "---------"}}, v.Options...)
			}
		}
		// HTML bounds are inclusive: an exclusive one (gt, lt) is left to
		// the server's check.
		if fd.Min != nil && !fd.MinExclusive {
			v.MinAttr = strconv.FormatFloat(*fd.Min, 'g', -1, 64)
		}
		if fd.Max != nil && !fd.MaxExclusive {
			v.MaxAttr = strconv.FormatFloat(*fd.Max, 'g', -1, 64)
		}
		byName[fd.Name] = v
	}

	// Rows as the form lays them out; visible fields the layout forgets
	// get a row of their own.
	placed := map[string]bool{}
	var rows [][]string
	for _, row := range f.Layout().Rows {
		var r []string
		for _, name := range row {
			if fd, ok := byName[name]; ok && fd.Kind != singletarget.KindHidden && !placed[name] {
				r = append(r, name)
				placed[name] = true
			}
		}
		if len(r) > 0 {
			rows = append(rows, r)
		}
	}
	for _, fd := range fields {
		if fd.Kind != singletarget.KindHidden && !placed[fd.Name] {
			rows = append(rows, []string{fd.Name})
			placed[fd.Name] = true
		}
	}

	// Errors go next to their field; the rest (the form's own, and those
	// of hidden or unknown fields) on top.
	focused := false
	for _, row := range rows {
		var r []fieldView
		for _, name := range row {
			v := byName[name]
			v.Errors = fieldErrs[name]
			if len(v.Errors) > 0 && !focused {
				v.Autofocus, focused = true, true
			}
			r = append(r, v)
		}
		fv.Rows = append(fv.Rows, r)
	}
	for _, fd := range fields {
		if fd.Kind == singletarget.KindHidden {
			fv.Hidden = append(fv.Hidden, byName[fd.Name])
		}
	}
	fv.Errors = append(fv.Errors, fieldErrs[singletarget.NonFieldErrors]...)
	keys := make([]string, 0, len(fieldErrs))
	for k := range fieldErrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == singletarget.NonFieldErrors || placed[k] {
			continue
		}
		label := k
		if fd, ok := byName[k]; ok {
			label = fd.Label
		}
		for _, m := range fieldErrs[k] {
			fv.Errors = append(fv.Errors, label+": "+m)
		}
	}
	return fv
}

// queryParams turns a posted query form into the request's params: the
// page's CSRF field is dropped, each checkbox's values (the hidden
// "false" and, when ticked, "true") become one, and the hidden service and
// target fields are this page's.
func queryParams(posted url.Values, fields []singletarget.Field, service string, target singletarget.Target) url.Values {
	p := url.Values{}
	for k, vs := range posted {
		if k != csrfField {
			p[k] = slices.Clone(vs)
		}
	}
	for _, fd := range fields {
		if fd.Kind != singletarget.KindBool {
			continue
		}
		vs, ok := p[fd.Name]
		if !ok {
			continue
		}
		on := slices.ContainsFunc(vs, func(s string) bool {
			b, err := strconv.ParseBool(s)
			return (err == nil && b) || s == "on"
		})
		p.Set(fd.Name, strconv.FormatBool(on))
	}
	if _, ok := singletarget.FieldByName(fields, "service"); ok {
		p.Set("service", service)
	}
	if _, ok := singletarget.FieldByName(fields, "target_id"); ok {
		p.Set("target_id", strconv.FormatInt(target.ID, 10))
	}
	return p
}
