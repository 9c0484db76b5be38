package targetdata_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmes are the documents whose Go code blocks must compile.
var readmes = []string{"README.md", "examples/customservice/README.md"}

// snippetImports are the packages a README snippet may use, by name.
var snippetImports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "io": "io", "iter": "iter", "log": "log",
	"url": "net/url", "testing": "testing", "time": "time", "http": "net/http", "slog": "log/slog",
	"atlas":        "github.com/tomgo/targetdata/atlas",
	"atlastest":    "github.com/tomgo/targetdata/atlas/atlastest",
	"builtin":      "github.com/tomgo/targetdata/builtin",
	"dataproduct":  "github.com/tomgo/targetdata/dataproduct",
	"httpclient":   "github.com/tomgo/targetdata/httpclient",
	"processor":    "github.com/tomgo/targetdata/processor",
	"sdss":         "github.com/tomgo/targetdata/examples/customservice/sdss",
	"singletarget": "github.com/tomgo/targetdata/singletarget",
}

// snippetPrelude declares what the excerpts take from around them: the
// SDSS example's client (in "Add your own service"), and an opened app, a
// target and a query's params (in "Executors").
const snippetPrelude = `
type Client = sdss.Client
type Options = sdss.Options

var NewService = sdss.NewService

var (
	app    *builtin.App
	target singletarget.Target
	params url.Values
)
`

var (
	goBlock  = regexp.MustCompile("(?ms)^```go\n(.*?)^```")
	declLine = regexp.MustCompile(`^(type|func|var|const) `)
	literals = regexp.MustCompile("(?m)\"(?:[^\"\\\\\n]|\\\\.)*\"|`[^`]*`|//.*$")
)

// Every Go code block of the READMEs compiles: declarations as they are,
// statements as the body of a function func(ctx context.Context, t
// *testing.T) error. The blocks of one README share a package (an excerpt
// may use a type another declares), compiled with `go build -overlay`,
// so nothing is written into the source tree. The blocks use builtin and
// the SDSS example, which are other modules than this one: they are
// compiled as packages of the examples module, which requires both, so
// that this works with or without go.work.
func TestREADMECodeCompiles(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go command is needed to compile the README's code: %v", err)
	}
	root, err := os.Getwd()
	require.NoError(t, err)
	tmp := t.TempDir()
	overlay := map[string]string{}
	var pkgs []string
	blocks := 0
	for i, readme := range readmes {
		data, err := os.ReadFile(readme)
		require.NoError(t, err)
		pkg := fmt.Sprintf("readme%d", i)
		dir := filepath.Join(root, "examples", "internal", "readmecheck", pkg)
		text := string(data)
		for j, m := range goBlock.FindAllStringSubmatchIndex(text, -1) {
			blocks++
			line := 1 + strings.Count(text[:m[0]], "\n") // of this block, even when an earlier one is the same
			src := snippetFile(pkg, readme, line, text[m[2]:m[3]])
			name := fmt.Sprintf("%s_%02d.go", pkg, j)
			path := filepath.Join(tmp, name)
			require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
			overlay[filepath.Join(dir, name)] = path
		}
		prelude := "package " + pkg + "\n\nimport (\n\t\"net/url\"\n\n\t\"github.com/tomgo/targetdata/builtin\"\n" +
			"\t\"github.com/tomgo/targetdata/examples/customservice/sdss\"\n\t\"github.com/tomgo/targetdata/singletarget\"\n)\n" + snippetPrelude
		path := filepath.Join(tmp, pkg+"_prelude.go")
		require.NoError(t, os.WriteFile(path, []byte(prelude), 0o600))
		overlay[filepath.Join(dir, "prelude.go")] = path
		pkgs = append(pkgs, "./internal/readmecheck/"+pkg)
	}
	require.Greater(t, blocks, 8, "the READMEs' Go blocks are found")
	o, err := json.Marshal(map[string]any{"Replace": overlay})
	require.NoError(t, err)
	oPath := filepath.Join(tmp, "overlay.json")
	require.NoError(t, os.WriteFile(oPath, o, 0o600))
	cmd := exec.Command("go", append([]string{"build", "-overlay", oPath}, pkgs...)...)
	cmd.Dir = filepath.Join(root, "examples")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "a README's Go code does not compile (file:line is README:line of the block's start + offset):\n%s", out)
}

// snippetFile wraps one code block in a Go file of package pkg.
func snippetFile(pkg, readme string, line int, code string) string {
	var imports []string
	bare := literals.ReplaceAllString(code, `""`) // "sdss.Service" in a string is no use of sdss
	for name, path := range snippetImports {
		if regexp.MustCompile(`\b` + name + `\.`).MatchString(bare) {
			imports = append(imports, path)
		}
	}
	first := ""
	for _, l := range strings.Split(code, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "//") {
			first = l
			break
		}
	}
	decl := declLine.MatchString(first)
	if !decl {
		imports = append(imports, "context", "testing")
	}
	slices.Sort(imports)
	imports = slices.Compact(imports)
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	for _, p := range imports {
		fmt.Fprintf(&b, "import %q\n", p)
	}
	// The block's own lines keep their README line numbers in errors.
	if decl {
		fmt.Fprintf(&b, "\n//line %s:%d\n%s", readme, line+1, code)
	} else {
		fmt.Fprintf(&b, "\nfunc _(ctx context.Context, t *testing.T) error {\n//line %s:%d\n%s\nreturn nil\n}\n", readme, line+1, code)
	}
	return b.String()
}
