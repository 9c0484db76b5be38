package panstarrstest

import (
	"fmt"
	"math"
	"slices"
)

// Sky is the simulator's deterministic catalog: objects generated from
// the sky position alone, so that every cone over the same place finds
// the same objects with the same ids, magnitudes and detections.
//
// The sky is cut into cells of CellSize degrees in Dec and about as much
// in RA (zones, as PS1 does). Each cell north of Dec −30° (PS1's limit)
// holds one object, sometimes two; the second object of a cell is an
// artifact with a single detection (nDetections = 1). A real object has
// detections in every band (2–6 each), except that one in four has none
// in y (its y mean magnitude is −999). Each real object has, among its
// detections, one with psfFlux = −999 (missing), one at 2σ (low S/N) and,
// for one object in three, one with a negative flux. Fluxes are in Jy,
// obsTime is a TAI MJD in 2010–2014, and the mean magnitudes agree with
// the detections. A 30″ cone always holds at least one object.
//
// A Sky is immutable and safe for concurrent use.
type Sky struct {
	seed uint64
}

// CellSize is the size of the sky cells, in degrees (18″).
const CellSize = 0.005

// MinDec is the southern limit of PS1's 3π survey, in degrees.
const MinDec = -30.0

// objIDBase makes the ids 18-digit numbers above 2^53, like PS1's.
const objIDBase = 100000000000000000

// detectIDBase starts the detection ids.
const detectIDBase = 160000000000000000

// NewSky returns the sky generated from seed.
func NewSky(seed uint64) *Sky { return &Sky{seed: seed} }

// Object is one simulated PS1 object.
type Object struct {
	// ObjID is the object id; it encodes the object's cell.
	ObjID int64
	// Name is the IAU name, e.g. "PSO J230.7155+41.0503".
	Name string
	// RA and Dec are the mean position in degrees.
	RA, Dec float64
	// EpochMean is the mean MJD of the detections.
	EpochMean float64
	// N counts the detections per band (g r i z y); NDetections is
	// their sum.
	N           [5]int
	NDetections int
	// Mag and MagErr are the mean PSF magnitudes per band, −999 where
	// the band has no usable detection.
	Mag, MagErr [5]float64
	// Flux is the object's true flux per band in Jy (0 for an artifact).
	Flux [5]float64
	// Artifact marks a one-detection spurious object.
	Artifact bool
	// SecondaryStack marks an object that has a second, non-primary
	// stack row (primaryDetection = 0).
	SecondaryStack bool

	sky *Sky
}

// Detection is one simulated single-epoch detection.
type Detection struct {
	ObjID, DetectID int64
	// FilterID is 1..5 for g r i z y.
	FilterID int
	// ObsTime is the TAI MJD at mid-exposure.
	ObsTime float64
	// RA and Dec are the detection's position in degrees.
	RA, Dec float64
	// PSFFlux and PSFFluxErr are in Jy; −999 means missing.
	PSFFlux, PSFFluxErr float64
	// ApFlux and ApFluxErr are the aperture flux in Jy.
	ApFlux, ApFluxErr float64
	// PSFMajorFWHM and PSFMinorFWHM are in arcsec.
	PSFMajorFWHM, PSFMinorFWHM float64
	// PSFQfPerfect is the fraction of perfectly unmasked PSF pixels.
	PSFQfPerfect float64
	// InfoFlag, InfoFlag2, InfoFlag3 are detection flag bitmasks.
	InfoFlag, InfoFlag2, InfoFlag3 int64
	// Kind is "", "missing" (−999 flux), "low" (S/N 2) or "negative".
	Kind string
}

// depth5 are PS1 single-epoch 5σ depths (AB mag) per band.
var depth5 = [5]float64{22.0, 21.8, 21.5, 20.9, 19.7}

// sigmaJy returns the 1σ flux error of one detection in band b.
func sigmaJy(b int) float64 { return 3631 * math.Pow(10, -0.4*depth5[b]) / 5 }

// splitmix64 mixes x.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hash mixes the seed with parts.
func (s *Sky) hash(parts ...uint64) uint64 {
	h := splitmix64(s.seed ^ 0x5053312d53494d)
	for _, p := range parts {
		h = splitmix64(h ^ p)
	}
	return h
}

// unit returns a number in [0, 1) from parts.
func (s *Sky) unit(parts ...uint64) float64 {
	return float64(s.hash(parts...)>>11) / (1 << 53)
}

// gauss returns a standard normal number from parts (Box–Muller).
func (s *Sky) gauss(parts ...uint64) float64 {
	u1 := s.unit(append(parts, 1)...)
	u2 := s.unit(append(parts, 2)...)
	return math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
}

// zones is the number of Dec zones.
var zones = int(math.Round(180 / CellSize))

// zoneOf returns the zone of a Dec.
func zoneOf(dec float64) int {
	return min(zones-1, max(0, int(math.Floor((dec+90)/CellSize))))
}

// cellsInZone is the number of RA cells of zone d.
func cellsInZone(d int) int {
	dec := -90 + (float64(d)+0.5)*CellSize
	return max(1, int(math.Floor(360*math.Cos(dec*math.Pi/180)/CellSize)))
}

// objectsInCell is the number of objects of a cell.
func (s *Sky) objectsInCell(d, r int) int {
	if -90+(float64(d)+0.5)*CellSize < MinDec {
		return 0
	}
	if s.hash(uint64(d), uint64(r), 0xce11)%3 == 0 {
		return 2
	}
	return 1
}

func makeID(d, r, k int) int64 { return objIDBase + (int64(d)*1_000_000+int64(r))*10 + int64(k) }

// Object returns the object with the given id, if the sky has one.
func (s *Sky) Object(objID int64) (Object, bool) {
	v := objID - objIDBase
	if v < 0 {
		return Object{}, false
	}
	k := int(v % 10)
	v /= 10
	r := int(v % 1_000_000)
	d := int(v / 1_000_000)
	if d >= zones || r >= cellsInZone(d) || k >= s.objectsInCell(d, r) {
		return Object{}, false
	}
	return s.object(d, r, k), true
}

// object generates object k of cell (d, r).
func (s *Sky) object(d, r, k int) Object {
	id := makeID(d, r, k)
	u := uint64(id)
	n := cellsInZone(d)
	w := 360 / float64(n)
	o := Object{ObjID: id, sky: s}
	o.RA = (float64(r) + 0.05 + 0.9*s.unit(u, 1)) * w
	o.Dec = -90 + (float64(d)+0.05+0.9*s.unit(u, 2))*CellSize
	o.Name = fmt.Sprintf("PSO J%.4f%+.4f", o.RA, o.Dec)
	o.Artifact = k == 1
	h := s.hash(u, 3)
	if o.Artifact {
		o.N[h%5] = 1
	} else {
		for b := range 5 {
			o.N[b] = 2 + int(s.hash(u, 4, uint64(b))%5)
		}
		if h%4 == 0 {
			o.N[4] = 0
		}
		rmag := 15 + 6*s.unit(u, 5)
		colour := 0.2 + 0.8*s.unit(u, 6)
		offsets := [5]float64{colour, 0, -0.35 * colour, -0.5 * colour, -0.6 * colour}
		for b := range 5 {
			o.Flux[b] = 3631 * math.Pow(10, -0.4*(rmag+offsets[b]))
		}
		o.SecondaryStack = s.hash(u, 7)%5 == 0
	}
	for b := range 5 {
		o.NDetections += o.N[b]
		o.Mag[b], o.MagErr[b] = -999, -999
	}
	// Mean magnitudes and epoch from the detections themselves.
	var sum [5]float64
	var cnt [5]int
	var tsum float64
	dets := o.Detections()
	for _, det := range dets {
		tsum += det.ObsTime
		if det.PSFFlux > 0 && det.PSFFlux >= 3*det.PSFFluxErr {
			sum[det.FilterID-1] += det.PSFFlux
			cnt[det.FilterID-1]++
		}
	}
	if len(dets) > 0 {
		o.EpochMean = tsum / float64(len(dets))
	}
	for b := range 5 {
		if cnt[b] > 0 {
			mean := sum[b] / float64(cnt[b])
			o.Mag[b] = 8.9 - 2.5*math.Log10(mean)
			o.MagErr[b] = sigmaJy(b) / math.Sqrt(float64(cnt[b])) / mean
		}
	}
	return o
}

// Detections generates the object's detections, sorted by obsTime.
func (o Object) Detections() []Detection {
	s := o.sky
	if s == nil {
		return nil
	}
	u := uint64(o.ObjID)
	total := o.NDetections
	missing, low, negative := -1, -1, -1
	if !o.Artifact && total >= 3 {
		missing = int(s.hash(u, 10) % uint64(total))
		low = (missing + 1 + int(s.hash(u, 11)%uint64(total-1))) % total
		if s.hash(u, 12)%3 == 0 {
			for i := 0; i < total; i++ {
				if c := (low + 1 + i) % total; c != missing && c != low {
					negative = c
					break
				}
			}
		}
	}
	out := make([]Detection, 0, total)
	i := 0
	for b := range 5 {
		for j := 0; j < o.N[b]; j++ {
			du := uint64(i)
			sigma := sigmaJy(b) * (0.9 + 0.2*s.unit(u, 20, du))
			det := Detection{
				ObjID:        o.ObjID,
				DetectID:     detectIDBase + (o.ObjID-objIDBase)*64 + int64(i),
				FilterID:     b + 1,
				ObsTime:      55340 + math.Floor(1390*s.unit(u, 21, du)) + 0.25 + 0.2*s.unit(u, 22, du),
				RA:           o.RA + 0.03/3600*s.gauss(u, 23, du)/math.Cos(o.Dec*math.Pi/180),
				Dec:          o.Dec + 0.03/3600*s.gauss(u, 24, du),
				PSFFluxErr:   sigma,
				PSFMajorFWHM: 1.0 + 0.4*s.unit(u, 25, du),
				PSFQfPerfect: 0.97 + 0.03*s.unit(u, 26, du),
				InfoFlag:     []int64{102760448, 115343360, 102760480}[s.hash(u, 27, du)%3],
				InfoFlag2:    []int64{0, 8192}[s.hash(u, 28, du)%2],
				InfoFlag3:    int64(s.hash(u, 29, du) % 2),
			}
			det.PSFMinorFWHM = det.PSFMajorFWHM * (0.85 + 0.1*s.unit(u, 30, du))
			switch {
			case o.Artifact:
				det.PSFFlux = 6 * sigma * (1 + 0.1*s.gauss(u, 31, du))
			case i == missing:
				det.PSFFlux, det.PSFFluxErr, det.Kind = -999, -999, "missing"
			case i == low:
				det.PSFFlux, det.Kind = 2*sigma, "low"
			case i == negative:
				det.PSFFlux, det.Kind = -0.8*sigma, "negative"
			default:
				det.PSFFlux = o.Flux[b]*(1+0.02*s.gauss(u, 32, du)) + sigma*s.gauss(u, 33, du)
			}
			if det.PSFFlux == -999 {
				det.ApFlux, det.ApFluxErr = -999, -999
			} else {
				det.ApFlux = det.PSFFlux * (0.97 + 0.06*s.unit(u, 34, du))
				det.ApFluxErr = sigma * 1.3
			}
			out = append(out, det)
			i++
		}
	}
	slices.SortStableFunc(out, func(a, b Detection) int {
		switch {
		case a.ObsTime < b.ObsTime:
			return -1
		case a.ObsTime > b.ObsTime:
			return 1
		}
		return int(a.DetectID - b.DetectID)
	})
	return out
}

// Separation returns the angle between two positions in degrees.
func Separation(ra1, dec1, ra2, dec2 float64) float64 {
	const rad = math.Pi / 180
	d1, d2 := dec1*rad, dec2*rad
	sdd := math.Sin((d2 - d1) / 2)
	sda := math.Sin((ra2 - ra1) * rad / 2)
	h := sdd*sdd + math.Cos(d1)*math.Cos(d2)*sda*sda
	return 2 * math.Asin(math.Min(1, math.Sqrt(h))) / rad
}

// Cone returns the objects within radius degrees of (ra, dec), nearest
// first (ties by objID).
func (s *Sky) Cone(ra, dec, radius float64) []Object {
	if !(radius > 0) {
		return nil
	}
	type hit struct {
		o    Object
		dist float64
	}
	var hits []hit
	rad := math.Pi / 180
	for d := zoneOf(dec - radius); d <= zoneOf(dec+radius); d++ {
		n := cellsInZone(d)
		w := 360 / float64(n)
		lo := -90 + float64(d)*CellSize
		hi := lo + CellSize
		maxAbs := math.Max(math.Abs(lo), math.Abs(hi))
		first, last := 0, n-1
		if x := math.Sin(radius*rad) / math.Cos(math.Min(maxAbs, 90)*rad); maxAbs < 89.99 && x < 1 {
			half := math.Asin(x)/rad + w
			first = int(math.Floor((ra - half) / w))
			last = int(math.Floor((ra + half) / w))
			if last-first+1 > n {
				first, last = 0, n-1
			}
		}
		for r := first; r <= last; r++ {
			rr := ((r % n) + n) % n
			for k := range s.objectsInCell(d, rr) {
				o := s.object(d, rr, k)
				if dist := Separation(ra, dec, o.RA, o.Dec); dist <= radius {
					hits = append(hits, hit{o, dist})
				}
			}
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		switch {
		case a.dist < b.dist:
			return -1
		case a.dist > b.dist:
			return 1
		}
		return int(a.o.ObjID - b.o.ObjID)
	})
	out := make([]Object, len(hits))
	for i, h := range hits {
		out[i] = h.o
	}
	return out
}
