package dataproduct_test

import (
	"testing"

	"github.com/tomgo/targetdata/dataproduct"
	"github.com/tomgo/targetdata/dataproduct/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dataproduct.Store { return dataproduct.NewMemoryStore(nil) })
}
