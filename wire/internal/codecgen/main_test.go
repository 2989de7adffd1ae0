package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesAreCurrent fails when the generated codec is not
// what the api structs make of it now: a field added to a struct without
// go generate would otherwise never be sent.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	wire := filepath.Join("..", "..")
	msgs, err := parseDir(filepath.Join(wire, "api"))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 60 {
		t.Fatalf("only %d messages found in package api", len(msgs))
	}
	for path, want := range generate(msgs) {
		got, err := os.ReadFile(filepath.Join(wire, path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("wire/%s is stale: run go generate ./wire", path)
		}
	}
}

// TestRefusesWhatItCannotEncode: a field of a type the codec has no
// encoding for, or a tag that does not apply, is an error, not a field
// silently left out.
func TestRefusesWhatItCannotEncode(t *testing.T) {
	for name, src := range map[string]string{
		"float":           "type M struct{ F float64 }",
		"map of ints":     "type M struct{ F map[string]int }",
		"unknown struct":  "type M struct{ F Other }",
		"embedded":        "type M struct{ Other }",
		"max on a string": "type M struct{ F string `wire:\"max=3\"` }",
		"bad max":         "type M struct{ F []string `wire:\"max=x\"` }",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "m.go"), []byte("package api\n"+src+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := parseDir(dir); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
