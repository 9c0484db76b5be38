package ztf_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tomgo/targetdata/singletarget"
	"github.com/tomgo/targetdata/ztf"
)

// ZTF's typed error matches exactly one category, alone and wrapped.
func TestErrorTaxonomy(t *testing.T) {
	all := []error{singletarget.ErrNotFound, singletarget.ErrUnknownJob, singletarget.ErrInvalidInput,
		singletarget.ErrUnauthorized, singletarget.ErrThrottled, singletarget.ErrRemote, singletarget.ErrDeadline}
	for _, c := range []struct {
		err  error
		want error
	}{
		{&ztf.AnswerError{Service: "ZTF_FP", Message: "bad email or password", Unauthorized: true}, singletarget.ErrUnauthorized},
		{&ztf.AnswerError{Service: "ZTF", Message: "ERROR: bad POS"}, singletarget.ErrRemote},
	} {
		for _, err := range []error{c.err, fmt.Errorf("wrapped: %w", c.err)} {
			matches := 0
			for _, cat := range all {
				if errors.Is(err, cat) {
					matches++
				}
			}
			assert.Equal(t, 1, matches, "exactly one category: %v", err)
			assert.Same(t, c.want, singletarget.Category(err), "%v", err)
		}
	}
}
