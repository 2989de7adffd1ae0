package client_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"log"
	"os"
	"testing"

	"kmsd/daemon"
	"kmsd/internal/testkit"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

// TestMain runs an in-process kmsd for the examples and points
// KMSD_SOCKET at it, as a deployment would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kmsd-ex")
	if err != nil {
		log.Fatal(err)
	}
	k, err := testkit.RunInProcess(dir, daemon.Options{NoAudit: true})
	if err != nil {
		log.Fatal(err)
	}
	os.Setenv("KMSD_SOCKET", k.Sock)
	code := m.Run()
	k.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func Example() {
	ctx := context.Background()
	c, err := client.Dial(ctx, os.Getenv("KMSD_SOCKET"), client.Options{Client: "example"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	key, err := c.CreateKey(ctx, &api.CreateKeyInput{Description: "example"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx, &api.AliasInput{AliasName: "alias/example", TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		log.Fatal(err)
	}
	ec := map[string]string{"purpose": "example"}
	enc, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/example", Plaintext: []byte("hello, kms"), EncryptionContext: ec})
	if err != nil {
		log.Fatal(err)
	}
	dec, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (%d-byte blob)\n", dec.Plaintext, len(enc.CiphertextBlob))

	// A wrong context is refused, as AWS KMS refuses it.
	_, err = c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	fmt.Println(api.CodeOf(err))
	// Output:
	// hello, kms (72-byte blob)
	// InvalidCiphertextException
}

// Envelope encryption: kmsd makes a data key; the program encrypts its
// data locally with it and stores only the encrypted data key.
func ExampleClient_GenerateDataKey() {
	ctx := context.Background()
	c, err := client.Dial(ctx, os.Getenv("KMSD_SOCKET"), client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	key, _ := c.CreateKey(ctx, &api.CreateKeyInput{})
	ec := map[string]string{"file": "report.pdf"}

	dk, err := c.GenerateDataKey(ctx, &api.GenerateDataKeyInput{KeyId: key.KeyMetadata.KeyId, KeySpec: api.DataKeySpecAES256, EncryptionContext: ec})
	if err != nil {
		log.Fatal(err)
	}
	block, _ := aes.NewCipher(dk.Plaintext)
	gcm, _ := cipher.NewGCMWithRandomNonce(block)
	sealed := gcm.Seal(nil, nil, []byte("the report"), nil)
	clear(dk.Plaintext) // keep only dk.CiphertextBlob next to sealed

	// Later: kmsd decrypts the data key, the program opens the data.
	back, err := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ec})
	if err != nil {
		log.Fatal(err)
	}
	block, _ = aes.NewCipher(back.Plaintext)
	gcm, _ = cipher.NewGCMWithRandomNonce(block)
	data, err := gcm.Open(nil, nil, sealed, nil)
	fmt.Println(string(data), err)
	// Output: the report <nil>
}

// Many items in one call: they travel as batch frames and each gets its
// own result.
func ExampleClient_EncryptBatch() {
	ctx := context.Background()
	c, err := client.Dial(ctx, os.Getenv("KMSD_SOCKET"), client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	key, _ := c.CreateKey(ctx, &api.CreateKeyInput{})
	items := make([]*api.EncryptInput, 1000)
	for i := range items {
		secret := make([]byte, 32)
		rand.Read(secret)
		items[i] = &api.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: secret}
	}
	items[3].KeyId = "alias/does-not-exist"
	results, err := c.EncryptBatch(ctx, items)
	if err != nil {
		log.Fatal(err)
	}
	ok := 0
	for _, r := range results {
		if r.Err == nil && bytes.HasPrefix(r.Out.CiphertextBlob, []byte{0x01}) {
			ok++
		}
	}
	fmt.Println(ok, "encrypted;", api.CodeOf(results[3].Err))
	// Output: 999 encrypted; NotFoundException
}

// A stream of batches: each batch's results are used, what must outlive
// them copied out, and the buffers they share given back with Release,
// to be read into again by the next batch.
func ExampleRelease() {
	ctx := context.Background()
	c, err := client.Dial(ctx, os.Getenv("KMSD_SOCKET"), client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	key, _ := c.CreateKey(ctx, &api.CreateKeyInput{})
	var kept [][]byte
	for batch := range 3 {
		items := make([]*api.EncryptInput, 500)
		for i := range items {
			items[i] = &api.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: fmt.Appendf(nil, "record %d.%d", batch, i)}
		}
		results, err := c.EncryptBatch(ctx, items)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range results {
			if r.Err != nil {
				log.Fatal(r.Err)
			}
			kept = append(kept, bytes.Clone(r.Out.CiphertextBlob)) // outlives Release
		}
		client.Release(results) // results[i].Out is nil from here on
	}
	back, _ := c.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: kept[1234]})
	fmt.Println(len(kept), string(back.Plaintext))
	// Output: 1500 record 2.234
}
