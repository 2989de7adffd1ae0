package memstore

import (
	"testing"

	"kmsd/keystore"
	"kmsd/keystore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) keystore.Store { return New() }, nil)
}
