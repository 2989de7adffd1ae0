package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxSize is the largest policy document, in bytes (AWS's 32 KB quota).
const MaxSize = 32768

// ErrTooLarge is returned for a document over MaxSize.
var ErrTooLarge = errors.New("policy document is over 32768 bytes")

// MalformedError says what is wrong with a document and where, e.g.
// "Statement[1].Effect: must be Allow or Deny".
type MalformedError struct {
	Path string
	Msg  string
}

func (e *MalformedError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func malformed(path, format string, args ...any) error {
	return &MalformedError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Policy is a compiled key policy.
type Policy struct {
	Text       string // the document as given
	Statements []*Statement
}

// Statement is one compiled statement.
type Statement struct {
	Sid        string
	Deny       bool
	Principals []HostPrincipal
	actions    []string // lower-case patterns; nil matches nothing
	resources  []string // patterns; nil matches nothing
	conditions []condition
}

// Conditional reports whether the statement has conditions on the request.
func (s *Statement) Conditional() bool { return len(s.conditions) > 0 }

// Holds evaluates the statement's conditions on an encryption context
// whose keys are keys, and the request's other condition keys, attrs (by
// their Cond names; nil for none).
func (s *Statement) Holds(ec map[string]string, keys []string, attrs map[string]string) bool {
	for i := range s.conditions {
		if !s.conditions[i].holds(ec, keys, attrs) {
			return false
		}
	}
	return true
}

// Compile parses and checks a policy document. Every error is a
// *MalformedError naming the fault, or ErrTooLarge.
func Compile(doc string, r Resolver) (*Policy, error) {
	if len(doc) > MaxSize {
		return nil, ErrTooLarge
	}
	if err := checkJSON([]byte(doc)); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return nil, malformed("", "the document must be a JSON object")
	}
	for k := range top {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return nil, malformed(k, "unknown element (a policy has Version, Id and Statement)")
		}
	}
	if v, ok := top["Version"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil || (s != "2012-10-17" && s != "2008-10-17") {
			return nil, malformed("Version", `must be "2012-10-17"`)
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, malformed("Statement", "is required")
	}
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		list = []json.RawMessage{raw}
	} else if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return nil, malformed("Statement", "must be a statement or a non-empty list of statements")
	}
	p := &Policy{Text: doc}
	sids := map[string]bool{}
	for i, s := range list {
		st, err := compileStatement(fmt.Sprintf("Statement[%d]", i), s, r)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, malformed(fmt.Sprintf("Statement[%d].Sid", i), "%q is used twice", st.Sid)
			}
			sids[st.Sid] = true
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func compileStatement(path string, raw json.RawMessage, r Resolver) (*Statement, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, malformed(path, "must be a JSON object")
	}
	st := &Statement{}
	for k, v := range m {
		p := path + "." + k
		var err error
		switch k {
		case "Sid":
			if json.Unmarshal(v, &st.Sid) != nil {
				err = malformed(p, "must be a string")
			}
		case "Effect":
			var e string
			json.Unmarshal(v, &e)
			switch e {
			case "Allow":
			case "Deny":
				st.Deny = true
			default:
				err = malformed(p, "must be Allow or Deny")
			}
		case "Principal":
			st.Principals, err = compilePrincipal(p, v, r)
		case "Action":
			var acts []string
			if acts, err = stringOrList(p, v); err == nil {
				st.actions, err = compileActions(p, acts)
			}
		case "Resource":
			st.resources, err = stringOrList(p, v)
		case "Condition":
			st.conditions, err = compileConditions(p, v)
		case "NotAction", "NotPrincipal", "NotResource":
			err = malformed(p, "is not supported by kmsd; write the statement with %s", strings.TrimPrefix(k, "Not"))
		default:
			err = malformed(p, "unknown element (a statement has Sid, Effect, Principal, Action, Resource and Condition)")
		}
		if err != nil {
			return nil, err
		}
	}
	if _, ok := m["Effect"]; !ok {
		return nil, malformed(path+".Effect", "is required")
	}
	if _, ok := m["Principal"]; !ok {
		return nil, malformed(path+".Principal", "is required")
	}
	return st, nil
}

// compilePrincipal accepts "*", {"AWS": "*"} and {"Kmsd": principal or list}.
func compilePrincipal(path string, v json.RawMessage, r Resolver) ([]HostPrincipal, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		if s != "*" {
			return nil, malformed(path, `must be "*" or {"Kmsd": [...]}`)
		}
		return []HostPrincipal{{Text: "*", Kind: Anyone}}, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil || len(m) == 0 {
		return nil, malformed(path, `must be "*" or {"Kmsd": [...]}`)
	}
	var out []HostPrincipal
	for k, raw := range m {
		list, err := stringOrList(path+"."+k, raw)
		if err != nil {
			return nil, err
		}
		for i, item := range list {
			ip := fmt.Sprintf("%s.%s[%d]", path, k, i)
			switch k {
			case "AWS":
				if item != "*" {
					return nil, malformed(ip, `kmsd has no AWS principals: only "*" is allowed here; name host principals under "Kmsd"`)
				}
				out = append(out, HostPrincipal{Text: "*", Kind: Anyone})
			case "Kmsd":
				h, err := ParsePrincipal(item, r)
				if err != nil {
					return nil, malformed(ip, "%v", err)
				}
				out = append(out, h)
			default:
				return nil, malformed(path+"."+k, `unknown principal type (use "Kmsd")`)
			}
		}
	}
	return out, nil
}

func compileActions(path string, acts []string) ([]string, error) {
	out := make([]string, 0, len(acts))
	for i, a := range acts {
		p := fmt.Sprintf("%s[%d]", path, i)
		lower := strings.ToLower(a)
		if !strings.HasPrefix(lower, "kms:") {
			return nil, malformed(p, "%q: actions begin with kms:", a)
		}
		if !strings.ContainsAny(a, "*?") && canonicalAction(a) == "" {
			return nil, malformed(p, "%q is not a kms action", a)
		}
		out = append(out, lower)
	}
	return out, nil
}

func compileConditions(path string, v json.RawMessage) ([]condition, error) {
	var blocks map[string]map[string]json.RawMessage
	if json.Unmarshal(v, &blocks) != nil {
		return nil, malformed(path, `must map operators to {"key": value or [values]}`)
	}
	var out []condition
	for op, block := range blocks {
		vals := map[string][]string{}
		for k, raw := range block {
			list, err := stringOrList(path+"."+op+"."+k, raw)
			if err != nil {
				return nil, err
			}
			vals[k] = list
		}
		cs, err := parseCondition(op, vals)
		if err != nil {
			return nil, malformed(path+"."+op, "%v", err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

func stringOrList(path string, v json.RawMessage) ([]string, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return []string{s}, nil
	}
	var list []string
	if json.Unmarshal(v, &list) != nil || len(list) == 0 {
		return nil, malformed(path, "must be a string or a non-empty list of strings")
	}
	return list, nil
}

// checkJSON rejects documents that are not one JSON value, and objects
// that name a key twice (which readers resolve differently).
func checkJSON(doc []byte) error {
	d := json.NewDecoder(bytes.NewReader(doc))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // the next token is a key
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) && len(stack) == 0 {
				return nil
			}
			return malformed("", "not valid JSON: %v", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, isKey := tok.(string); isKey && top != nil && top.obj && top.key {
			if top.keys[k] {
				return malformed(k, "appears twice in one object")
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
		if len(stack) == 0 && d.More() {
			return malformed("", "more than one JSON value")
		}
	}
}
