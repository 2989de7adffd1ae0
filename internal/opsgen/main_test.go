package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"kmsd/wire/api"
)

// TestGeneratedFilesAreCurrent fails when a file written from the
// operation table is not what the table makes of it now: run
// go generate ./wire/api.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	files, err := generate(api.Ops())
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./wire/api", path)
		}
	}
}
