package processor_test

import (
	"testing"

	"github.com/tomgo/targetdata/internal/fuzzcheck"
	"github.com/tomgo/targetdata/processor"
)

// FuzzPhotometryTable: any upload gives well-formed datums
// (fuzzcheck.Processor: a timestamp, a magnitude or a limit, canonical
// values) or a *ParseError, never a panic or a hang.
func FuzzPhotometryTable(f *testing.F) {
	f.Add([]byte("time,filter,magnitude,error,telescope\n60000.5,g,18.5,0.05,LCO 1m\n60001,r,,,\n"))
	f.Add([]byte("# a comment\nTime,Filter,Limit,limit_sigma,seeing\n60000.5,g,21,5,1.2\n\n60002,i,20.5,3,n/a\n"))
	f.Add([]byte("time,filter,magnitude,limit,flux_ujy,flux_err_ujy,mjd,extra\n60000.5,g,18.5,,35.2,1.1,60000.5,\"quoted, text\"\n"))
	f.Add([]byte("filter,time,magnitude\n\"g\",1e5,-1\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > fuzzcheck.MaxInput {
			return
		}
		fuzzcheck.Processor(t, processor.PhotometryTable{}, in, fuzzcheck.Photometry{Source: "upload"})
		fuzzcheck.Processor(t, processor.PhotometryTable{Source: "mine"}, in, fuzzcheck.Photometry{Source: "mine"})
	})
}
