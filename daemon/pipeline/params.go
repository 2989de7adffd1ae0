package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"reflect"
	"strconv"
	"strings"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/wire/api"
)

// params puts into a management request's record what it created or
// changed, as CloudTrail's requestParameters and responseElements do:
// what the operation's entry in the table declares (api.OpSpec.Params),
// read from the request and the response. A grant is named by its id,
// never by a token; documents are recorded by digest (audit.Event.Params).
func params(ev *audit.Event, op *api.OpSpec, in, out api.Message) {
	if op == nil || len(op.Params) == 0 {
		return
	}
	p := map[string]string{}
	for _, d := range op.Params {
		from, msg := d.From, in
		if rest, ok := strings.CutPrefix(from, "out."); ok {
			from, msg = rest, out
		}
		v := paramValue(field(msg, from), d.Form)
		switch {
		case v == "":
		case d.Key == "key_id":
			ev.KeyID = v
		case d.Key == "alias":
			ev.Alias = v
		default:
			p[d.Key] = v
		}
	}
	if len(p) > 0 {
		ev.Params = p
	}
}

// field is the value at a dotted path of fields in m (a pointer to a
// structure), or an invalid Value when m is nil or the path reaches none.
func field(m api.Message, path string) reflect.Value {
	if m == nil {
		return reflect.Value{}
	}
	v := reflect.ValueOf(m)
	for _, name := range strings.Split(path, ".") {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return reflect.Value{}
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}
		}
		if v = v.FieldByName(name); !v.IsValid() {
			return reflect.Value{}
		}
	}
	return v
}

// paramValue writes v in form; "" for nothing (a zero value, a nil
// pointer, an empty list).
func paramValue(v reflect.Value, form api.ParamForm) string {
	for v.IsValid() && v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if !v.IsValid() || v.IsZero() {
		return ""
	}
	switch form {
	case api.Digest:
		if v.Kind() == reflect.Slice { // a message: recorded by its digest, as a document is
			return digest(string(v.Bytes()))
		}
		return digest(v.String())
	case api.Names:
		names := make([]string, v.Len())
		for i := range names {
			e := v.Index(i)
			if t, ok := e.Interface().(api.Tag); ok {
				names[i] = t.TagKey
			} else {
				names[i] = e.String()
			}
		}
		return strings.Join(names, ",")
	case api.Time:
		if t, ok := v.Interface().(time.Time); ok {
			return t.UTC().Format(time.RFC3339)
		}
	case api.JSON:
		b, _ := json.Marshal(v.Interface())
		if s := string(b); s != "{}" && s != "null" {
			return s
		}
		return ""
	case api.GrantOfToken:
		return grantIDOfToken(v.String())
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	}
	return fmt.Sprint(v.Interface())
}

// digest is "sha256:" and the hex SHA-256 of a document, or "" for none.
func digest(doc string) string {
	if doc == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(doc))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// grantIDOfToken is the grant id a grant token names, or "": the grant
// is recorded by its id, not by the token.
func grantIDOfToken(token string) string {
	id, _ := kms.GrantIDOfToken(token)
	return id
}

// batchParams puts into each record of a batch what its items asked, as
// params does for one request: a value all its items share (an
// algorithm), and, for a value recorded by digest (a message), the
// digest of the items' digests in item order under the key's plural
// ("messages": "sha256:" and the hex SHA-256 of each item's SHA-256, 32
// bytes each, concatenated), which anyone holding the messages can check
// and which says nothing of them. evOf is each item's record. The fields
// are found once per batch, not per item.
func batchParams(op *api.OpSpec, inputs any, evOf []*audit.Event) {
	items := reflect.ValueOf(inputs)
	if items.Kind() != reflect.Slice || items.Len() < len(evOf) {
		return
	}
	type column struct {
		p   api.Param
		idx []int
	}
	var cols []column
	for _, d := range op.Params {
		if strings.HasPrefix(d.From, "out.") || strings.Contains(d.From, ".") || d.Key == "key_id" || d.Key == "alias" {
			continue
		}
		if f, ok := items.Type().Elem().FieldByName(d.From); ok {
			cols = append(cols, column{d, f.Index})
		}
	}
	type acc struct {
		shared []string // by column; "" once two items differ
		seen   []bool
		digest []hash.Hash
	}
	accs := map[*audit.Event]*acc{}
	var sum [sha256.Size]byte
	for i, ev := range evOf {
		a := accs[ev]
		if a == nil {
			a = &acc{shared: make([]string, len(cols)), seen: make([]bool, len(cols)), digest: make([]hash.Hash, len(cols))}
			accs[ev] = a
		}
		item := items.Index(i)
		for c, col := range cols {
			v := item.FieldByIndex(col.idx)
			if col.p.Form == api.Digest {
				if a.digest[c] == nil {
					a.digest[c] = sha256.New()
				}
				h := sha256.New()
				if v.Kind() == reflect.Slice {
					h.Write(v.Bytes())
				} else {
					h.Write([]byte(v.String()))
				}
				a.digest[c].Write(h.Sum(sum[:0]))
				continue
			}
			s := paramValue(v, col.p.Form)
			if !a.seen[c] {
				a.shared[c], a.seen[c] = s, true
			} else if a.shared[c] != s {
				a.shared[c] = ""
			}
		}
	}
	for ev, a := range accs {
		p := map[string]string{}
		for c, col := range cols {
			switch {
			case a.digest[c] != nil:
				p[col.p.Key+"s"] = "sha256:" + hex.EncodeToString(a.digest[c].Sum(nil))
			case a.shared[c] != "":
				p[col.p.Key] = a.shared[c]
			}
		}
		if len(p) > 0 {
			ev.Params = p
		}
	}
}
