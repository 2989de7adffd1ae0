package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"kmsd/cmd/kmsctl/internal/render"
	"kmsd/wire/api"
	"kmsd/wire/awsjson"
)

// errSkeletonPrinted ends a run after --generate-cli-skeleton.
var errSkeletonPrinted = errors.New("skeleton printed")

// negativeNumber is a value that begins with '-' and is not a flag: a
// number, or a time before now (audit query --since -1h, -1h30m, -2d).
var negativeNumber = regexp.MustCompile(`^-[0-9]+(\.[0-9]+)?([a-zµ]+[0-9.]*)*$`)

// cliArgs prepares the arguments as the aws CLI reads them before kong
// parses them: a negative number is a flag's value, not a flag
// (--number-of-bytes -1); --generate-cli-skeleton prints the command's
// request with empty values; --cli-input-json becomes the flags it holds,
// those given beside it winning.
func cliArgs(p *kong.Kong, args []string, stdout io.Writer) ([]string, error) {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && i+1 < len(args) && negativeNumber.MatchString(args[i+1]) {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	at, command := findCommand(p, out)
	if slices.ContainsFunc(out, func(a string) bool { return a == "--batch-input" || strings.HasPrefix(a, "--batch-input=") }) {
		out = batchDefaults(p, out, command)
	}
	skeleton, input := "", ""
	for i, a := range out {
		switch {
		case a == "--generate-cli-skeleton":
			skeleton = "input"
			if i+1 < len(out) && !strings.HasPrefix(out[i+1], "--") {
				skeleton = out[i+1]
			}
		case strings.HasPrefix(a, "--generate-cli-skeleton="):
			skeleton = strings.TrimPrefix(a, "--generate-cli-skeleton=")
		case a == "--cli-input-json" && i+1 < len(out):
			input = out[i+1]
		case strings.HasPrefix(a, "--cli-input-json="):
			input = strings.TrimPrefix(a, "--cli-input-json=")
		}
	}
	if skeleton == "" && input == "" {
		return out, nil
	}
	if skeleton != "" && skeleton != "input" && skeleton != "output" {
		return nil, fmt.Errorf("--generate-cli-skeleton: %q is not input or output", skeleton)
	}
	spec := api.Lookup(opName(command))
	if command == "" || spec == nil || strings.Contains(command, " ") {
		return nil, fmt.Errorf("--generate-cli-skeleton and --cli-input-json need a command that sends one request: %q does not", command)
	}
	if skeleton != "" {
		var b bytes.Buffer
		if skeleton == "output" {
			render.JSON(&b, sampleOf(reflect.TypeOf(spec.NewOutput()).Elem(), ""))
		} else {
			render.JSON(&b, skeletonOf(reflect.TypeOf(spec.NewInput()).Elem()))
		}
		b.WriteByte('\n')
		stdout.Write(b.Bytes())
		return nil, errSkeletonPrinted
	}
	text, err := readText("cli-input-json", input)
	if err != nil {
		return nil, err
	}
	if err := awsjson.CheckText([]byte(text)); err != nil {
		return nil, fmt.Errorf("--cli-input-json: %w", err)
	}
	d := json.NewDecoder(strings.NewReader(text))
	d.DisallowUnknownFields()
	if err := d.Decode(spec.NewInput()); err != nil {
		return nil, fmt.Errorf("--cli-input-json: not a %s request: %w", spec.Name, err)
	}
	var fields map[string]json.RawMessage
	json.Unmarshal([]byte(text), &fields)
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	var extra []string
	for _, k := range names {
		flag := "--" + api.FlagName(k)
		if slices.ContainsFunc(out, func(a string) bool {
			return a == flag || strings.HasPrefix(a, flag+"=") || a == "--no-"+flag[2:]
		}) {
			continue // given beside it: the flag wins
		}
		extra = append(extra, flagValue(flag, fields[k])...)
	}
	return slices.Concat(out[:at+1], extra, out[at+1:]), nil
}

// batchDefaults lets a command run with --batch-input without the flags
// it requires of one request (each line brings them): those not given
// are given empty, which leaves them to the lines.
func batchDefaults(p *kong.Kong, args []string, command string) []string {
	node := p.Model.Node
	for _, w := range strings.Fields(command) {
		for _, c := range node.Children {
			if c.Name == w {
				node = c
			}
		}
	}
	if node == p.Model.Node {
		return args
	}
	for _, f := range node.Flags {
		flag := "--" + f.Name
		if f.Required && !slices.ContainsFunc(args, func(a string) bool { return a == flag || strings.HasPrefix(a, flag+"=") }) {
			args = append(args, flag+"=")
		}
	}
	return args
}

// findCommand returns where the command's last word is in args, and the
// command ("audit verify" for two words).
func findCommand(p *kong.Kong, args []string) (int, string) {
	valued := map[string]bool{}
	for _, f := range p.Model.Flags {
		valued["--"+f.Name] = !f.IsBool()
	}
	node := p.Model.Node
	at, command := -1, ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if valued[a] {
				i++
			}
			continue
		}
		var next *kong.Node
		for _, c := range node.Children {
			if c.Type == kong.CommandNode && c.Name == a {
				next = c
			}
		}
		if next == nil {
			break
		}
		node, at, command = next, i, strings.TrimSpace(command+" "+a)
	}
	return at, command
}

// flagValue is a JSON field as kmsctl's flags take it.
func flagValue(flag string, raw json.RawMessage) []string {
	var v any
	json.Unmarshal(raw, &v)
	switch x := v.(type) {
	case bool:
		if x {
			return []string{flag}
		}
		return []string{"--no-" + flag[2:]}
	case string:
		return []string{flag + "=" + x}
	case float64:
		return []string{flag + "=" + strconv.FormatFloat(x, 'f', -1, 64)}
	case nil:
		return nil
	}
	return []string{flag + "=" + string(raw)} // lists, maps, objects: JSON, which every such flag takes
}

// skeletonOf is a request type with every field present and empty, as the
// aws CLI's --generate-cli-skeleton prints one.
func skeletonOf(t reflect.Type) any {
	if t == reflect.TypeFor[time.Time]() {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		o := &object{Vals: map[string]any{}}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			o.Keys = append(o.Keys, name)
			o.Vals[name] = skeletonOf(f.Type)
		}
		return o
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		return []any{skeletonOf(t.Elem())}
	case reflect.Map:
		return &object{Keys: []string{"KeyName"}, Vals: map[string]any{"KeyName": skeletonOf(t.Elem())}}
	case reflect.String:
		return ""
	case reflect.Bool:
		return false
	}
	return json.Number("0")
}

// sampleOf is the sample answer --generate-cli-skeleton output prints, as
// the aws CLI version 2 makes it: every field, a string or blob holding
// its own name, numbers 0, booleans true, lists of one element, maps of
// "KeyName" to an empty value, times the epoch without an offset. (The aws
// CLI names a list's string elements after their shape, GrantOperation;
// kmsd's types have no shape names, so they hold the list's name.)
func sampleOf(t reflect.Type, name string) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "1970-01-01T00:00:00"
	case t.Kind() == reflect.Struct:
		o := &object{Vals: map[string]any{}}
		for i := range t.NumField() {
			f := t.Field(i)
			n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || n == "-" {
				continue
			}
			if n == "" {
				n = f.Name
			}
			o.Keys = append(o.Keys, n)
			o.Vals[n] = sampleOf(f.Type, n)
		}
		return o
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8, t.Kind() == reflect.String:
		return name
	case t.Kind() == reflect.Slice:
		return []any{sampleOf(t.Elem(), name)}
	case t.Kind() == reflect.Map:
		return &object{Keys: []string{"KeyName"}, Vals: map[string]any{"KeyName": sampleOf(t.Elem(), "")}}
	case t.Kind() == reflect.Bool:
		return true
	}
	return json.Number("0")
}
