package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	_ "image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(ctx, dir, false, &out), out.String())
	text := out.String()
	assert.Contains(t, text, "SN 2023ixf")
	row := regexp.MustCompile(`(?m)^(ATLAS|PANSTARRS|ZTF|ALERCE)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)$`)
	rows := row.FindAllStringSubmatch(text, -1)
	require.Len(t, rows, 4, text)
	for _, r := range rows {
		products, _ := strconv.Atoi(r[2])
		det, _ := strconv.Atoi(r[3])
		assert.Equal(t, 1, products, "%s stores one product", r[1])
		assert.Positive(t, det, "%s gives detections", r[1])
		assert.LessOrEqual(t, r[5], r[6], "time span in order")
	}

	// The plot is a real, non-trivial picture.
	f, err := os.Open(filepath.Join(dir, "lightcurve.png"))
	require.NoError(t, err)
	defer f.Close()
	img, format, err := image.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, "png", format)
	b := img.Bounds()
	assert.GreaterOrEqual(t, b.Dx(), 600)
	colours := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xff}]++
		}
	}
	assert.Greater(t, len(colours), 8, "several colours: points of several filters on a white page")
	assert.True(t, strings.Contains(text, "lightcurve.png"))

	// A second run over the same folder adds nothing new.
	out.Reset()
	require.NoError(t, run(ctx, dir, false, &out))
	assert.Len(t, row.FindAllStringSubmatch(out.String(), -1), 4)
}

// Without -dir the quickstart works in a temporary folder and removes it.
func TestQuickstartRemovesItsTemporaryFolder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, quickstart(ctx, "", false, &out), out.String())
	m := regexp.MustCompile(`data in (\S+)\n`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	dir := m[1]
	assert.True(t, strings.HasPrefix(filepath.Base(dir), "targetdata-quickstart-"), dir)
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "%s is removed: %v", dir, err)
	assert.Contains(t, out.String(), "removed "+dir)

	kept := t.TempDir()
	require.NoError(t, quickstart(ctx, kept, false, &out))
	assert.FileExists(t, filepath.Join(kept, "lightcurve.png"), "-dir keeps the plot")
}
