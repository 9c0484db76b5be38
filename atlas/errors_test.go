package atlas_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tomgo/targetdata/atlas"
	"github.com/tomgo/targetdata/singletarget"
)

// allCategories are the seven sentinels of the singletarget taxonomy.
var allCategories = []error{singletarget.ErrNotFound, singletarget.ErrUnknownJob, singletarget.ErrInvalidInput,
	singletarget.ErrUnauthorized, singletarget.ErrThrottled, singletarget.ErrRemote, singletarget.ErrDeadline}

// ATLAS's typed errors each match exactly one category, alone and wrapped.
func TestErrorTaxonomy(t *testing.T) {
	for _, c := range []struct {
		err  error
		want error
	}{
		{&atlas.TaskError{ID: 1, Message: atlas.NoDataMessage}, singletarget.ErrNotFound},
		{&atlas.TaskError{ID: 1, Message: "Exception: no images"}, singletarget.ErrRemote},
		{&atlas.ValidationError{Fields: map[string][]string{"dec": {"missing"}}}, singletarget.ErrInvalidInput},
	} {
		for _, err := range []error{c.err, fmt.Errorf("wrapped: %w", c.err)} {
			matches := 0
			for _, cat := range allCategories {
				if errors.Is(err, cat) {
					matches++
				}
			}
			assert.Equal(t, 1, matches, "exactly one category: %v", err)
			assert.Same(t, c.want, singletarget.Category(err), "%v", err)
		}
	}
	assert.ErrorIs(t, &atlas.TaskError{ID: 1, Message: "boom"}, singletarget.ErrTaskFailed)
	assert.ErrorIs(t, &atlas.ValidationError{}, singletarget.ErrInvalidForm)
}
