package processor_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/processor"
)

// A plain-text spectrum as SkyPortal keeps them: no column names, no time.
// The caller gives the observation time; the report says what was assumed.
func ExampleStreamReport() {
	file := "3776.7 9.9988e-16\n3802.3 9.9932e-16\n3827.9 nan\n"
	in := processor.Input{ObservationTime: time.Date(2020, 9, 2, 7, 29, 46, 0, time.UTC)}
	var rep dataproduct.Report
	for d, err := range processor.StreamReport(context.Background(), processor.Spectroscopy{}, strings.NewReader(file), in, &rep) {
		if err != nil {
			log.Fatal(err)
		}
		s := d.Value.(dataproduct.Spectrum)
		fmt.Println(d.Timestamp.Format(time.RFC3339), len(s.Wavelength), "points from", s.Wavelength[0], s.WavelengthUnits)
	}
	fmt.Println(rep.String())
	// Output:
	// 2020-09-02T07:29:46Z 2 points from 3776.7 Angstrom
	// 3 rows, 1 datum; 1 row skipped: 1 no finite wavelength and flux (NaN, infinite, empty or BLANK) (line 3); note: no column names: the first column is read as the wavelength, the second as the flux; note: the file gives no observation time: the time given with it is used (2020-09-02T07:29:46Z)
}
