package main

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"time"

	"kmsd/cmd/kmsctl/internal/render"
	"kmsd/wire/api"
)

// A response becomes a tree before it is printed: objects keep their
// fields in the order of AWS's service model (which is the api structs'
// order but for modelOrder), so that JSON output, also after --query,
// lists them as the aws CLI does; times read as the aws CLI version 2
// prints them, in the local time zone.

// object is a JSON object with its keys in order.
type object = render.Object

// modelOrder lists the fields of a structure whose declared order in
// package api is not AWS's (a change there would change the wire's golden
// frames): these keys are printed in this order.
var modelOrder = map[reflect.Type][]string{
	reflect.TypeFor[api.KeyMetadata](): {"AWSAccountId", "KeyId", "Arn", "CreationDate", "Enabled", "Description",
		"KeyUsage", "KeyState", "DeletionDate", "ValidTo", "Origin", "CustomKeyStoreId", "CloudHsmClusterId",
		"ExpirationModel", "KeyManager", "CustomerMasterKeySpec", "KeySpec", "EncryptionAlgorithms",
		"SigningAlgorithms", "KeyAgreementAlgorithms", "MultiRegion", "MultiRegionConfiguration",
		"PendingDeletionWindowInDays", "MacAlgorithms", "XksKeyConfiguration", "CurrentKeyMaterialId"},
}

// awsTime is a time as the aws CLI version 2 prints it: ISO 8601 with the
// local offset, and microseconds when there are any; to the millisecond,
// as AWS's (and kmsd's AWS endpoint's) timestamps are.
func awsTime(t time.Time) string {
	t = t.Truncate(time.Millisecond).Local()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05-07:00")
	}
	return t.Format("2006-01-02T15:04:05.000000-07:00")
}

// toTree turns a response into its tree: objects, []any, string, bool,
// json.Number and nil, following the json tags.
func toTree(v reflect.Value) any {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		return awsTime(v.Interface().(time.Time))
	case v.Kind() == reflect.Struct:
		o := &object{Vals: map[string]any{}}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fv := v.Field(i)
			if (strings.Contains(opts, "omitzero") || strings.Contains(opts, "omitempty")) && fv.IsZero() && !alwaysListed(v.Type(), f) {
				continue
			}
			o.Keys = append(o.Keys, name)
			o.Vals[name] = toTree(fv)
		}
		if order, ok := modelOrder[v.Type()]; ok {
			sort.SliceStable(o.Keys, func(i, j int) bool { return rank(order, o.Keys[i]) < rank(order, o.Keys[j]) })
		}
		return o
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case v.Kind() == reflect.Slice:
		l := make([]any, v.Len())
		for i := range l {
			l[i] = toTree(v.Index(i))
		}
		return l
	case v.Kind() == reflect.Map:
		o := &object{Vals: map[string]any{}}
		for _, k := range v.MapKeys() {
			o.Keys = append(o.Keys, k.String())
			o.Vals[k.String()] = toTree(v.MapIndex(k))
		}
		sort.Strings(o.Keys)
		return o
	case v.Kind() == reflect.String:
		return v.String()
	case v.Kind() == reflect.Bool:
		return v.Bool()
	}
	b, _ := json.Marshal(v.Interface())
	return json.Number(b)
}

// alwaysListed reports whether field f of t is a list of a response that
// is printed even when empty, as AWS answers them ({"Aliases": []}): a
// response's own lists, not its blobs.
func alwaysListed(t reflect.Type, f reflect.StructField) bool {
	return strings.HasSuffix(t.Name(), "Output") && f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() != reflect.Uint8
}

func rank(order []string, k string) int {
	for i, o := range order {
		if o == k {
			return i
		}
	}
	return len(order)
}

// plain is the tree as encoding/json's generic values, for JMESPath.
func plain(t any) any {
	switch v := t.(type) {
	case *object:
		m := make(map[string]any, len(v.Keys))
		for _, k := range v.Keys {
			m[k] = plain(v.Vals[k])
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i := range v {
			l[i] = plain(v[i])
		}
		return l
	case json.Number:
		f, _ := v.Float64()
		return f
	}
	return t
}

// keyRanks numbers every key of the tree in the order first met: the order
// a --query's result lists them in.
func keyRanks(t any, r map[string]int) {
	switch v := t.(type) {
	case *object:
		for _, k := range v.Keys {
			if _, ok := r[k]; !ok {
				r[k] = len(r)
			}
			keyRanks(v.Vals[k], r)
		}
	case []any:
		for _, e := range v {
			keyRanks(e, r)
		}
	}
}

// ordered is a query's result as a tree again, its objects' keys in the
// response's order (names the query made up after, sorted).
func ordered(v any, r map[string]int) any {
	switch x := v.(type) {
	case map[string]any:
		o := &object{Vals: map[string]any{}}
		for k, e := range x {
			o.Keys = append(o.Keys, k)
			o.Vals[k] = ordered(e, r)
		}
		sort.Slice(o.Keys, func(i, j int) bool {
			ri, iok := r[o.Keys[i]]
			rj, jok := r[o.Keys[j]]
			switch {
			case iok && jok:
				return ri < rj
			case iok != jok:
				return iok
			}
			return o.Keys[i] < o.Keys[j]
		})
		return o
	case []any:
		l := make([]any, len(x))
		for i := range x {
			l[i] = ordered(x[i], r)
		}
		return l
	case float64:
		return json.Number(render.Number(x))
	}
	return v
}
