package dataproduct

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLength is the longest product name a Store accepts, in bytes.
const MaxNameLength = 200

// CheckName reports whether name is safe as a product name and file name:
// non-empty, at most MaxNameLength bytes, valid UTF-8, no path separators,
// no NUL or control characters, and not "." or "..".
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("name is empty")
	case len(name) > MaxNameLength:
		return fmt.Errorf("name is %d bytes long, over %d", len(name), MaxNameLength)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	case name == "." || name == "..":
		return fmt.Errorf("name %q is not a file name", name)
	case strings.ContainsAny(name, "/\\"):
		return fmt.Errorf("name %q contains a path separator", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("name %q contains a control character", name)
		}
	}
	return nil
}

// UploadPrefix starts the name of every product a user uploaded
// (singletarget.Manager.Upload), so that uploads and services' results
// live in separate name spaces: an upload can never take an archive
// product's name, nor a service an upload's.
const UploadPrefix = "upload-"

// UploadName is the stored name of an upload the user called name:
// name with UploadPrefix in front (unchanged if it already starts so).
func UploadName(name string) string {
	if IsUploadName(name) {
		return name
	}
	return UploadPrefix + name
}

// IsUploadName reports whether name is in the uploads' name space.
func IsUploadName(name string) bool { return strings.HasPrefix(name, UploadPrefix) }

// SafeName turns any target name into a string that is safe inside a
// product name: letters, digits, '-', '_' and '.' are kept, every other run
// of characters becomes one '_', leading dots are dropped, and the result is
// capped at 64 bytes. An empty result becomes "target".
func SafeName(s string) string {
	var b strings.Builder
	under := false
	for _, r := range s {
		ok := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
		if ok {
			b.WriteRune(r)
			under = false
		} else if !under {
			b.WriteByte('_')
			under = true
		}
		if b.Len() >= 64 {
			break
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	out = strings.ReplaceAll(out, "..", "_")
	out = strings.Trim(out, "_")
	if out == "" {
		return "target"
	}
	return out
}

// StorageKey is the key a Store uses by default for a product's file:
// "<target id>/<data product type>/<name>". Names are checked by CheckName,
// so the key never escapes its folder.
func StorageKey(p Product) string {
	return fmt.Sprintf("%d/%s/%s", p.TargetID, SafeName(p.DataProductType), p.Name)
}
