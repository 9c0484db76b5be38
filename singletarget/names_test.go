package singletarget_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tomgo/targetdata/singletarget"
)

// The five look-alike "SN 2023ixf" of the attack review (issue 20 item
// 13): format characters are refused, a no-break space and NFD are
// normalised (and refused when not), a Cyrillic і is accepted and
// reported as a look-alike.
func TestLookAlikeTargetNames(t *testing.T) {
	const real = "SN 2023ixf"
	nameErr := func(name string) []string {
		err := (singletarget.Target{ID: 1, Name: name, RA: 1, Dec: 1}).Validate()
		var fe *singletarget.FormErrors
		if errors.As(err, &fe) {
			return fe.Fields["name"]
		}
		return nil
	}
	for _, name := range []string{
		"SN 2023\u200bixf",       // zero-width space
		"SN 2023\u202eixf",       // right-to-left override
		"\ufeffSN 2023ixf",       // byte order mark
		"SN 2023\u200dixf",       // zero-width joiner
		"SN 2023\u2066ixf\u2069", // bidirectional isolate
		"SN 2023\u00adixf",       // soft hyphen
		"SN 2023ixf\u0085",       // a C1 control (next line)
		"SN 2023\u2028ixf",       // line separator
	} {
		assert.NotEmpty(t, nameErr(name), "%+q is refused", name)
		assert.NotEmpty(t, nameErr(singletarget.NormalizeTargetName(name)), "%+q stays refused after normalising: it is not fixed silently", name)
	}
	for _, name := range []string{
		"SN\u00a02023ixf", // no-break space
		"SN\u20092023ixf", // thin space
		"SN\u30002023ixf", // ideographic space
	} {
		assert.NotEmpty(t, nameErr(name), "%+q is refused as typed", name)
		assert.Equal(t, real, singletarget.NormalizeTargetName(name), "%+q normalises to the plain name", name)
		assert.Empty(t, nameErr(singletarget.NormalizeTargetName(name)))
	}
	nfd := "SN 2023ixf Ce\u0301phe\u0301e" // decomposed accents
	assert.NotEmpty(t, nameErr(nfd), "a name not in NFC is refused")
	assert.Equal(t, "SN 2023ixf C\u00e9ph\u00e9e", singletarget.NormalizeTargetName(nfd))
	assert.Empty(t, nameErr(singletarget.NormalizeTargetName(nfd)))

	// Other scripts are names too (Greek letters in star names); one that
	// looks like an existing name is a look-alike, for the TOM to warn of.
	cyrillic := "SN 2023\u0456xf" // Cyrillic і
	assert.Empty(t, nameErr(cyrillic), "a Cyrillic letter is accepted")
	assert.Empty(t, nameErr("\u03b1 Cen"), "α Cen is a name")
	existing := []string{"NGC 1566", real, "\u03b1 Cen"}
	for _, name := range []string{cyrillic, "SN 2O23ixf", "SN 2023ix\u0066", "ＳＮ ２０２３ｉｘｆ", "SN 2023\u200bixf", "SN\u00a02023ixf", "S\u039d 2023ixf"} {
		got, ok := singletarget.LookAlike(name, existing)
		assert.True(t, ok && got == real || name == real, "%+q looks like %q (got %q, %v)", name, real, got, ok)
	}
	_, ok := singletarget.LookAlike(real, existing)
	assert.False(t, ok, "a name is not a look-alike of itself")
	for _, name := range []string{"SN 2023ixg", "SN 2024ixf", "A Cen", "NGC 1567"} {
		got, ok := singletarget.LookAlike(name, existing)
		assert.False(t, ok, "%q is not a look-alike (got %q)", name, got)
	}
	assert.Equal(t, singletarget.TargetNameSkeleton(real), singletarget.TargetNameSkeleton(cyrillic))
	assert.Equal(t, real, singletarget.NormalizeTargetName("  SN   2023ixf "), "runs of spaces collapse")
}
