package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kmsd/internal/testkit"
)

// newerModel are fields kmsd answers that the aws CLI's model (Debian's
// awscli 2.9) predates: AWS added them later (with key material ids and
// rotation periods, 2024-2025), and the CLI drops what its model lacks.
// A name stands for the field anywhere; a path (.KeyId) for that one.
var newerModel = []string{".KeyId", ".PolicyName", "CurrentKeyMaterialId", "KeyMaterialId", "SourceKeyMaterialId", "DestinationKeyMaterialId", "RotationPeriodInDays", "NextRotationDate", "OnDemandRotationStartDate"}

// awsStep is one command of the transcript, as `aws kms ARGS` and as
// `kmsctl ARGS`: with compare, both must print the same (the same state
// read through both front ends); otherwise the same fields (each made
// its own key, blob or grant).
type awsStep struct {
	args    string // $KEY, $OTHER (kmsctl's key) and $DIR are replaced
	compare bool
	code    string // an error the step must end with
	own     bool   // kmsctl does it to a key of its own (a change that cannot be made twice)
}

var awsTranscript = []awsStep{
	{args: "describe-key --key-id $KEY", compare: true},
	{args: "describe-key --key-id $OTHER", compare: true}, // no description: "Description": ""
	{args: "list-aliases --key-id $KEY", compare: true},
	{args: "encrypt --key-id alias/transcript --plaintext fileb://$DIR/pt --encryption-context app=cli"},
	{args: "decrypt --ciphertext-blob fileb://$DIR/blob --encryption-context app=cli", compare: true},
	{args: "re-encrypt --ciphertext-blob fileb://$DIR/blob --source-encryption-context app=cli --destination-key-id $KEY"},
	{args: "generate-data-key --key-id $KEY --key-spec AES_256"},
	{args: "generate-data-key-without-plaintext --key-id $KEY --number-of-bytes 16"},
	{args: "generate-random --number-of-bytes 16"},
	{args: "tag-resource --key-id $KEY --tags TagKey=env,TagValue=ci", compare: true},
	{args: "list-resource-tags --key-id $KEY", compare: true},
	{args: "enable-key-rotation --key-id $KEY", compare: true},
	{args: "get-key-rotation-status --key-id $KEY", compare: true},
	{args: "get-key-policy --key-id $KEY --policy-name default", compare: true},
	{args: "list-key-policies --key-id $KEY", compare: true},
	{args: "create-grant --key-id $KEY --grantee-principal uid:65534 --operations Decrypt"},
	{args: "list-grants --key-id $KEY"},
	{args: "update-key-description --key-id $KEY --description renamed", compare: true},
	{args: "disable-key --key-id $KEY", compare: true},
	{args: "enable-key --key-id $KEY", compare: true},
	{args: "list-keys", compare: true},
	{args: "describe-key --key-id alias/none", code: "NotFoundException"},
	{args: "decrypt --ciphertext-blob fileb://$DIR/pt", code: "InvalidCiphertextException"},
	{args: "schedule-key-deletion --key-id $KEY --pending-window-in-days 7", own: true},
	{args: "cancel-key-deletion --key-id $KEY", own: true},
}

// TestAWSCLITranscript drives kmsd's AWS endpoint on TCP with the real
// aws CLI (version 2), signed with an access key kmsd issued, and runs
// each command with kmsctl too, on the msgpack socket: both must print the
// same JSON (timestamps compared as instants; fields newer than the CLI's
// model aside), and fail with the same exception.
func TestAWSCLITranscript(t *testing.T) {
	t.Parallel()
	testkit.RequireAWSCLI(t)
	d := startAWSKMSD(t, "--region", "eu-west-3", "--account-id", "123456789012")
	addr := d.Addr
	dir := t.TempDir()
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_ACCESS_KEY_ID=" + d.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + d.SecretAccessKey,
		"AWS_DEFAULT_REGION=eu-west-3", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1"}
	cli := startAWSCLI(t, env) // one aws CLI process for every command (TestAWSDriverIsTheCLI)
	run := func(args ...string) (string, string, int) {
		return cli.run(t, append([]string{"--endpoint-url", "http://" + addr, "kms"}, args...)...)
	}
	out, errs, code := run("create-key", "--description", "transcript <&>")
	var ck struct {
		KeyMetadata struct{ KeyId, Arn, Description string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &ck) != nil {
		t.Fatalf("aws kms create-key: exit %d\n%s%s", code, out, errs)
	}
	key := ck.KeyMetadata.KeyId
	if ck.KeyMetadata.Arn != "arn:aws:kms:eu-west-3:123456789012:key/"+key || ck.KeyMetadata.Description != "transcript <&>" {
		t.Errorf("create-key: %+v", ck.KeyMetadata)
	}
	if _, errs, code := run("create-alias", "--alias-name", "alias/transcript", "--target-key-id", key); code != 0 {
		t.Fatalf("create-alias: %s", errs)
	}
	os.WriteFile(filepath.Join(dir, "pt"), []byte("through the aws CLI"), 0o600)
	blob := d.OK(t, "encrypt", "--key-id", key, "--plaintext", "fileb://"+filepath.Join(dir, "pt"), "--encryption-context", "app=cli", "--query", "CiphertextBlob", "--output", "text")
	raw, _ := base64Decode(strings.TrimSpace(blob))
	os.WriteFile(filepath.Join(dir, "blob"), raw, 0o600)

	other := strings.TrimSpace(d.OK(t, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	for _, st := range awsTranscript {
		line := strings.NewReplacer("$KEY", key, "$DIR", dir, "$OTHER", other).Replace(st.args)
		args := strings.Fields(line)
		aOut, aErr, aCode := run(args...)
		if st.own {
			args = strings.Fields(strings.NewReplacer("$KEY", other, "$DIR", dir).Replace(st.args))
		}
		kOut, kErr, kCode := d.Kmsctl(t, args...)
		t.Logf("$ aws kms %s\n%s%s", line, aOut, aErr)
		if st.code != "" {
			want := "An error occurred (" + st.code + ") when calling the "
			if aCode != 254 || kCode != 254 || !strings.Contains(aErr, want) || !strings.Contains(kErr, want) {
				t.Errorf("%s: aws exit %d %q, kmsctl exit %d %q; want 254 and %s", line, aCode, aErr, kCode, kErr, st.code)
			}
			continue
		}
		if aCode != 0 || kCode != 0 {
			t.Errorf("%s: aws exit %d %s, kmsctl exit %d %s", line, aCode, aErr, kCode, kErr)
			continue
		}
		if diff := compareJSON(aOut, kOut, st.compare); diff != "" {
			t.Errorf("%s: kmsctl and aws differ: %s\n--- aws:\n%s--- kmsctl:\n%s", line, diff, aOut, kOut)
		}
		// As printed: the same fields in the same order, and the same
		// escaping (none of HTML's).
		if a, k := keySeq(aOut), keySeq(kOut); !slices.Equal(a, k) {
			t.Errorf("%s: aws prints the fields\n%v\nkmsctl\n%v", line, a, k)
		}
		if strings.Contains(kOut, `\u00`) != strings.Contains(aOut, `\u00`) {
			t.Errorf("%s: kmsctl escapes what aws does not:\n%s", line, kOut)
		}
	}
	// Output forms, compared as printed (lines naming the newer model's
	// fields aside), on the key enabled again.
	d.OK(t, "enable-key", "--key-id", key)
	for _, line := range []string{
		"list-aliases --key-id $KEY --output yaml",
		"list-aliases --key-id $KEY --output text",
		"list-resource-tags --key-id $KEY --output yaml",
		"get-key-policy --key-id $KEY --policy-name default --output yaml",
		"describe-key --key-id $KEY --query KeyMetadata.{Id:KeyId,State:KeyState,Arn:Arn,Created:CreationDate}",
		"describe-key --key-id $KEY --query KeyMetadata.[KeyState,Enabled,KeySpec] --output text",
		"list-keys --max-items 1",
		"list-keys --max-items 1 --output text",
		"list-keys --max-items 1 --output yaml",
		"list-keys --no-paginate --limit 1",
		"list-keys --max-items 1 --output table",
		"list-aliases --key-id $KEY --output table",
		"list-resource-tags --key-id $KEY --output table",
		"describe-key --key-id $KEY --query KeyMetadata.[KeyId,KeyState,Enabled] --output table",
		"list-grants --key-id $OTHER",
		"list-grants --key-id $OTHER --output text",
		"list-grants --key-id $OTHER --output yaml",
		"list-grants --key-id $OTHER --output table",
		"generate-random --cli-input-json {\"NumberOfBytes\":8} --query length(Plaintext)",
		"generate-random --number-of-bytes 8 --cli-binary-format raw-in-base64-out --query length(Plaintext)",
		"decrypt --ciphertext-blob fileb://$DIR/blob --encryption-context app=cli --query Plaintext --output text",
	} {
		args := strings.Fields(strings.NewReplacer("$KEY", key, "$DIR", dir, "$OTHER", other).Replace(line))
		aOut, aErr, aCode := run(args...)
		kOut, kErr, kCode := d.Kmsctl(t, args...)
		if aCode != 0 || kCode != 0 {
			t.Errorf("%s: aws exit %d %s, kmsctl exit %d %s", line, aCode, aErr, kCode, kErr)
			continue
		}
		if a, k := dropNewer(aOut), dropNewer(kOut); a != k {
			t.Errorf("%s: aws printed\n%s\nkmsctl\n%s", line, a, k)
		}
	}
	// Bring your own key with the aws CLI, as AWS's documentation does:
	// parameters, openssl's RSA-OAEP, import with a ValidTo (sent as epoch
	// seconds), on a key kmsctl then uses.
	out, errs, code = run("create-key", "--origin", "EXTERNAL", "--query", "KeyMetadata.KeyId", "--output", "text")
	byok := strings.TrimSpace(out)
	if code != 0 {
		t.Fatalf("create-key --origin EXTERNAL: %s", errs)
	}
	out, errs, code = run("get-parameters-for-import", "--key-id", byok, "--wrapping-algorithm", "RSAES_OAEP_SHA_256",
		"--wrapping-key-spec", "RSA_2048", "--query", "[PublicKey,ImportToken]", "--output", "text")
	fields := strings.Fields(out)
	if code != 0 || len(fields) != 2 {
		t.Fatalf("get-parameters-for-import: exit %d %s%s", code, out, errs)
	}
	pub, _ := base64Decode(fields[0])
	tok, _ := base64Decode(fields[1])
	material := make([]byte, 32)
	for i := range material {
		material[i] = byte(i * 7)
	}
	os.WriteFile(filepath.Join(dir, "WrappingPublicKey.bin"), pub, 0o600)
	os.WriteFile(filepath.Join(dir, "ImportToken.bin"), tok, 0o600)
	os.WriteFile(filepath.Join(dir, "PlaintextKeyMaterial.bin"), material, 0o600)
	ossl := exec.Command("openssl", "pkeyutl", "-encrypt", "-in", "PlaintextKeyMaterial.bin", "-out", "EncryptedKeyMaterial.bin",
		"-inkey", "WrappingPublicKey.bin", "-keyform", "DER", "-pubin", "-pkeyopt", "rsa_padding_mode:oaep",
		"-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256")
	ossl.Dir = dir
	if b, err := ossl.CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v %s", err, b)
	}
	validTo := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	if out, errs, code := run("import-key-material", "--key-id", byok, "--import-token", "fileb://"+filepath.Join(dir, "ImportToken.bin"),
		"--encrypted-key-material", "fileb://"+filepath.Join(dir, "EncryptedKeyMaterial.bin"),
		"--expiration-model", "KEY_MATERIAL_EXPIRES", "--valid-to", validTo); code != 0 {
		t.Fatalf("aws kms import-key-material: exit %d %s%s", code, out, errs)
	}
	got := d.OK(t, "describe-key", "--key-id", byok, "--query", "KeyMetadata.[KeyState,ExpirationModel,ValidTo]", "--output", "text")
	if f := strings.Fields(got); len(f) != 3 || f[0] != "Enabled" || f[1] != "KEY_MATERIAL_EXPIRES" || !sameInstant(f[2], validTo) {
		t.Errorf("after the aws CLI's import: %s", got)
	}
	if trail := d.OK(t, "audit", "query", "--operation", "CreateAlias"); !strings.Contains(trail, `"source":"aws"`) {
		t.Errorf("the aws CLI's CreateAlias is not in the trail as source aws:\n%s", trail)
	}
}

// compareJSON compares two outputs: with values, every field of a (the
// aws CLI's) must be in b (kmsctl's) with an equal value; without, with
// the same kind. b may have more only of the newer model's fields.
func compareJSON(a, b string, values bool) string {
	if strings.TrimSpace(a) == "" && strings.TrimSpace(b) == "" {
		return ""
	}
	var av, bv any
	if err := json.Unmarshal([]byte(a), &av); err != nil {
		return "aws printed no JSON: " + err.Error()
	}
	if err := json.Unmarshal([]byte(b), &bv); err != nil {
		return "kmsctl printed no JSON: " + err.Error()
	}
	return diffJSON("", av, bv, values)
}

var isoTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d`)

func diffJSON(path string, a, b any, values bool) string {
	switch av := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			return path + ": an object in aws's, not in kmsctl's"
		}
		for k, v := range av {
			if d := diffJSON(path+"."+k, v, bm[k], values); d != "" {
				return d
			}
		}
		for k := range bm {
			if _, ok := av[k]; !ok && !slices.Contains(newerModel, k) && !slices.Contains(newerModel, path+"."+k) {
				return path + "." + k + ": kmsctl prints a field aws does not"
			}
		}
		return ""
	case []any:
		bl, ok := b.([]any)
		if !ok || (values && len(bl) != len(av)) {
			return fmt.Sprintf("%s: a list of %d in aws's, %v in kmsctl's", path, len(av), b)
		}
		for i := range min(len(av), len(bl)) {
			if d := diffJSON(path+"["+strconv.Itoa(i)+"]", av[i], bl[i], values); d != "" {
				return d
			}
		}
		return ""
	case string:
		bs, ok := b.(string)
		if !ok {
			return path + ": a string in aws's, not in kmsctl's"
		}
		if values && av != bs {
			return fmt.Sprintf("%s: %q in aws's, %q in kmsctl's", path, av, bs)
		}
		if isoTime.MatchString(av) && (!isoTime.MatchString(bs) || len(av) != len(bs)) {
			return fmt.Sprintf("%s: a time printed %q by aws, %q by kmsctl", path, av, bs)
		}
		return ""
	default:
		if b == nil || (values && fmt.Sprint(a) != fmt.Sprint(b)) {
			return fmt.Sprintf("%s: %v in aws's, %v in kmsctl's", path, a, b)
		}
		return ""
	}
}

// keySeq lists the keys of a JSON text in the order printed, leaving out
// the newer model's.
func keySeq(text string) []string {
	d := json.NewDecoder(strings.NewReader(text))
	var keys []string
	var stack []bool // per open container: is it an object
	expectKey := false
	for {
		tok, err := d.Token()
		if err != nil {
			return keys
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, v == '{')
				expectKey = v == '{'
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				if !slices.Contains(newerModel, v) && !slices.Contains(newerModel, "."+v) {
					keys = append(keys, v)
				}
				expectKey = false
				continue
			}
		}
		expectKey = len(stack) > 0 && stack[len(stack)-1]
	}
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// dropNewer leaves out the lines that name a field of the newer model.
func dropNewer(text string) string {
	var keep []string
	for _, l := range strings.SplitAfter(text, "\n") {
		name, _, _ := strings.Cut(strings.TrimLeft(l, " -\""), ":")
		if name = strings.TrimRight(name, "\""); !slices.Contains(newerModel, name) && !slices.Contains(newerModel, "."+name) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}
