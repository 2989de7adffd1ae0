package k8s

import (
	"os"
	"testing"

	"kmsd/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
