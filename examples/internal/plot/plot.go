// Package plot draws the examples' light curves and spectra with
// gonum.org/v1/plot: magnitude against time, one colour per filter, limits
// as downward triangles, the magnitude axis inverted as astronomers expect;
// flux against wavelength for spectra.
package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// ErrNoData is returned when there is nothing to draw.
var ErrNoData = errors.New("plot: no data to draw")

// filterColors are the colours of the common bands.
var filterColors = map[string]color.RGBA{
	"g": {0x2c, 0xa0, 0x2c, 0xff}, "r": {0xd6, 0x27, 0x28, 0xff}, "i": {0x8c, 0x56, 0x4b, 0xff},
	"z": {0x7f, 0x7f, 0x7f, 0xff}, "y": {0xbc, 0xbd, 0x22, 0xff},
	"c": {0x17, 0xbe, 0xcf, 0xff}, "o": {0xff, 0x7f, 0x0e, 0xff}, "H": {0x94, 0x67, 0xbd, 0xff},
}

var spare = []color.RGBA{{0x1f, 0x77, 0xb4, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x33, 0x33, 0x33, 0xff}}

// downTriangle draws a filled triangle pointing down: an upper limit.
type downTriangle struct{}

func (downTriangle) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	p := make(vg.Path, 0, 4)
	p.Move(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X - r, Y: pt.Y + r*0.8})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y + r*0.8})
	p.Close()
	c.SetColor(sty.Color)
	c.Fill(p)
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// Summary counts what a light curve holds.
type Summary struct {
	Detections, Limits int
	Filters            []string
}

// detectionGlyphs tell apart the sources that share a telescope and a
// filter (ZTF light curves from IRSA and from ALeRCE, alert and forced
// photometry): the first source draws circles, the next ones these.
var detectionGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}}

// Lightcurve draws the photometry datums of ds (other data types are
// ignored) as a PNG of width × height into w. A series is one telescope,
// filter and source: when sources share a telescope and filter, each
// after the first gets its own glyph and its name in the legend ("ZTF g ·
// ALERCE").
func Lightcurve(w io.Writer, title string, ds []dataproduct.Datum, width, height vg.Length) (Summary, error) {
	type series struct {
		det    errPoints
		limits plotter.XYs
		glyph  draw.GlyphDrawer
		filter string
	}
	type seriesKey struct{ label, source string }
	byKey := map[seriesKey]*series{}
	sources := map[string][]string{} // label → sources, in order of appearance
	var sum Summary
	for _, d := range ds {
		ph, ok := d.Value.(dataproduct.Photometry)
		if !ok {
			continue
		}
		mjd := processor.TimeToMJD(d.Timestamp)
		label := ph.Filter
		if ph.Telescope != "" {
			label = ph.Telescope + " " + ph.Filter
		}
		k := seriesKey{label, d.Source}
		s := byKey[k]
		if s == nil {
			s = &series{filter: ph.Filter}
			byKey[k] = s
			sources[label] = append(sources[label], d.Source)
		}
		switch {
		case ph.Magnitude != nil:
			e := 0.0
			if ph.Error != nil {
				e = *ph.Error
			}
			s.det.XYs = append(s.det.XYs, plotter.XY{X: mjd, Y: *ph.Magnitude})
			s.det.YErrors = append(s.det.YErrors, struct{ Low, High float64 }{e, e})
			sum.Detections++
		case ph.Limit != nil:
			s.limits = append(s.limits, plotter.XY{X: mjd, Y: *ph.Limit})
			sum.Limits++
		}
	}
	if sum.Detections+sum.Limits == 0 {
		return sum, ErrNoData
	}
	byFilter := map[string]*series{}
	for k, s := range byKey {
		srcs := sources[k.label]
		// The source named like the telescope (IRSA's ZTF, ATLAS) keeps
		// the plain label and circles; the others follow in order.
		slices.SortStableFunc(srcs, func(a, b string) int {
			ta, tb := strings.HasPrefix(k.label, a+" "), strings.HasPrefix(k.label, b+" ")
			switch {
			case ta && !tb:
				return -1
			case tb && !ta:
				return 1
			}
			return 0
		})
		i := slices.Index(srcs, k.source)
		label := k.label
		if i > 0 {
			label += " · " + k.source
		}
		s.glyph = detectionGlyphs[i%len(detectionGlyphs)]
		byFilter[label] = s
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "MJD"
	p.Y.Label.Text = "AB magnitude"
	p.Y.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
	p.Y.Tick.Marker = invertedTicks{}
	p.Legend.Top = false
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())
	hasLimits := false
	labels := make([]string, 0, len(byFilter))
	for l := range byFilter {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for i, label := range labels {
		s := byFilter[label]
		col, ok := filterColors[s.filter]
		if !ok {
			col = spare[i%len(spare)]
		}
		if len(s.det.XYs) > 0 {
			sc, err := plotter.NewScatter(s.det.XYs)
			if err != nil {
				return sum, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.2), Shape: s.glyph}
			eb, err := plotter.NewYErrorBars(s.det)
			if err != nil {
				return sum, err
			}
			eb.LineStyle.Color = col
			eb.LineStyle.Width = vg.Points(0.6)
			p.Add(eb, sc)
			p.Legend.Add(label, sc)
		}
		if len(s.limits) > 0 {
			sc, err := plotter.NewScatter(s.limits)
			if err != nil {
				return sum, err
			}
			faded := color.NRGBA{R: col.R, G: col.G, B: col.B, A: 0x99}
			sc.GlyphStyle = draw.GlyphStyle{Color: faded, Radius: vg.Points(3), Shape: downTriangle{}}
			p.Add(sc)
			if len(s.det.XYs) == 0 {
				p.Legend.Add(label, sc)
			}
			hasLimits = true
		}
		sum.Filters = append(sum.Filters, label)
	}
	if hasLimits {
		key, err := plotter.NewScatter(plotter.XYs{})
		if err != nil {
			return sum, err
		}
		key.GlyphStyle = draw.GlyphStyle{Color: color.Gray{0x60}, Radius: vg.Points(3), Shape: downTriangle{}}
		p.Legend.Add("upper limit", key)
	}
	return sum, writePNG(p, w, width, height)
}

// invertedTicks keeps gonum's default ticks for an inverted axis.
type invertedTicks struct{}

func (invertedTicks) Ticks(min, max float64) []plot.Tick {
	return plot.DefaultTicks{}.Ticks(min, max)
}

// shortTicks labels ticks with three significant digits (2.78e-15, not
// 2.77791e-15).
type shortTicks struct{}

func (shortTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 3, 64)
		}
	}
	return ts
}

// Spectrum draws a spectrum (flux against wavelength) as a PNG.
func Spectrum(w io.Writer, title string, s dataproduct.Spectrum, width, height vg.Length) error {
	if len(s.Wavelength) == 0 || len(s.Wavelength) != len(s.Flux) {
		return ErrNoData
	}
	pts := make(plotter.XYs, len(s.Wavelength))
	for i := range pts {
		pts[i] = plotter.XY{X: s.Wavelength[i], Y: s.Flux[i]}
	}
	slices.SortFunc(pts, func(a, b plotter.XY) int {
		switch {
		case a.X < b.X:
			return -1
		case a.X > b.X:
			return 1
		}
		return 0
	})
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = fmt.Sprintf("wavelength (%s)", s.WavelengthUnits)
	p.Y.Label.Text = fmt.Sprintf("flux (%s)", s.FluxUnits)
	p.Y.Tick.Marker = shortTicks{}
	p.Add(plotter.NewGrid())
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.LineStyle.Color = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	l.LineStyle.Width = vg.Points(0.8)
	p.Add(l)
	return writePNG(p, w, width, height)
}

func writePNG(p *plot.Plot, w io.Writer, width, height vg.Length) error {
	wt, err := p.WriterTo(width, height, "png")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}
