package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tomgo/targetdata/singletarget"
)

// targetList is the TOM's target table: the library has no target model,
// so the example keeps its targets in memory and, when it has a file,
// saves them there as JSON after every change. Safe for concurrent use.
type targetList struct {
	path string // "" keeps the list in memory only

	mu      sync.RWMutex
	targets []singletarget.Target
}

// openTargets reads the list saved at path (a missing file is an empty
// list); path "" keeps the list in memory only.
func openTargets(path string) (*targetList, error) {
	l := &targetList{path: path}
	if path == "" {
		return l, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &l.targets); err != nil {
		return nil, fmt.Errorf("targets file %s: %w", path, err)
	}
	return l, nil
}

// all returns the targets in creation order.
func (l *targetList) all() []singletarget.Target {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.targets)
}

// get returns the target with the id.
func (l *targetList) get(id int64) (singletarget.Target, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, t := range l.targets {
		if t.ID == id {
			return t, true
		}
	}
	return singletarget.Target{}, false
}

// targetInput is what the create form posts, kept as typed for
// re-rendering.
type targetInput struct {
	Name, RA, Dec string
}

// add validates the input and adds the target, giving it the next id. A
// bad input gives a *singletarget.FormErrors naming the field. The name is
// normalised (singletarget.NormalizeTargetName); lookAlike is the name of
// an existing target it looks like (singletarget.LookAlike), if any.
func (l *targetList) add(in targetInput) (t singletarget.Target, lookAlike string, err error) {
	var errs singletarget.FormErrors
	t = singletarget.Target{Name: singletarget.NormalizeTargetName(in.Name)}
	parse := func(field, s string, into *float64) {
		s = strings.TrimSpace(s)
		if s == "" {
			errs.Add(field, "This field is required.")
			return
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			errs.Add(field, fmt.Sprintf("Enter a number of degrees, not %q.", s))
			return
		}
		*into = v
	}
	parse("ra", in.RA, &t.RA)
	parse("dec", in.Dec, &t.Dec)

	l.mu.Lock()
	defer l.mu.Unlock()
	t.ID = 1
	for _, o := range l.targets {
		t.ID = max(t.ID, o.ID+1)
		if t.Name != "" && strings.EqualFold(o.Name, t.Name) {
			errs.Add("name", fmt.Sprintf("There is already a target named %q.", o.Name))
		}
	}
	if err := t.Validate(); err != nil {
		var fe *singletarget.FormErrors
		if errors.As(err, &fe) {
			for k, msgs := range fe.Fields {
				if len(errs.Fields[k]) > 0 {
					continue // the parse error says more
				}
				for _, m := range msgs {
					errs.Add(k, m)
				}
			}
		}
	}
	if err := errs.Err(); err != nil {
		return singletarget.Target{}, "", err
	}
	names := make([]string, len(l.targets))
	for i, o := range l.targets {
		names[i] = o.Name
	}
	lookAlike, _ = singletarget.LookAlike(t.Name, names)
	l.targets = append(l.targets, t)
	if err := l.saveLocked(); err != nil {
		l.targets = l.targets[:len(l.targets)-1]
		return singletarget.Target{}, "", err
	}
	return t, lookAlike, nil
}

// saveLocked writes the list to its file atomically.
func (l *targetList) saveLocked() error {
	if l.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(l.targets, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(l.path), ".targets-*.json")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), l.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
