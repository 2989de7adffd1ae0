package awsjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"kmsd/wire/api"
)

// ContentType is the media type of requests and answers.
const ContentType = "application/x-amz-json-1.1"

// TargetPrefix begins the X-Amz-Target header of every KMS operation.
const TargetPrefix = "TrentService."

// Decode reads body, one JSON object, into in. An empty body is an empty
// object. Unknown members, a second value, malformed JSON and JSON that
// is not text (see CheckText) are errors (a ValidationException for the
// caller).
func Decode(body []byte, in api.Message) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := CheckText(body); err != nil {
		return err
	}
	if names := timeFields(reflect.TypeOf(in).Elem()); len(names) > 0 {
		var err error
		if body, err = epochToRFC3339(body, names); err != nil {
			return err
		}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%s: expected a JSON %s", te.Field, te.Type)
		}
		return err
	}
	if d.More() {
		return errors.New("the body holds more than one JSON value")
	}
	if _, err := d.Token(); err == nil {
		return errors.New("the body holds more than one JSON value")
	}
	return nil
}

// Encode writes out as an AWS JSON 1.1 answer body.
func Encode(out api.Message) ([]byte, error) {
	var b bytes.Buffer
	if err := encode(&b, reflect.ValueOf(out)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ErrorBody is the body of an error answer.
func ErrorBody(code, message string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"__type":`)
	writeString(&b, code)
	b.WriteString(`,"message":`)
	writeString(&b, message)
	b.WriteByte('}')
	return b.Bytes()
}

// Status is the HTTP status of an answer with the exception code: 200 for
// none, 500 for KMSInternalException, 503 for the ones AWS KMS gives it
// (a dependency or a key store that is not there), 403 for a request
// without a signature, 400 for the rest.
func Status(code string) int {
	switch code {
	case "":
		return http.StatusOK
	case api.CodeInternal:
		return http.StatusInternalServerError
	case api.CodeDependencyTimeout, api.CodeKeyUnavailable:
		return http.StatusServiceUnavailable
	case "MissingAuthenticationTokenException":
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

var timeType = reflect.TypeFor[time.Time]()

func encode(b *bytes.Buffer, v reflect.Value) error {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == timeType:
		t := v.Interface().(time.Time)
		b.WriteString(strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', -1, 64))
		return nil
	case v.Kind() == reflect.Struct:
		return encodeStruct(b, v)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		b.WriteByte('"')
		b.WriteString(base64.StdEncoding.EncodeToString(v.Bytes()))
		b.WriteByte('"')
		return nil
	case v.Kind() == reflect.Slice: // nil as [] (encodeStruct omits the others)
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encode(b, v.Index(i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case v.Kind() == reflect.Map:
		return encodeMap(b, v)
	case v.Kind() == reflect.String:
		writeString(b, v.String())
		return nil
	}
	j, err := json.Marshal(v.Interface())
	if err != nil {
		return err
	}
	b.Write(j)
	return nil
}

// encodeStruct writes a structure's fields; a list answer's list (a
// structure with Truncated) is written when empty too, as AWS writes it
// ("Grants":[]).
func encodeStruct(b *bytes.Buffer, v reflect.Value) error {
	b.WriteByte('{')
	first := true
	listAnswer := v.FieldByName("Truncated").Kind() == reflect.Bool
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		list := listAnswer && fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() != reflect.Uint8
		if (strings.Contains(opts, "omitzero") || strings.Contains(opts, "omitempty")) && fv.IsZero() && !list {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(b, name)
		b.WriteByte(':')
		if err := encode(b, fv); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	b.WriteByte('}')
	return nil
}

func encodeMap(b *bytes.Buffer, v reflect.Value) error {
	if v.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("a map keyed by %s", v.Type().Key())
	}
	keys := v.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, k.String())
		b.WriteByte(':')
		if err := encode(b, v.MapIndex(k)); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// writeString writes s as a JSON string, without escaping <, > and &.
func writeString(b *bytes.Buffer, s string) {
	e := json.NewEncoder(b)
	e.SetEscapeHTML(false)
	e.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

// timeFields are the JSON names of a request type's timestamp fields.
func timeFields(t reflect.Type) []string {
	if v, ok := timeFieldCache.Load(t); ok {
		return v.([]string)
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft == timeType {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			names = append(names, name)
		}
	}
	timeFieldCache.Store(t, names)
	return names
}

var timeFieldCache sync.Map // reflect.Type -> []string

// epochToRFC3339 rewrites the named members of a JSON object that hold
// epoch seconds (as the SDKs send timestamps) as RFC 3339 strings, which
// encoding/json reads into a time.Time.
func epochToRFC3339(body []byte, names []string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	for _, n := range names {
		raw, ok := m[n]
		if !ok || len(raw) == 0 || raw[0] == '"' || raw[0] == 'n' {
			continue
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: expected a timestamp (seconds since the epoch)", n)
		}
		sec, frac := math.Modf(f)
		t := time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
		m[n], _ = json.Marshal(t.Format(time.RFC3339Nano))
	}
	return json.Marshal(m)
}
