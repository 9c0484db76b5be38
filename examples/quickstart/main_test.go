package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.GreaterOrEqual(t, len(lines), 4, out.String())
	require.Contains(t, lines[0], "SN 2023ixf")
	fields := strings.Fields(lines[3])
	require.Equal(t, []string{"DEMO", "1"}, fields[:2], out.String())
	require.NotEqual(t, "0", fields[2], "detections: %s", out.String())
}
