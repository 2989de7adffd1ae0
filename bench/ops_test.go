package bench

import (
	"fmt"

	"kmsd/wire/api"
	"kmsd/wire/client"
)

// op is one operation at one payload size, as every mode calls it.
type op struct {
	name string // "op=Encrypt/size=32"
	size int    // payload bytes per item
	fuse string // the file under keys/by-id/<key>/ that does it, or ""
	// prep makes the inputs with a client of a running kmsd and the key
	// made at its start (in a calling process too: see procs_test.go).
	prep func(c *client.Client, key string) (calls, error)
}

// calls does an op once, or as a batch of n items.
type calls struct {
	one   func(c *client.Client) error
	batch func(c *client.Client, n int) error
}

// ops is what the suite measures: Encrypt at three sizes, Decrypt,
// GenerateDataKey (AES_256) and ReEncrypt (to another key).
var ops = []op{
	{name: "op=Encrypt/size=32", size: 32, fuse: "encrypt", prep: encryptOp(32)},
	{name: "op=Encrypt/size=1024", size: 1024, fuse: "encrypt", prep: encryptOp(1024)},
	{name: "op=Encrypt/size=4096", size: 4096, fuse: "encrypt", prep: encryptOp(4096)},
	{name: "op=Decrypt/size=32", size: 32, prep: decryptOp},
	{name: "op=GenerateDataKey/size=32", size: 32, prep: dataKeyOp},
	{name: "op=ReEncrypt/size=32", size: 32, prep: reEncryptOp},
}

// same is n copies of one input, for a batch.
func same[T any](in *T, n int) []*T {
	s := make([]*T, n)
	for i := range s {
		s[i] = in
	}
	return s
}

// firstErr is the first item error of a batch, whose results it then
// releases, as a caller that has done with them would.
func firstErr[T any](res []client.BatchResult[T], err error) error {
	if err != nil {
		return err
	}
	defer client.Release(res)
	for i, r := range res {
		if r.Err != nil {
			return fmt.Errorf("item %d: %w", i, r.Err)
		}
	}
	return nil
}

func encryptOp(size int) func(*client.Client, string) (calls, error) {
	return func(_ *client.Client, key string) (calls, error) {
		in := &api.EncryptInput{KeyId: key, Plaintext: make([]byte, size), EncryptionContext: map[string]string{"app": "bench"}}
		items := same(in, 4096)
		return calls{
			one: func(c *client.Client) error { _, err := c.Encrypt(ctx, in); return err },
			batch: func(c *client.Client, n int) error {
				return firstErr(c.EncryptBatch(ctx, items[:n]))
			},
		}, nil
	}
}

func decryptOp(c *client.Client, key string) (calls, error) {
	ec := map[string]string{"app": "bench"}
	enc, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: key, Plaintext: make([]byte, 32), EncryptionContext: ec})
	if err != nil {
		return calls{}, err
	}
	in := &api.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec}
	items := same(in, 4096)
	return calls{
		one:   func(c *client.Client) error { _, err := c.Decrypt(ctx, in); return err },
		batch: func(c *client.Client, n int) error { return firstErr(c.DecryptBatch(ctx, items[:n])) },
	}, nil
}

func dataKeyOp(_ *client.Client, key string) (calls, error) {
	in := &api.GenerateDataKeyInput{KeyId: key, KeySpec: "AES_256"}
	items := same(in, 4096)
	return calls{
		one:   func(c *client.Client) error { _, err := c.GenerateDataKey(ctx, in); return err },
		batch: func(c *client.Client, n int) error { return firstErr(c.GenerateDataKeyBatch(ctx, items[:n])) },
	}, nil
}

func reEncryptOp(c *client.Client, key string) (calls, error) {
	dst, err := c.CreateKey(ctx, &api.CreateKeyInput{Description: "bench destination"})
	if err != nil {
		return calls{}, err
	}
	enc, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: key, Plaintext: make([]byte, 32)})
	if err != nil {
		return calls{}, err
	}
	in := &api.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: dst.KeyMetadata.KeyId}
	items := same(in, 4096)
	return calls{
		one:   func(c *client.Client) error { _, err := c.ReEncrypt(ctx, in); return err },
		batch: func(c *client.Client, n int) error { return firstErr(c.ReEncryptBatch(ctx, items[:n])) },
	}, nil
}
