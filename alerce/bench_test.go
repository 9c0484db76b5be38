package alerce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tomgo/targetdata/alerce"
	"github.com/tomgo/targetdata/alerce/alercetest"
)

// BenchmarkProcessor processes light curves as the simulator writes them
// (full v1 detection rows of ~1 kB, non-detections, v2 forced rows with
// extra_fields; LSST diaSources and forced sources) and reports rows per
// second. A real light curve has at most a few thousand rows.
func BenchmarkProcessor(b *testing.B) {
	sim := alercetest.Start(&alercetest.Options{Epochs: 2000, FixLimitBug: true})
	defer sim.Close()
	c, err := alerce.New(sim.URLs(), &alerce.Options{HTTPClient: sim.Client(), RequestInterval: -1, Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	files := map[string]*alerce.LightCurve{}
	ztf, _ := sim.ObjectAt(alerce.SurveyZTF, 150, 2)
	lc, err := c.ZTFLightCurve(ctx, ztf.OID)
	if err != nil {
		b.Fatal(err)
	}
	if lc.ForcedPhotometry, err = c.ZTFForcedPhotometry(ctx, ztf.OID); err != nil {
		b.Fatal(err)
	}
	files["ztf"] = lc
	lsst, _ := sim.ObjectAt(alerce.SurveyLSST, 150, 2)
	lc = &alerce.LightCurve{Survey: alerce.SurveyLSST, OID: lsst.OID}
	if lc.Detections, err = c.LSSTDetections(ctx, lsst.OID); err != nil {
		b.Fatal(err)
	}
	if lc.ForcedPhotometry, err = c.LSSTForcedPhotometry(ctx, lsst.OID); err != nil {
		b.Fatal(err)
	}
	files["lsst"] = lc
	for _, survey := range []string{"ztf", "lsst"} {
		b.Run(survey, func(b *testing.B) {
			lc := files[survey]
			data := mustJSON(b, lc)
			rows := lc.Rows()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0, _ := cpuTime()
			for b.Loop() {
				if _, err := (alerce.Processor{}).Process(ctx, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
			total := float64(rows) * float64(b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
			cpu1, ok := cpuTime()
			if ok && cpu1 > cpu0 {
				b.ReportMetric(total/(cpu1-cpu0).Seconds(), "rows/cpu-s")
			}
			// The floor, measured in the same run: encoding/json reading
			// the same file into generic values, which any JSON processor
			// must at least do. ratio-to-json ≥ 1: the processor is no
			// slower than that.
			if ok {
				f0, _ := cpuTime()
				for range b.N {
					var v any
					if err := json.Unmarshal(data, &v); err != nil {
						b.Fatal(err)
					}
				}
				f1, _ := cpuTime()
				b.ReportMetric((f1-f0).Seconds()/(cpu1-cpu0).Seconds(), "ratio-to-json")
			}
		})
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
