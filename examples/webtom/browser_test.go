package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"math"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tomgo/targetdata/dataproduct"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "save the browser test's screenshot of the target page as screenshot.png")

// chromium finds the browser: $TARGETDATA_CHROMIUM, /usr/bin/chromium, or
// chromium on the PATH. Without one the test fails in CI (CI set) and is
// skipped elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	p, err := findChromium(os.Getenv("TARGETDATA_CHROMIUM"), exists, exec.LookPath)
	if err != nil {
		t.Fatal(err)
	}
	if p != "" {
		return p
	}
	const reason = "no Chromium: install Debian's chromium package (.ci/chromium.sh does) or set TARGETDATA_CHROMIUM"
	if os.Getenv("CI") != "" {
		t.Fatal(reason + " (CI is set, so this is a failure)")
	}
	t.Skip(reason)
	return ""
}

// findChromium returns the browser to use: env (TARGETDATA_CHROMIUM) if
// set (an error if it does not exist), else /usr/bin/chromium, else
// chromium or chromium-browser on the PATH, else "".
func findChromium(env string, exists func(string) bool, lookPath func(string) (string, error)) (string, error) {
	if env != "" {
		if !exists(env) {
			return "", fmt.Errorf("TARGETDATA_CHROMIUM=%s does not exist", env)
		}
		return env, nil
	}
	if exists("/usr/bin/chromium") {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := lookPath(name); err == nil {
			return p, nil
		}
	}
	return "", nil
}

func TestFindChromium(t *testing.T) {
	none := func(string) bool { return false }
	all := func(string) bool { return true }
	noPath := func(string) (string, error) { return "", exec.ErrNotFound }
	p, err := findChromium("/opt/chrome", all, noPath)
	assert.NoError(t, err)
	assert.Equal(t, "/opt/chrome", p)
	_, err = findChromium("/opt/chrome", none, noPath)
	assert.ErrorContains(t, err, "TARGETDATA_CHROMIUM=/opt/chrome does not exist")
	p, err = findChromium("", all, noPath)
	assert.NoError(t, err)
	assert.Equal(t, "/usr/bin/chromium", p)
	p, err = findChromium("", none, func(n string) (string, error) {
		if n == "chromium-browser" {
			return "/snap/bin/chromium-browser", nil
		}
		return "", exec.ErrNotFound
	})
	assert.NoError(t, err)
	assert.Equal(t, "/snap/bin/chromium-browser", p)
	p, err = findChromium("", none, noPath)
	assert.NoError(t, err)
	assert.Empty(t, p, "none: the caller skips, or fails in CI")
}

// The web flow in a real browser: create a target, fill the ATLAS form
// wrongly and see the field's error inline, fill it right, follow the job
// page (it refreshes itself) until the job succeeds, and see the light
// curve load on the target page; then a spectrum put in the store shows
// as a plot too.
func TestBrowser(t *testing.T) {
	browser := chromium(t)
	m := newTOM(t, "pool")

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0], chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1700),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(bctx, steps...), what)
	}
	text := func(sel chromedp.ID) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(sel))
		require.NoError(t, err, "text of %s", sel)
		return s
	}

	// A target, with one mistake first.
	do("create a target",
		chromedp.Navigate(m.ts.URL+"/targets"),
		chromedp.WaitVisible(chromedp.ID("t-name")),
		chromedp.SendKeys(chromedp.ID("t-name"), "SN 2023ixf"),
		chromedp.SendKeys(chromedp.ID("t-ra"), "210.910674"),
		chromedp.SendKeys(chromedp.ID("t-dec"), "154.311686"),
		chromedp.Click(chromedp.CSS("#create-target button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("t-dec-errors")),
	)
	assert.Contains(t, text("t-dec-errors"), "[-90, 90]")
	do("fix the declination",
		chromedp.SetValue(chromedp.ID("t-dec"), "54.311686"),
		chromedp.Click(chromedp.CSS("#create-target button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("svc-ATLAS")),
	)
	title, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("h1")))
	require.NoError(t, err)
	assert.Equal(t, "SN 2023ixf", title)
	location, err := chromedp.Run(bctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, m.ts.URL+"/targets/1", location)

	// The dependent choices follow the release (the page's small script).
	catalogs, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(() => {
		const rel = document.getElementById("f-PANSTARRS-data_release");
		rel.value = "dr1";
		rel.dispatchEvent(new Event("change"));
		return Array.from(document.getElementById("f-PANSTARRS-catalog").options, o => o.value);
	})()`))
	require.NoError(t, err)
	assert.Equal(t, []string{"mean", "stack"}, catalogs)

	// Wrong: a minimum date given both as a date (the initial value) and
	// as an MJD.
	do("submit a wrong ATLAS form",
		chromedp.SendKeys(chromedp.ID("f-ATLAS-min_date_mjd"), "60080"),
		chromedp.SendKeys(chromedp.ID("f-ATLAS-max_date_mjd"), "60180"),
		chromedp.Click(chromedp.CSS("#svc-ATLAS button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("f-ATLAS-min_date_mjd-errors")),
	)
	assert.Contains(t, text("f-ATLAS-min_date_mjd-errors"), "Give the minimum date either as a date (min_date) or as an MJD, not both.")
	minMJD, err := chromedp.Run(bctx, chromedp.Value(chromedp.ID("f-ATLAS-min_date_mjd")))
	require.NoError(t, err)
	assert.Equal(t, "60080", minMJD, "the submitted value is kept")

	// Right: the MJD window only. The job page reloads itself until done.
	do("submit the right ATLAS form",
		chromedp.SetValue(chromedp.ID("f-ATLAS-min_date"), ""),
		chromedp.Click(chromedp.CSS("#svc-ATLAS button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("job")),
	)
	location, err = chromedp.Run(bctx, chromedp.Location())
	require.NoError(t, err)
	assert.Regexp(t, `/jobs/([0-9]+-)?[0-9a-f]{24}$`, location)
	require.Equal(t, "succeeded", waitState(t, bctx, 45*time.Second))
	assert.Regexp(t, `^[1-9]\d* added, 0 already there$`, text("job-counts"))

	// The target page shows the light curve.
	do("open the target page",
		chromedp.Click(chromedp.CSS(`a[href="/targets/1"]`)),
		chromedp.WaitVisible(chromedp.ID("lightcurve")),
	)
	assert.Equal(t, 864, imageWidth(t, bctx, "lightcurve"), "the light curve loaded")

	// A spectrum in the store shows as a plot of its own.
	spec := dataproduct.Spectrum{WavelengthUnits: "Angstrom", FluxUnits: "erg / (Angstrom s cm2)"}
	for i := range 600 {
		w := 3600 + 10*float64(i)
		// A blue continuum, a broad Hα emission line and a little ripple.
		f := 4e-15*math.Pow(w/4000, -2) + 2.5e-15*peak(w, 6563, 60) + 6e-17*math.Sin(w/23)
		spec.Wavelength = append(spec.Wavelength, w)
		spec.Flux = append(spec.Flux, f)
	}
	_, err = m.app.Store.AddDatums(ctx, dataproduct.Datums([]dataproduct.Datum{{TargetID: 1, DataType: dataproduct.TypeSpectroscopy,
		Timestamp: time.Date(2023, 5, 21, 4, 30, 0, 0, time.UTC), Source: "upload", Value: spec}}))
	require.NoError(t, err)
	do("reload the target page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#spectra img")))
	id, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS("#spectra img"), "id"))
	require.NoError(t, err)
	require.True(t, id.Exists)
	assert.Equal(t, 720, imageWidth(t, bctx, id.Value), "the spectrum loaded")
	assert.Equal(t, 864, imageWidth(t, bctx, "lightcurve"))

	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	img, format, err := image.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	assert.Equal(t, "png", format)
	assert.Equal(t, 1200, img.Bounds().Dx())
	if *updateScreenshot {
		require.NoError(t, os.WriteFile("screenshot.png", shot, 0o644))
		t.Logf("wrote screenshot.png (%d bytes)", len(shot))
	}
}

// peak is a line profile: 1 at mu, falling off over sigma.
func peak(x, mu, sigma float64) float64 {
	d := (x - mu) / sigma
	return 1 / (1 + d*d*d*d/4)
}

// waitState follows the self-refreshing job page until the job is done
// and returns its final state.
func waitState(t *testing.T, bctx context.Context, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	seen := map[string]bool{}
	for time.Now().Before(deadline) {
		// The page may be reloading: a failed look is tried again.
		ctx, cancel := context.WithTimeout(bctx, 5*time.Second)
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("job") || {dataset: {}}).dataset.state || ""`))
		cancel()
		if err == nil && state != "" {
			seen[state] = true
			if state == "succeeded" || state == "failed" || state == "cancelled" {
				t.Logf("job states seen: %v", seen)
				return state
			}
		}
		if bctx.Err() != nil {
			t.Fatal(bctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the job was not done within %s (states seen: %v)", limit, seen)
	return ""
}

// imageWidth waits for the image with the id to finish loading and
// returns its natural width (0 if it failed to load).
func imageWidth(t *testing.T, bctx context.Context, id string) int {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const i = document.getElementById(%q); return i && i.complete ? i.naturalWidth : -1 })()`, id)
	ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	for {
		w, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err == nil && w >= 0 {
			return w
		}
		if ctx.Err() != nil {
			t.Fatalf("image %s did not load: %v", id, errors.Join(err, ctx.Err()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
