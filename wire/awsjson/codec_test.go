package awsjson

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"kmsd/wire/api"
)

func TestEncode(t *testing.T) {
	created := time.Date(2026, 11, 30, 12, 0, 0, 123_456_789, time.UTC)
	window := int32(7)
	cases := []struct {
		name string
		in   api.Message
		want string
	}{
		{"timestamps are epoch seconds, to the millisecond; no HTML escaping; declared order; omitzero",
			&api.KeyMetadataOutput{KeyMetadata: api.KeyMetadata{KeyId: "k", CreationDate: created, Enabled: true,
				Description: "<a & b>", PendingDeletionWindowInDays: &window}},
			`{"KeyMetadata":{"KeyId":"k","CreationDate":1796040000.123,"Enabled":true,"Description":"<a & b>","MultiRegion":false,"PendingDeletionWindowInDays":7}}`},
		{"blobs are base64; maps sorted",
			&api.EncryptOutput{CiphertextBlob: []byte{0, 1, 2, 0xff}, KeyId: "k"},
			`{"CiphertextBlob":"AAEC/w==","KeyId":"k"}`},
		{"an empty answer is an empty object", &api.Empty{}, `{}`},
		{"a list answer's empty list is written, as AWS writes it", &api.ListGrantsOutput{}, `{"Grants":[],"Truncated":false}`},
		{"and the same for every list answer", &api.ListAliasesOutput{Aliases: []api.AliasListEntry{}}, `{"Aliases":[],"Truncated":false}`},
		{"a context map, sorted",
			&api.DecryptInput{CiphertextBlob: []byte("x"), EncryptionContext: map[string]string{"b": "2", "a": "1"}},
			`{"CiphertextBlob":"eA==","EncryptionContext":{"a":"1","b":"2"}}`},
	}
	for _, tc := range cases {
		got, err := Encode(tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s:\n got %s %v\nwant %s", tc.name, got, err, tc.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: not JSON: %s", tc.name, got)
		}
	}
}

func TestDecode(t *testing.T) {
	var in api.EncryptInput
	if err := Decode([]byte(`{"KeyId":"alias/a","Plaintext":"aGk=","EncryptionContext":{"k":"v"},"GrantTokens":["t"]}`), &in); err != nil ||
		in.KeyId != "alias/a" || string(in.Plaintext) != "hi" || in.EncryptionContext["k"] != "v" || in.GrantTokens[0] != "t" {
		t.Fatalf("%+v %v", in, err)
	}
	if err := Decode(nil, &api.ListKeysInput{}); err != nil {
		t.Errorf("an empty body: %v", err)
	}
	for _, bad := range []string{
		`{"KeyId":"a","Recipient":{}}`, // a field kmsd does not implement (Nitro enclaves) is refused, not ignored
		`{"KeyId":1}`,
		`{"Plaintext":"not base64!"}`,
		`{"KeyId":"a"} {}`,
		`{"KeyId":"a"`,
		`[]`,
		`KeyId=a`,
	} {
		if err := Decode([]byte(bad), &api.EncryptInput{}); err == nil {
			t.Errorf("%s: decoded", bad)
		}
	}
	// Timestamps come as epoch seconds, as the SDKs send them.
	var ik api.ImportKeyMaterialInput
	if err := Decode([]byte(`{"KeyId":"k","ValidTo":1796040000.5}`), &ik); err != nil || ik.ValidTo == nil ||
		!ik.ValidTo.Equal(time.Date(2026, 11, 30, 12, 0, 0, 500_000_000, time.UTC)) {
		t.Errorf("epoch ValidTo: %v %v", ik.ValidTo, err)
	}
	if err := Decode([]byte(`{"KeyId":"k","ValidTo":"soon"}`), &api.ImportKeyMaterialInput{}); err == nil {
		t.Errorf("a ValidTo that is no time decoded")
	}
	var lk api.ListKeysInput
	if err := Decode([]byte(`{"Limit":0}`), &lk); err != nil || lk.Limit == nil || *lk.Limit != 0 {
		t.Errorf("Limit 0 must stay 0, not absent: %v %v", lk.Limit, err)
	}
}

func TestErrorBody(t *testing.T) {
	b := ErrorBody("NotFoundException", `key "<x>" does not exist`)
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Type != "NotFoundException" || e.Message != `key "<x>" does not exist` || strings.Contains(string(b), `\u003c`) {
		t.Errorf("%s: %+v %v", b, e, err)
	}
	for code, want := range map[string]int{"": 200, api.CodeNotFound: 400, api.CodeThrottling: 400, api.CodeInternal: 500,
		api.CodeKeyUnavailable: 503, "MissingAuthenticationTokenException": http.StatusForbidden} {
		if got := Status(code); got != want {
			t.Errorf("Status(%q) = %d, want %d", code, got, want)
		}
	}
}

// FuzzDecode: no body makes Decode panic, and what it accepts encodes.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"KeyId":"a","Plaintext":"aGk=","EncryptionContext":{"k":"v"}}`, `{"GrantTokens":["a","b"]}`, `{"Plaintext":null}`, `[`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, in := range []api.Message{&api.EncryptInput{}, &api.CreateGrantInput{}, &api.CreateKeyInput{}} {
			if Decode(body, in) == nil {
				if _, err := Encode(in); err != nil {
					t.Fatalf("decoded %q, but it does not encode: %v", body, err)
				}
			}
		}
	})
}
