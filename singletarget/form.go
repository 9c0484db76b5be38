package singletarget

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-playground/form/v4"
	"github.com/go-playground/validator/v10"
)

// QueryForm is a service's query form: what a UI renders and what a
// request's parameters decode into. Forms are used through pointers and
// are not safe for concurrent use; a service's NewForm returns a fresh one
// for each query.
type QueryForm interface {
	// Fields describes each field, enough to render HTML or JSON Schema.
	Fields() []Field
	// Layout arranges the fields in rows, like a crispy-forms layout.
	Layout() Layout
	// Decode sets the fields named in v (other fields keep their values,
	// which start as the initial ones). A value that cannot be converted,
	// or a name that is not a field, gives a *FormErrors.
	Decode(v url.Values) error
	// Validate checks field rules and cross-field rules and returns a
	// *FormErrors naming each bad field, or nil.
	Validate() error
}

// Field kinds, for Field.Kind.
const (
	KindText     = "text"
	KindTextArea = "textarea"
	KindInteger  = "integer"
	KindNumber   = "number"
	KindBool     = "checkbox"
	KindChoice   = "choice"
	KindDate     = "date"
	KindDateTime = "datetime"
	KindHidden   = "hidden"
	KindPassword = "password"
)

// Field describes one form field.
type Field struct {
	// Name is the form name, the key in url.Values.
	Name string `json:"name"`
	// Label is the human-readable label.
	Label string `json:"label"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Help is a help text.
	Help string `json:"help,omitempty"`
	// Initial is the initial value, as a form string.
	Initial string `json:"initial,omitempty"`
	// Required reports whether the field must be given.
	Required bool `json:"required,omitempty"`
	// Choices are the allowed values of a choice field.
	Choices []Choice `json:"choices,omitempty"`
	// DependsOn names the field whose value selects the choices, when
	// ChoicesFor is set: ChoicesFor[value of DependsOn].
	DependsOn string `json:"depends_on,omitempty"`
	// ChoicesFor maps a value of DependsOn to the choices allowed then.
	ChoicesFor map[string][]Choice `json:"choices_for,omitempty"`
	// Min and Max bound a number or integer field, when set; MinExclusive
	// and MaxExclusive say the bound itself is not allowed (gt, lt).
	Min          *float64 `json:"min,omitempty"`
	Max          *float64 `json:"max,omitempty"`
	MinExclusive bool     `json:"min_exclusive,omitempty"`
	MaxExclusive bool     `json:"max_exclusive,omitempty"`
}

// Choice is one allowed value of a choice field.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Layout arranges fields: each row lists the names of the fields shown
// side by side.
type Layout struct {
	Rows [][]string `json:"rows"`
}

// Cleaner is implemented by forms with cross-field rules (Django's
// Form.clean). Validate calls Clean after every field passed its own rules;
// Clean records problems with errs.Add (NonFieldErrors for the form as a
// whole) and may normalise values.
type Cleaner interface {
	Clean(errs *FormErrors)
}

// FormBase gives a struct the whole QueryForm behaviour from its tags.
// Embed it, and call Bind with the form's own pointer in NewForm:
//
//	type Form struct {
//		singletarget.FormBase
//		Radius float64 `form:"radius" label:"Radius (arcsec)" validate:"gt=0,lte=3600" help:"Cone radius."`
//		Band   string  `form:"band" validate:"oneof=g r i" choices:"g=g band|r=r band|i=i band"`
//	}
//	func (s *Service) NewForm() singletarget.QueryForm {
//		f := &Form{Radius: 30, Band: "g"}
//		f.Bind(f)
//		return f
//	}
//
// Tags: `form` (the field name; "-" skips the field), `label`, `help`,
// `kind` (one of the Kind constants; derived from the Go type when absent:
// string text, bool checkbox, ints integer, floats number, time.Time
// datetime, a `choices` tag choice), `choices` ("value=Label|value=Label"),
// `validate` (go-playground/validator rules; "required" marks the field
// required), and `alias` (older names Decode accepts for the field,
// comma-separated, e.g. `form:"min_date_mjd" alias:"mjd_min"`; a value
// given under both names is an error). Cross-field rules go in a Clean
// method (see Cleaner). Fields may be pointers, so that "not given" is nil.
//
// The common fields Service and TargetID ("service", "target_id") come
// with the base, as in the TOM's base form; they are hidden.
type FormBase struct {
	// Service is the service's name, as the TOM's form carries it.
	Service string `form:"service" kind:"hidden" label:"Service"`
	// TargetID is the TOM's target id.
	TargetID int64 `form:"target_id" kind:"hidden" label:"Target"`

	self any
}

// Bind tells the base which struct it is embedded in; self must be a
// pointer to that struct. Call it once, in the service's NewForm.
func (b *FormBase) Bind(self any) {
	v := reflect.ValueOf(self)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("singletarget: FormBase.Bind needs a pointer to the form struct, got %T", self))
	}
	b.self = self
}

func (b *FormBase) bound() any {
	if b.self == nil {
		// Not embedded or not bound: the base alone is the form.
		return b
	}
	return b.self
}

// Decode implements QueryForm.
func (b *FormBase) Decode(v url.Values) error { return DecodeForm(b.bound(), v) }

// Validate implements QueryForm.
func (b *FormBase) Validate() error { return ValidateForm(b.bound()) }

// Fields implements QueryForm.
func (b *FormBase) Fields() []Field { return FormFields(b.bound()) }

// Layout implements QueryForm: one visible field per row, in declaration
// order. Forms override it for side-by-side fields.
func (b *FormBase) Layout() Layout { return DefaultLayout(b.bound()) }

var (
	decoderOnce sync.Once
	decoder     *form.Decoder
	validate    *validator.Validate
)

// timeLayouts are the date and time forms a datetime field accepts; times
// without a zone are UTC.
var timeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02",
}

// ParseFormTime parses a date or date-time as a datetime field does:
// RFC 3339, or "2006-01-02[T15:04[:05]]" taken as UTC.
func ParseFormTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date/time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)", s)
}

func setup() {
	decoderOnce.Do(func() {
		decoder = form.NewDecoder()
		decoder.SetMaxArraySize(1000)
		decoder.RegisterCustomTypeFunc(func(vals []string) (any, error) {
			if len(vals) == 0 || strings.TrimSpace(vals[0]) == "" {
				return time.Time{}, nil
			}
			return ParseFormTime(vals[0])
		}, time.Time{})
		validate = validator.New(validator.WithRequiredStructEnabled())
		validate.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("form"), ",")
			if name == "-" {
				return ""
			}
			if name == "" {
				return f.Name
			}
			return name
		})
	})
}

// formFields walks the form struct (promoting embedded structs) and
// returns its fields in order, with their form names.
type structField struct {
	name  string
	sf    reflect.StructField
	value reflect.Value
}

func walkFields(v reflect.Value) []structField {
	var out []structField
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		fv := v.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct && sf.Tag.Get("form") == "" {
			out = append(out, walkFields(fv)...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("form"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, structField{name: name, sf: sf, value: fv})
	}
	return out
}

func structOf(f any) reflect.Value {
	v := reflect.ValueOf(f)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		panic(fmt.Sprintf("singletarget: a form must be a pointer to a struct, got %T", f))
	}
	return v
}

// DecodeForm decodes url.Values into the form struct f (a pointer), using
// its `form` tags. Names that are not fields and values that do not convert
// give a *FormErrors; fields not named in v keep their values. Values that
// are empty strings set pointer fields to nil and other fields to zero.
func DecodeForm(f any, v url.Values) error {
	setup()
	fields := walkFields(structOf(f))
	byName := make(map[string]structField, len(fields))
	for _, sf := range fields {
		byName[sf.name] = sf
	}
	var errs FormErrors
	v = resolveAliases(fields, v, &errs)
	known := url.Values{}
	for k, vals := range v {
		sf, ok := byName[k]
		if !ok {
			names := make([]string, 0, len(byName))
			for n := range byName {
				names = append(names, n)
			}
			sort.Strings(names)
			errs.Add(k, fmt.Sprintf("Unknown field (the form's fields are %s).", strings.Join(names, ", ")))
			continue
		}
		if len(vals) == 0 || (len(vals) == 1 && strings.TrimSpace(vals[0]) == "") {
			// An empty value clears the field, like an empty HTML input.
			sf.value.Set(reflect.Zero(sf.sf.Type))
			continue
		}
		known[k] = vals
	}
	if err := decoder.Decode(f, known); err != nil {
		var de form.DecodeErrors
		if errors.As(err, &de) {
			for ns, e := range de {
				name := ns
				if i := strings.LastIndexByte(ns, '.'); i >= 0 {
					name = ns[i+1:]
				}
				msg := e.Error()
				if sf, ok := byName[name]; ok {
					msg = conversionMessage(sf, known.Get(name), e)
				}
				errs.Add(name, msg)
			}
		} else {
			errs.Add(NonFieldErrors, err.Error())
		}
	}
	return errs.Err()
}

// resolveAliases renames the older names of fields (their `alias` tags)
// to the fields' names. A value given under two of a field's names is an
// error of the field.
func resolveAliases(fields []structField, v url.Values, errs *FormErrors) url.Values {
	var out url.Values
	for _, sf := range fields {
		tag := sf.sf.Tag.Get("alias")
		if tag == "" {
			continue
		}
		given := sf.name // the name the field's value came under so far
		for alias := range strings.SplitSeq(tag, ",") {
			vals, ok := v[alias]
			if !ok {
				continue
			}
			if out == nil {
				out = maps.Clone(v)
			}
			delete(out, alias)
			if _, both := out[sf.name]; both {
				if given == sf.name {
					errs.Add(sf.name, fmt.Sprintf("Given twice: as %s and as its older name %s.", sf.name, alias))
				} else {
					errs.Add(sf.name, fmt.Sprintf("Given twice: as %s and as %s, both older names of %s.", given, alias, sf.name))
				}
				continue
			}
			out[sf.name], given = vals, alias
		}
	}
	if out == nil {
		return v
	}
	return out
}

func conversionMessage(sf structField, val string, err error) string {
	t := sf.sf.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(time.Time{}):
		if _, perr := ParseFormTime(val); perr != nil {
			return fmt.Sprintf("Enter a valid date/time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS), not %q.", val)
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return fmt.Sprintf("Enter a whole number, not %q.", val)
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return fmt.Sprintf("Enter a number, not %q.", val)
	case t.Kind() == reflect.Bool:
		return fmt.Sprintf("Enter true or false, not %q.", val)
	}
	return err.Error()
}

// ValidateForm checks the form struct f against its `validate` tags, its
// `choices`, and then its Clean method (if f is a Cleaner and every field
// passed). The result is a *FormErrors or nil.
func ValidateForm(f any) error {
	setup()
	var errs FormErrors
	sv := structOf(f)
	if err := validate.Struct(sv.Addr().Interface()); err != nil {
		var ve validator.ValidationErrors
		if !errors.As(err, &ve) {
			errs.Add(NonFieldErrors, err.Error())
		}
		for _, fe := range ve {
			errs.Add(fe.Field(), ruleMessage(fe))
		}
	}
	for _, sf := range walkFields(sv) {
		if cs := parseChoices(sf.sf.Tag.Get("choices")); cs != nil && len(errs.Fields[sf.name]) == 0 {
			s := formString(sf.value)
			if s != "" && !slices.ContainsFunc(cs, func(c Choice) bool { return c.Value == s }) {
				errs.Add(sf.name, fmt.Sprintf("Select a valid choice. %q is not one of the available choices.", s))
			}
		}
	}
	if errs.Empty() {
		if c, ok := f.(Cleaner); ok {
			c.Clean(&errs)
		} else if c, ok := sv.Addr().Interface().(Cleaner); ok {
			c.Clean(&errs)
		}
	}
	return errs.Err()
}

func ruleMessage(fe validator.FieldError) string {
	p := fe.Param()
	switch fe.Tag() {
	case "required", "required_if", "required_unless", "required_with", "required_without":
		return "This field is required."
	case "gte", "min":
		if isNumberKind(fe.Kind()) {
			return fmt.Sprintf("Ensure this value is greater than or equal to %s.", p)
		}
		return fmt.Sprintf("Ensure this value has at least %s characters.", p)
	case "lte", "max":
		if isNumberKind(fe.Kind()) {
			return fmt.Sprintf("Ensure this value is less than or equal to %s.", p)
		}
		return fmt.Sprintf("Ensure this value has at most %s characters.", p)
	case "gt":
		return fmt.Sprintf("Ensure this value is greater than %s.", p)
	case "lt":
		return fmt.Sprintf("Ensure this value is less than %s.", p)
	case "oneof":
		return fmt.Sprintf("Select a valid choice. %v is not one of the available choices (%s).", fe.Value(), p)
	case "email":
		return "Enter a valid email address."
	case "url", "http_url":
		return "Enter a valid URL."
	case "excluded_with", "excluded_unless", "excluded_if":
		return fmt.Sprintf("Give either this field or %s, not both.", p)
	}
	if p != "" {
		return fmt.Sprintf("Invalid value (rule %s=%s).", fe.Tag(), p)
	}
	return fmt.Sprintf("Invalid value (rule %s).", fe.Tag())
}

func isNumberKind(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Float64
}

func parseChoices(tag string) []Choice {
	if tag == "" {
		return nil
	}
	var out []Choice
	for _, part := range strings.Split(tag, "|") {
		v, l, ok := strings.Cut(part, "=")
		if !ok {
			l = v
		}
		out = append(out, Choice{Value: strings.TrimSpace(v), Label: strings.TrimSpace(l)})
	}
	return out
}

// formString renders a field's value as a form string ("" for nil or a
// zero time).
func formString(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if t, ok := v.Interface().(time.Time); ok {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04:05")
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

// FormFields describes the fields of the form struct f (a pointer) from
// its tags; Initial is each field's current value.
func FormFields(f any) []Field {
	var out []Field
	for _, sf := range walkFields(structOf(f)) {
		tag := sf.sf.Tag
		fd := Field{
			Name:    sf.name,
			Label:   tag.Get("label"),
			Help:    tag.Get("help"),
			Kind:    tag.Get("kind"),
			Choices: parseChoices(tag.Get("choices")),
			Initial: formString(sf.value),
		}
		if fd.Label == "" {
			fd.Label = labelFromName(sf.name)
		}
		rules := strings.Split(tag.Get("validate"), ",")
		for _, r := range rules {
			name, param, _ := strings.Cut(r, "=")
			switch name {
			case "required":
				fd.Required = true
			case "gte", "gt", "min":
				if x, err := strconv.ParseFloat(param, 64); err == nil {
					fd.Min, fd.MinExclusive = &x, name == "gt"
				}
			case "lte", "lt", "max":
				if x, err := strconv.ParseFloat(param, 64); err == nil {
					fd.Max, fd.MaxExclusive = &x, name == "lt"
				}
			case "oneof":
				if fd.Choices == nil {
					for _, c := range strings.Fields(param) {
						fd.Choices = append(fd.Choices, Choice{Value: c, Label: c})
					}
				}
			}
		}
		if fd.Kind == "" {
			fd.Kind = kindOf(sf.sf.Type, fd.Choices != nil)
		}
		if fd.Kind != KindNumber && fd.Kind != KindInteger {
			fd.Min, fd.Max, fd.MinExclusive, fd.MaxExclusive = nil, nil, false, false
		}
		out = append(out, fd)
	}
	return out
}

func kindOf(t reflect.Type, hasChoices bool) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case hasChoices:
		return KindChoice
	case t == reflect.TypeOf(time.Time{}):
		return KindDateTime
	case t.Kind() == reflect.Bool:
		return KindBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return KindInteger
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return KindNumber
	}
	return KindText
}

func labelFromName(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// DefaultLayout puts each visible field of f on its own row.
func DefaultLayout(f any) Layout {
	var l Layout
	for _, fd := range FormFields(f) {
		if fd.Kind != KindHidden {
			l.Rows = append(l.Rows, []string{fd.Name})
		}
	}
	return l
}

// FieldByName returns the named field of fields.
func FieldByName(fields []Field, name string) (Field, bool) {
	for _, f := range fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}
