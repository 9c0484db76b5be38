package targetdata_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tomgo/targetdata"
)

// TestVersionMatchesChangelog: Version is the newest release of
// CHANGELOG.md, which keeps an Unreleased section above it and a link for
// it, as Keep a Changelog has them.
func TestVersionMatchesChangelog(t *testing.T) {
	b, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	m := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2}|Unreleased)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal(`CHANGELOG.md has no release heading "## [X.Y.Z] - YYYY-MM-DD"`)
	}
	if m[1] != targetdata.Version {
		t.Errorf("CHANGELOG.md's newest release is %s, targetdata.Version is %s", m[1], targetdata.Version)
	}
	if i := strings.Index(text, "## [Unreleased]\n"); i < 0 || i > strings.Index(text, m[0]) {
		t.Error(`CHANGELOG.md has no "## [Unreleased]" section above the newest release`)
	}
	link := "[" + m[1] + "]: https://github.com/tomgo/targetdata/releases/tag/v" + m[1]
	if !strings.Contains(text, "\n"+link+"\n") {
		t.Errorf("CHANGELOG.md has no link %q", link)
	}
}

// goMod is what the release checks read from a go.mod file.
type goMod struct {
	dir      string            // slash-separated, relative to the repository root
	module   string            // the module path
	requires map[string]string // module path -> version
	replaces map[string]string // module path -> replacement
}

var (
	modulePath   = regexp.MustCompile(`(?m)^module\s+(\S+)`)
	requireBlock = regexp.MustCompile(`(?ms)^require\s*\((.*?)^\)`)
	requireLine  = regexp.MustCompile(`(?m)^require\s+([^\s(]\S*)\s+(\S+)`)
	replaceBlock = regexp.MustCompile(`(?ms)^replace\s*\((.*?)^\)`)
	replaceLine  = regexp.MustCompile(`(?m)^replace\s+([^\s(]\S*)\s+=>\s+(\S+)`)
	pair         = regexp.MustCompile(`(?m)^\s*(\S+)\s+(?:=>\s+)?(\S+)`)
)

func readGoMod(t *testing.T, file string) goMod {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	m := goMod{dir: path.Dir(filepath.ToSlash(file)), requires: map[string]string{}, replaces: map[string]string{}}
	if mm := modulePath.FindStringSubmatch(s); mm != nil {
		m.module = mm[1]
	}
	for _, blk := range requireBlock.FindAllStringSubmatch(s, -1) {
		for _, p := range pair.FindAllStringSubmatch(blk[1], -1) {
			m.requires[p[1]] = p[2]
		}
	}
	for _, p := range requireLine.FindAllStringSubmatch(s, -1) {
		m.requires[p[1]] = p[2]
	}
	for _, blk := range replaceBlock.FindAllStringSubmatch(s, -1) {
		for _, p := range pair.FindAllStringSubmatch(blk[1], -1) {
			m.replaces[p[1]] = p[2]
		}
	}
	for _, p := range replaceLine.FindAllStringSubmatch(s, -1) {
		m.replaces[p[1]] = p[2]
	}
	return m
}

// repoModules reads every go.mod of the repository.
func repoModules(t *testing.T) []goMod {
	t.Helper()
	var mods []goMod
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "go.mod" {
			mods = append(mods, readGoMod(t, p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// TestModulesAreOneRelease: every module of the repository is in go.work;
// a module that needs another of them requires it at "v"+Version (the
// tags are made together, so that is what `go get` finds) and replaces it
// with its directory, so each module builds and tidies from a checkout
// without the workspace and before the tag exists.
func TestModulesAreOneRelease(t *testing.T) {
	mods := repoModules(t)
	byPath := map[string]goMod{}
	var dirs []string
	for _, m := range mods {
		want := "github.com/tomgo/targetdata"
		if m.dir != "." {
			want += "/" + m.dir
		}
		if m.module != want {
			t.Errorf("%s/go.mod: module %q, want %q (import paths follow the directories)", m.dir, m.module, want)
		}
		byPath[m.module] = m
		dirs = append(dirs, m.dir)
	}
	if len(mods) < 2 {
		t.Fatalf("found %d go.mod files", len(mods))
	}

	b, err := os.ReadFile("go.work")
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	for _, blk := range regexp.MustCompile(`(?ms)^use\s*\((.*?)^\)`).FindAllStringSubmatch(string(b), -1) {
		for _, f := range strings.Fields(blk[1]) {
			used = append(used, path.Clean(f))
		}
	}
	slices.Sort(used)
	slices.Sort(dirs)
	if !slices.Equal(used, dirs) {
		t.Errorf("go.work uses %v; the repository's modules are %v", used, dirs)
	}

	for _, m := range mods {
		for req, v := range m.requires {
			dep, ours := byPath[req]
			if !ours {
				if strings.HasPrefix(req, "github.com/tomgo/targetdata") {
					t.Errorf("%s/go.mod requires %s, which is not a module of the repository", m.dir, req)
				}
				continue
			}
			if v != "v"+targetdata.Version {
				t.Errorf("%s/go.mod requires %s %s, want v%s", m.dir, req, v, targetdata.Version)
			}
			rel, err := filepath.Rel(filepath.FromSlash(m.dir), filepath.FromSlash(dep.dir))
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.ToSlash(rel); path.Clean(m.replaces[req]) != want {
				t.Errorf("%s/go.mod: replace %s => %q, want => %s", m.dir, req, m.replaces[req], want)
			}
		}
		for rep := range m.replaces {
			if _, ok := m.requires[rep]; !ok {
				t.Errorf("%s/go.mod replaces %s, which it does not require", m.dir, rep)
			}
		}
	}
	if root := byPath["github.com/tomgo/targetdata"]; len(root.replaces) > 0 {
		t.Errorf("the root go.mod replaces %v: it must need no other module of the repository", root.replaces)
	}
}

// stablePackages are the packages under the stability promise (the
// package documentation of targetdata): changing this list is a release
// decision, recorded in the CHANGELOG.
var stablePackages = []string{"dataproduct", "processor", "singletarget"}

// TestPackagesStateStability: the documentation of every published package
// has a Stability section that says whether it is stable or experimental,
// and the stable ones are stablePackages.
func TestPackagesStateStability(t *testing.T) {
	fset := token.NewFileSet()
	var stable []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "internal" || d.Name() == "examples") {
			return filepath.SkipDir
		}
		files, err := filepath.Glob(filepath.Join(p, "*.go"))
		if err != nil {
			return err
		}
		var doc string
		var name string
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			pf, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				return err
			}
			name = pf.Name.Name
			if pf.Doc != nil {
				doc += pf.Doc.Text()
			}
		}
		if name == "" || name == "main" {
			return nil
		}
		pkg := filepath.ToSlash(p)
		_, section, ok := strings.Cut(doc, "\n# Stability\n")
		switch {
		case !ok:
			t.Errorf("package %s: its documentation has no # Stability section", pkg)
		case pkg == ".":
		case strings.Contains(section, "This package is stable"):
			stable = append(stable, pkg)
		case !strings.Contains(section, "This package is experimental"):
			t.Errorf("package %s: its # Stability section says neither %q nor %q", pkg, "This package is stable", "This package is experimental")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stable, stablePackages) {
		t.Errorf("packages documented as stable: %v, want %v", stable, stablePackages)
	}
}
