package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeResolver knows alice (uid 1000) and the group kms-users (gid 500).
type fakeResolver struct{}

func (fakeResolver) LookupUser(n string) (uint32, error) {
	if n == "alice" {
		return 1000, nil
	}
	return 0, errors.New("unknown user")
}

func (fakeResolver) LookupGroup(n string) (uint32, error) {
	if n == "kms-users" {
		return 500, nil
	}
	return 0, errors.New("unknown group")
}

const arn = "arn:aws:kms:local:000000000000:key/1234abcd-12ab-44cd-96ef-1234567890ab"

func compile(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Compile(doc, fakeResolver{})
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return p
}

func stmt(body string) string {
	return `{"Version":"2012-10-17","Statement":[` + body + `]}`
}

func TestMalformedDocuments(t *testing.T) {
	cases := []struct{ name, doc, path string }{
		{"not json", `{`, ""},
		{"not an object", `[]`, ""},
		{"two values", `{"Statement":[]} {}`, ""},
		{"duplicate key", `{"Statement":{"Effect":"Allow","Effect":"Deny","Principal":"*"}}`, "Effect"},
		{"unknown top element", `{"Statement":[],"Foo":1}`, "Foo"},
		{"bad version", `{"Version":"2020","Statement":[]}`, "Version"},
		{"no statement", `{"Version":"2012-10-17"}`, "Statement"},
		{"empty statements", `{"Statement":[]}`, "Statement"},
		{"bad effect", stmt(`{"Effect":"Maybe","Principal":"*"}`), "Statement[0].Effect"},
		{"no effect", stmt(`{"Principal":"*","Action":"kms:*"}`), "Statement[0].Effect"},
		{"no principal", stmt(`{"Effect":"Allow","Action":"kms:*"}`), "Statement[0].Principal"},
		{"bad principal", stmt(`{"Effect":"Allow","Principal":"uid:1"}`), "Statement[0].Principal"},
		{"aws account", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"}}`), "Statement[0].Principal.AWS[0]"},
		{"unknown user", stmt(`{"Effect":"Allow","Principal":{"Kmsd":["uid:1","user:mallory"]}}`), "Statement[0].Principal.Kmsd[1]"},
		{"unknown group", stmt(`{"Effect":"Allow","Principal":{"Kmsd":"group:nope"}}`), "Statement[0].Principal.Kmsd[0]"},
		{"bad unit", stmt(`{"Effect":"Allow","Principal":{"Kmsd":"unit:nginx"}}`), "Statement[0].Principal.Kmsd[0]"},
		{"bad uid", stmt(`{"Effect":"Allow","Principal":{"Kmsd":"uid:-1"}}`), "Statement[0].Principal.Kmsd[0]"},
		{"principal type", stmt(`{"Effect":"Allow","Principal":{"Service":"x"}}`), "Statement[0].Principal.Service"},
		{"unknown action", stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:Encrypted"}`), "Statement[0].Action[0]"},
		{"not kms", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}`), "Statement[0].Action[0]"},
		{"empty action list", stmt(`{"Effect":"Allow","Principal":"*","Action":[]}`), "Statement[0].Action"},
		{"NotAction", stmt(`{"Effect":"Allow","Principal":"*","NotAction":"kms:Decrypt"}`), "Statement[0].NotAction"},
		{"unknown element", stmt(`{"Effect":"Allow","Principal":"*","Actions":"kms:*"}`), "Statement[0].Actions"},
		{"second statement", stmt(`{"Effect":"Allow","Principal":"*"},{"Effect":"Allow","Principal":"*","Resource":5}`), "Statement[1].Resource"},
		{"duplicate sid", stmt(`{"Sid":"a","Effect":"Allow","Principal":"*"},{"Sid":"a","Effect":"Deny","Principal":"*"}`), "Statement[1].Sid"},
		{"bad operator", stmt(`{"Effect":"Allow","Principal":"*","Condition":{"NumericEquals":{"kms:EncryptionContext:a":"1"}}}`), "Statement[0].Condition.NumericEquals"},
		{"bad condition key", stmt(`{"Effect":"Allow","Principal":"*","Condition":{"StringEquals":{"aws:SourceIp":"1"}}}`), "Statement[0].Condition.StringEquals"},
		{"keys unqualified", stmt(`{"Effect":"Allow","Principal":"*","Condition":{"StringEquals":{"kms:EncryptionContextKeys":"a"}}}`), "Statement[0].Condition.StringEquals"},
		{"bad qualifier", stmt(`{"Effect":"Allow","Principal":"*","Condition":{"ForSome:StringEquals":{"kms:EncryptionContextKeys":"a"}}}`), "Statement[0].Condition.ForSome:StringEquals"},
		{"condition not strings", stmt(`{"Effect":"Allow","Principal":"*","Condition":{"StringEquals":{"kms:EncryptionContext:a":[1]}}}`), "Statement[0].Condition.StringEquals.kms:EncryptionContext:a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.doc, fakeResolver{})
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a MalformedError", err)
			}
			if me.Path != c.path {
				t.Fatalf("path %q, want %q (%v)", me.Path, c.path, err)
			}
		})
	}
	if _, err := Compile(`{"Statement":"`+strings.Repeat("x", MaxSize)+`"}`, fakeResolver{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
}

func TestEvaluation(t *testing.T) {
	alice := &Principal{UID: 1000, GID: 1000}
	bob := &Principal{UID: 1001, GID: 1001, Groups: []uint32{500}}
	svc := &Principal{UID: 998, GID: 998, Unit: "backup.service"}
	root := &Principal{UID: 0, GID: 0}
	doc := stmt(`
	 {"Sid":"admins","Effect":"Allow","Principal":{"Kmsd":["uid:0","user:alice"]},"Action":"kms:*","Resource":"*"},
	 {"Sid":"users","Effect":"Allow","Principal":{"Kmsd":"group:kms-users"},"Action":["kms:Encrypt","kms:Describe*"],"Resource":"` + arn + `"},
	 {"Sid":"backup","Effect":"Allow","Principal":{"Kmsd":"unit:backup.service"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*",
	  "Condition":{"StringEquals":{"kms:EncryptionContext:purpose":["backup","restore"]},"ForAllValues:StringLike":{"kms:EncryptionContextKeys":["purpose","host*"]}}},
	 {"Sid":"no-decrypt-for-group","Effect":"Deny","Principal":{"Kmsd":"gid:500"},"Action":"kms:Decrypt","Resource":"*"},
	 {"Sid":"no-tenant-b","Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"b"}}},
	 {"Sid":"ineffective","Effect":"Allow","Principal":"*"}`)
	p := compile(t, doc)
	type want int
	const (
		allow want = iota
		deny
		none
	)
	cases := []struct {
		name   string
		p      *Principal
		action string
		res    string
		ec     map[string]string
		want   want
	}{
		{"admin by uid", root, "kms:PutKeyPolicy", arn, nil, allow},
		{"admin by user name", alice, "kms:ScheduleKeyDeletion", arn, nil, allow},
		{"group member encrypts", bob, "kms:Encrypt", arn, nil, allow},
		{"group wildcard action", bob, "kms:DescribeKey", arn, nil, allow},
		{"action case", bob, "KMS:ENCRYPT", arn, nil, allow},
		{"group on another key", bob, "kms:Encrypt", arn + "x", nil, none},
		{"group member not decrypt (explicit deny)", bob, "kms:Decrypt", arn, nil, deny},
		{"non-member", &Principal{UID: 7, GID: 7}, "kms:Encrypt", arn, nil, none},
		{"deny on context wins over admin", alice, "kms:Encrypt", arn, map[string]string{"tenant": "b"}, deny},
		{"admin, other tenant", alice, "kms:Encrypt", arn, map[string]string{"tenant": "a"}, allow},
		{"unit with context", svc, "kms:Decrypt", arn, map[string]string{"purpose": "backup", "host1": "x"}, allow},
		{"unit, other value", svc, "kms:Decrypt", arn, map[string]string{"purpose": "other"}, none},
		{"unit, extra key fails ForAllValues", svc, "kms:Decrypt", arn, map[string]string{"purpose": "restore", "user": "x"}, none},
		{"unit, no context", svc, "kms:Decrypt", arn, nil, none},
		{"unit wildcard action", svc, "kms:GenerateDataKeyWithoutPlaintext", arn, map[string]string{"purpose": "backup"}, allow},
		{"same uid, other unit", &Principal{UID: 998, GID: 998}, "kms:Decrypt", arn, map[string]string{"purpose": "backup"}, none},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := p.Match(c.p, c.action, c.res)
			allowed, denied := a.Decide(c.ec, keysOf(c.ec))
			got := none
			if denied {
				got = deny
			} else if allowed {
				got = allow
			}
			if got != c.want {
				t.Fatalf("got %d, want %d (%+v)", got, c.want, a)
			}
		})
	}
	if !p.Visible(bob, arn) || p.Visible(&Principal{UID: 7}, arn) {
		t.Fatal("visibility")
	}
	if !p.AllowsOutright(alice, "kms:PutKeyPolicy", arn) || p.AllowsOutright(alice, "kms:Encrypt", arn) || p.AllowsOutright(bob, "kms:PutKeyPolicy", arn) {
		t.Fatal("AllowsOutright")
	}
}

func TestNegatedAndAnyValueConditions(t *testing.T) {
	p := compile(t, stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*",
	  "Condition":{"StringNotEquals":{"kms:EncryptionContext:env":"prod"},"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["app","svc"]}}}`))
	anyone := &Principal{UID: 5}
	for _, c := range []struct {
		ec   map[string]string
		want bool
	}{
		{map[string]string{"app": "x"}, true},                 // env absent: StringNotEquals holds
		{map[string]string{"app": "x", "env": "dev"}, true},   // env differs
		{map[string]string{"app": "x", "env": "prod"}, false}, // env is prod
		{map[string]string{"other": "x"}, false},              // no key among app/svc
		{nil, false},                                          // ForAnyValue on nothing
	} {
		a := p.Match(anyone, "kms:Encrypt", arn)
		if got, _ := a.Decide(c.ec, keysOf(c.ec)); got != c.want {
			t.Errorf("%v: %v", c.ec, got)
		}
	}
	all := compile(t, stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*",
	  "Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["a"]}}}`))
	a := all.Match(anyone, "kms:Encrypt", arn)
	if ok, _ := a.Decide(nil, nil); !ok {
		t.Fatal("ForAllValues over an empty context must hold, as in AWS")
	}
}

func TestDefaultAndServiceManagedPolicies(t *testing.T) {
	p := compile(t, Default(1000, "kms-users"))
	for _, pr := range []*Principal{{UID: 0}, {UID: 1000, GID: 1}, {UID: 9, GID: 9, Groups: []uint32{500}}} {
		if !p.AllowsOutright(pr, "kms:PutKeyPolicy", arn) || !p.AllowsOutright(pr, "kms:Decrypt", arn) {
			t.Errorf("%v lacks access", pr)
		}
	}
	if p.Visible(&Principal{UID: 1001, GID: 1001}, arn) {
		t.Fatal("another user sees the key")
	}
	if q := compile(t, Default(0, "")); len(q.Statements[0].Principals) != 1 {
		t.Fatal("root created: only uid:0")
	}
	if q := compile(t, Default(5, "77")); q.Statements[0].Principals[2].Kind != GID {
		t.Fatal("numeric admin group")
	}
	s := compile(t, ServiceManaged("nginx.service"))
	nginx := &Principal{UID: 33, GID: 33, Unit: "nginx.service"}
	other := &Principal{UID: 0, GID: 0}
	if !s.AllowsOutright(nginx, "kms:Encrypt", arn) || s.AllowsOutright(other, "kms:Encrypt", arn) {
		t.Fatal("use")
	}
	if !s.AllowsOutright(other, "kms:DescribeKey", arn) || s.AllowsOutright(nginx, "kms:PutKeyPolicy", arn) {
		t.Fatal("view / manage")
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*", "abc", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"*c", "abc", true}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false}, {"", "", true}, {"", "a", false},
		{"kms:describe*", "kms:describekey", true}, {"**", "x", true},
	} {
		if got := glob(c.p, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
	// A pathological pattern stays fast.
	long := strings.Repeat("a", 5000)
	if glob(strings.Repeat("*a", 50)+"b", long) {
		t.Fatal("matched")
	}
}

func TestPrincipalKey(t *testing.T) {
	a := &Principal{UID: 1, GID: 2, Groups: []uint32{5, 3}, Unit: "x.service"}
	b := &Principal{UID: 1, GID: 2, Groups: []uint32{3, 5}, Unit: "x.service"}
	c := &Principal{UID: 1, GID: 2, Groups: []uint32{3, 5}}
	if a.DecisionKey() != b.DecisionKey() || a.DecisionKey() == c.DecisionKey() {
		t.Fatal(a.DecisionKey(), b.DecisionKey(), c.DecisionKey())
	}
	if fmt.Sprint(a) == "" {
		t.Fatal()
	}
}

func FuzzCompile(f *testing.F) {
	f.Add(Default(1000, "kms-users"))
	f.Add(ServiceManaged("a.service"))
	f.Add(stmt(`{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"kms:EncryptionContextKeys":"a*"}}}`))
	f.Add(`{"Statement":{"Effect":"Allow","Effect":"Deny"}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Compile(doc, fakeResolver{})
		if err != nil {
			var me *MalformedError
			if !errors.As(err, &me) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		a := p.Match(&Principal{UID: 1000, GID: 500}, "kms:Encrypt", arn)
		a.Decide(map[string]string{"a": "b"}, []string{"a"})
	})
}

func keysOf(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	return k
}
