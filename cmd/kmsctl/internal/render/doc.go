// Package render prints kmsctl's answers in the aws CLI's four output
// forms: json, text, table and yaml.
//
// The printers were written from the aws CLI version 2's documented and
// observed output, not from its source: testdata/cases.txt holds inputs,
// testdata/aws-cli.txtar what the real aws CLI prints for each with every
// --output (kept true by e2e's TestPrintersGoldenIsTheAWSCLIs, which runs
// the aws CLI again), and this package's tests hold every printer to that
// file. Where kmsctl differs on purpose, testdata/kmsctl-differs.txtar
// says what it prints instead and why.
//
// # Values
//
// A printer takes a tree of JSON values: *Object (an object whose keys
// keep an order), []any, string, bool, nil, and numbers as json.Number or
// float64 (what JMESPath gives back). Normalize turns encoding/json's
// generic values (map[string]any) into such a tree, keys sorted.
//
// # Forms
//
//   - JSON: four spaces of indent, keys in their order, no HTML escaping.
//   - Text: tab-separated lines; see [Text].
//   - Table: titled boxes drawn with '-', '+' and '|'; see [Table].
//   - YAML: block style, keys sorted; see [YAML].
//
// No printer panics on any tree: a table whose rows do not line up is an
// error ([ErrRagged]), as it is for the aws CLI.
package render
