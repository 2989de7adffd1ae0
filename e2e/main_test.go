package e2e

import (
	"os"
	"testing"

	"kmsd/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
