package atlastest

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"math"
	"strconv"
)

// Header is the header line of an ATLAS result file, byte for byte (spec §9).
const Header = "###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     maj  min   phi  apfit mag5sig Sky   Obs"

// FirstMJD is the earliest night the generated files cover (ATLAS forced
// photometry starts in mid-2015).
const FirstMJD = 57200

// rng is a splitmix64 generator: small, fast and the same on every
// platform.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// normal returns a standard normal deviate (Box-Muller).
func (r *rng) normal() float64 {
	u := r.float()
	if u < 1e-300 {
		u = 1e-300
	}
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// seedOf hashes the coordinates, rounded to the file's 5 decimals.
func seedOf(ra, dec float64) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(int64(math.Round(ra*1e5))))
	h.Write(b[:])
	binary.LittleEndian.PutUint64(b[:], uint64(int64(math.Round(dec*1e5))))
	h.Write(b[:])
	return h.Sum64()
}

// GenerateResult returns a result file for a target at (ra, dec) over the
// window [mjdMin, mjdMax], the same bytes for the same arguments: the
// exact header line, then rows sorted by MJD in the server's column
// layout (integer µJy, m negative for negative fluxes, dm = duJy/|uJy|).
//
// The sky holds a variable source (40-400 µJy, period 3-40 days, both from
// the coordinates) observed on about 60% of nights, four 30 s exposures a
// night in c or o, with Gaussian noise of 20-45 µJy: windows of a few weeks
// give detections, rows with S/N ≤ 3 and negative fluxes. Southern targets
// (Dec < −30) are observed by the southern units (03a, 04a), whose night
// number in the exposure name is the next day's. A window with no
// exposures gives the header alone (the simulator then finishes the task
// with "No data returned", as the server does).
func GenerateResult(ra, dec, mjdMin, mjdMax float64) []byte {
	var buf bytes.Buffer
	buf.WriteString(Header)
	buf.WriteByte('\n')
	seed := seedOf(ra, dec)
	src := rng{s: seed}
	base := 40 + 360*src.float()
	period := 3 + 37*src.float()
	phase := 2 * math.Pi * src.float()
	lo := math.Max(mjdMin, FirstMJD)
	if !(mjdMax >= lo) || math.IsInf(mjdMax, 0) {
		return buf.Bytes()
	}
	south := dec < -30
	var row []byte
	for night := math.Floor(lo); night <= mjdMax; night++ {
		r := rng{s: seed ^ (uint64(int64(night)) * 0x2545f4914f6cdd1d)}
		if r.float() >= 0.6 {
			continue
		}
		filter := byte('o')
		if r.float() < 0.35 {
			filter = 'c'
		}
		cams := [2]string{"01a", "02a"}
		if south {
			cams = [2]string{"03a", "04a"}
		}
		cam := cams[r.next()%2]
		start := night + 0.05 + 0.35*r.float()
		seq := 50 + int(r.next()%200)
		x0, y0 := 150+10200*r.float(), 150+10200*r.float()
		for j := range 4 {
			mjd := math.Round((start+float64(j)*0.0118)*1e6) / 1e6
			if mjd < mjdMin || mjd > mjdMax {
				continue
			}
			flux := base * (1 + 0.9*math.Sin(2*math.Pi*mjd/period+phase))
			dujy := math.Round(20 + 25*r.float())
			ujy := math.Round(flux + dujy*r.normal())
			if ujy == 0 {
				ujy = 1
			}
			m := 23.9 - 2.5*math.Log10(math.Abs(ujy))
			if ujy < 0 {
				m = -m
			}
			dm := dujy / math.Abs(ujy)
			obsNight := int(math.Floor(mjd))
			if south {
				obsNight = int(math.Floor(mjd + 0.5))
			}
			maj := 1.9 + 1.2*r.float()
			row = row[:0]
			row = appendRow(row, mjd, m, dm, ujy, dujy, filter, r.float()*3+0.5, ra, dec,
				x0+40*r.float(), y0+40*r.float(), maj, maj*(0.75+0.25*r.float()), -90+180*r.float(),
				-0.35-0.15*r.float(), 18.6+1.2*r.float(), 19.3+2.5*r.float(), cam, obsNight, seq+7*j)
			buf.Write(row)
		}
	}
	return buf.Bytes()
}

// appendRow formats one row as the server does:
// "%12.6f %7.3f %6.3f %5d %4d %c %2d %6.2f %9.5f %9.5f %8.2f %8.2f %4.2f %4.2f %5.1f %6.3f %5.2f %5.2f %s".
func appendRow(b []byte, mjd, m, dm, ujy, dujy float64, filter byte, chi, ra, dec, x, y, maj, mn, phi, apfit, mag5, sky float64,
	cam string, night, seq int) []byte {
	b = appendF(b, mjd, 12, 6)
	b = appendF(append(b, ' '), m, 7, 3)
	b = appendF(append(b, ' '), dm, 6, 3)
	b = appendF(append(b, ' '), ujy, 5, 0)
	b = appendF(append(b, ' '), dujy, 4, 0)
	b = append(b, ' ', filter, ' ', ' ', '0')
	b = appendF(append(b, ' '), chi, 6, 2)
	b = appendF(append(b, ' '), ra, 9, 5)
	b = appendF(append(b, ' '), dec, 9, 5)
	b = appendF(append(b, ' '), x, 8, 2)
	b = appendF(append(b, ' '), y, 8, 2)
	b = appendF(append(b, ' '), maj, 4, 2)
	b = appendF(append(b, ' '), mn, 4, 2)
	b = appendF(append(b, ' '), phi, 5, 1)
	b = appendF(append(b, ' '), apfit, 6, 3)
	b = appendF(append(b, ' '), mag5, 5, 2)
	b = appendF(append(b, ' '), sky, 5, 2)
	b = append(b, ' ')
	b = append(b, cam...)
	b = appendInt(b, night, 5)
	b = append(b, 'o')
	b = appendInt(b, seq%10000, 4)
	b = append(b, filter, '\n')
	return b
}

// appendF appends v with prec decimals, right-aligned in width.
func appendF(b []byte, v float64, width, prec int) []byte {
	var tmp [32]byte
	s := appendFixed(tmp[:0], v, prec)
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

func appendFixed(b []byte, v float64, prec int) []byte {
	return strconv.AppendFloat(b, v, 'f', prec, 64)
}

// appendInt appends v zero-padded to width digits.
func appendInt(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
