package singletarget

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Target names that look alike.
//
// Five targets named "SN 2023ixf" that look the same on screen but differ
// in their bytes (a zero-width space, a right-to-left override, a byte
// order mark, a Cyrillic і, a no-break space, decomposed accents) split a
// target's data and fool its users. What is done about each:
//
//   - refused by Target.Validate: invisible and formatting characters
//     (Unicode's Cf: zero-width spaces and joiners, bidirectional
//     overrides and isolates such as U+202E, the byte order mark U+FEFF,
//     soft hyphens), control characters (C0 and C1), line and paragraph
//     separators and private-use characters; spaces other than the plain
//     U+0020 (the no-break space U+00A0, thin and ideographic spaces, ...);
//     and names not in Unicode normalization form C (NFC);
//   - fixed by NormalizeTargetName, which a TOM applies to what a user
//     typed before it creates a target: NFC, every Unicode space a plain
//     one, runs of spaces one space, none at either end;
//   - warned about (LookAlike): letters of another script that look like
//     Latin ones (the Cyrillic і, а, е, о, р, с, х and the Greek Α, Ο, ν,
//     ...), since real names use them (Greek letters in star names, Cyrillic
//     catalogues); a TOM shows the warning when a target is created whose
//     name looks like an existing one (examples/webtom does).

// NormalizeTargetName returns name as a TOM should store it: in Unicode
// normalization form C, every Unicode space (the no-break space U+00A0,
// thin and ideographic spaces, ...) a plain space, runs of spaces one
// space, no space at either end. Invisible formatting characters are left
// for Target.Validate to refuse: removing them silently would hide a
// pasted name's oddity.
func NormalizeTargetName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	space := false
	for _, r := range norm.NFC.String(name) {
		if unicode.Is(unicode.Zs, r) || r == '\t' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// checkTargetName returns why a name that is valid UTF-8 is refused, or "".
func checkTargetName(name string) string {
	for i, r := range name {
		switch {
		case r == utf8.RuneError:
			return "Must be valid UTF-8."
		case unicode.IsControl(r):
			return "Must not contain control characters."
		case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co) || isNoncharacter(r):
			return fmt.Sprintf("Must not contain invisible or formatting characters (%U at byte %d).", r, i)
		case r != ' ' && unicode.Is(unicode.Zs, r):
			return fmt.Sprintf("Must use plain spaces, not %U at byte %d (NormalizeTargetName replaces it).", r, i)
		}
	}
	if !norm.NFC.IsNormalString(name) {
		return "Must be in Unicode normalization form C (NormalizeTargetName gives it)."
	}
	return ""
}

func isNoncharacter(r rune) bool {
	return (r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}

// TargetNameSkeleton returns the form under which target names that look
// alike on screen are equal: compatibility-normalized (NFKC: fullwidth and
// mathematical letters become plain ones), without invisible characters,
// spaces made plain and collapsed, letters of Cyrillic and Greek that look
// like Latin ones made Latin, 0 made O and 1 and I made l (as UTS #39's
// skeleton does, case is kept: names that differ only in case are told
// apart by the eye, and a TOM refuses them as duplicates anyway). It covers the look-alikes of the Latin letters and digits that target
// names are written in, not the whole of Unicode's confusables (UTS #39).
// Two names are look-alikes when their skeletons are equal and the names
// are not.
func TargetNameSkeleton(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	space := false
	for _, r := range norm.NFKC.String(name) {
		switch {
		case unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me) || unicode.IsControl(r):
			continue // invisible, or a combining mark over a look-alike
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if l, ok := latinLookAlike[r]; ok {
			r = l
		}
		b.WriteRune(r)
	}
	return b.String()
}

// LookAlike returns the first name of existing that looks like name (the
// same TargetNameSkeleton) without being it, for a TOM to warn before it
// creates a target; ok is false when there is none.
func LookAlike(name string, existing []string) (match string, ok bool) {
	sk := TargetNameSkeleton(name)
	for _, e := range existing {
		if e != name && TargetNameSkeleton(e) == sk {
			return e, true
		}
	}
	return "", false
}

// latinLookAlike maps characters that look like a Latin letter or digit
// to it (from UTS #39's confusables for the Latin script).
var latinLookAlike = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y',
	'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ү': 'y', 'һ': 'h', 'ӏ': 'l', 'ɡ': 'g',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T', 'У': 'Y', 'Х': 'X',
	'Ѕ': 'S', 'І': 'l', 'Ј': 'J', 'Ү': 'Y', 'Ӏ': 'l', 'Ԁ': 'D', 'Ԛ': 'Q', 'Ԝ': 'W',
	// Greek
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'l', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O', 'Ρ': 'P', 'Τ': 'T',
	'Υ': 'Y', 'Χ': 'X', 'ο': 'o', 'ν': 'v', 'ρ': 'p', 'ι': 'i', 'α': 'a', 'υ': 'u', 'ϲ': 'c', 'ϳ': 'j', 'κ': 'k',
	// Latin and digits
	'ı': 'i', 'ȷ': 'j', '0': 'O', '1': 'l', 'I': 'l', '|': 'l',
}
