package awssdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

// TestErrors: every exception kmsd answers reaches the SDK as its typed
// error (or, for the ones AWS's model does not type, as an API error with
// the code), with kmsd's message.
func TestErrors(t *testing.T) {
	e := start(t)
	c := e.client(t)
	key := func() string { return aws.ToString(must(c.CreateKey(ctx, &kms.CreateKeyInput{}))(t).KeyMetadata.KeyId) }
	id, disabled, deleting := key(), key(), key()
	must(c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/taken"), TargetKeyId: aws.String(id)}))(t)
	must(c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(disabled)}))(t)
	must(c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(deleting)}))(t)
	blob := must(c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")}))(t).CiphertextBlob
	var tooMany []types.Tag
	for i := range 51 {
		tooMany = append(tooMany, types.Tag{TagKey: aws.String(fmt.Sprint("k", i)), TagValue: aws.String("v")})
	}
	// uid 65534 may see the key but not use it: AccessDenied (a key it may
	// not even see does not exist for it: NotFound).
	must(c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default"), Policy: aws.String(`{"Statement":[
		{"Effect":"Allow","Principal":{"Kmsd":"uid:0"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Allow","Principal":{"Kmsd":"uid:65534"},"Action":"kms:DescribeKey","Resource":"*"}]}`)}))(t)
	nobody := e.clientAs(t, 65534, 65534)
	cases := []struct {
		code string
		typ  any // a pointer to the SDK's type, or nil for an untyped code
		call func() error
	}{
		{"NotFoundException", new(*types.NotFoundException), func() error {
			_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/none")})
			return err
		}},
		{"AlreadyExistsException", new(*types.AlreadyExistsException), func() error {
			_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/taken"), TargetKeyId: aws.String(id)})
			return err
		}},
		{"DisabledException", new(*types.DisabledException), func() error {
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(disabled), Plaintext: []byte("x")})
			return err
		}},
		{"IncorrectKeyException", new(*types.IncorrectKeyException), func() error {
			_, err := c.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(disabled), CiphertextBlob: blob})
			return err
		}},
		{"InvalidAliasNameException", new(*types.InvalidAliasNameException), func() error {
			_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/aws/mine"), TargetKeyId: aws.String(id)})
			return err
		}},
		{"InvalidArnException", new(*types.InvalidArnException), func() error {
			_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:s3:::bucket")})
			return err
		}},
		{"InvalidCiphertextException", new(*types.InvalidCiphertextException), func() error {
			_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("not a blob of kmsd's")})
			return err
		}},
		{"InvalidGrantIdException", new(*types.InvalidGrantIdException), func() error {
			_, err := c.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(id), GrantId: aws.String(strings.Repeat("0", 64))})
			return err
		}},
		{"InvalidGrantTokenException", new(*types.InvalidGrantTokenException), func() error {
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), GrantTokens: []string{"not a token"}})
			return err
		}},
		{"InvalidKeyUsageException", new(*types.InvalidKeyUsageException), func() error {
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
			return err
		}},
		{"InvalidMarkerException", new(*types.InvalidMarkerException), func() error {
			_, err := c.ListKeys(ctx, &kms.ListKeysInput{Marker: aws.String("not a marker")})
			return err
		}},
		{"KMSInvalidStateException", new(*types.KMSInvalidStateException), func() error {
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(deleting), Plaintext: []byte("x")})
			return err
		}},
		{"LimitExceededException", new(*types.LimitExceededException), func() error {
			_, err := c.TagResource(ctx, &kms.TagResourceInput{KeyId: aws.String(id), Tags: tooMany})
			return err
		}},
		{"MalformedPolicyDocumentException", new(*types.MalformedPolicyDocumentException), func() error {
			_, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default"), Policy: aws.String("{not json")})
			return err
		}},
		{"TagException", new(*types.TagException), func() error {
			_, err := c.TagResource(ctx, &kms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{{TagKey: aws.String("aws:mine"), TagValue: aws.String("v")}}})
			return err
		}},
		{"UnsupportedOperationException", new(*types.UnsupportedOperationException), func() error {
			_, err := c.CreateKey(ctx, &kms.CreateKeyInput{MultiRegion: aws.Bool(true)}) // one host has no Regions
			return err
		}},
		{"AccessDeniedException", nil, func() error { // AWS's model types it for a few operations only
			_, err := nobody.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
			return err
		}},
		{"ValidationException", nil, func() error {
			_, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(5000)})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			err := tc.call()
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tc.code || api.ErrorMessage() == "" {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if tc.typ != nil && !errors.As(err, tc.typ) {
				t.Errorf("%s arrived as %T, not the SDK's type", tc.code, errors.Unwrap(err))
			}
		})
	}
}

// TestHostileRequests: what the SDK never sends is refused with AWS's
// codes and statuses, and kmsd goes on serving.
func TestHostileRequests(t *testing.T) {
	e := start(t)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return net.Dial("unix", e.sock) }}}
	post := func(target, body string) (int, string) {
		req, _ := http.NewRequest("POST", "http://kmsd/", strings.NewReader(body))
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cases := []struct {
		name, target, body string
		status             int
		code               string
	}{
		{"no target", "", "{}", 400, "UnknownOperationException"},
		{"unknown operation", "TrentService.ReplicateKey", "{}", 400, "UnknownOperationException"},
		{"kmsd's own operation", "TrentService.RotateRootKey", "{}", 400, "UnknownOperationException"},
		{"another service", "DynamoDB_20120810.ListTables", "{}", 400, "UnknownOperationException"},
		{"a field kmsd lacks", "TrentService.GenerateRandom", `{"NumberOfBytes":8,"DryRun":true}`, 400, "ValidationException"},
		{"a wrong type", "TrentService.GenerateRandom", `{"NumberOfBytes":"8"}`, 400, "ValidationException"},
		{"two values", "TrentService.GenerateRandom", `{"NumberOfBytes":8}{}`, 400, "ValidationException"},
		{"not JSON", "TrentService.GenerateRandom", `NumberOfBytes=8`, 400, "ValidationException"},
		{"too large", "TrentService.GenerateRandom", `{"x":"` + strings.Repeat("a", 300<<10) + `"}`, 413, "ValidationException"},
		{"fine", "TrentService.GenerateRandom", `{"NumberOfBytes":8}`, 200, ""},
	}
	for _, tc := range cases {
		status, body := post(tc.target, tc.body)
		if status != tc.status || (tc.code != "" && !strings.Contains(body, `"__type":"`+tc.code+`"`)) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	resp, err := hc.Get("http://kmsd/")
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}
