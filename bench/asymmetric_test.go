package bench

import (
	"runtime"
	"testing"

	"kmsd/bench/measure"
	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
	"kmsd/wire/client"
)

// asymOp is one operation of the asymmetric and HMAC keys: what kmsd is
// asked (one, or a batch of n) and the same work done in this process.
type asymOp struct {
	name        string // "op=Sign/alg=ECDSA_SHA_256"
	spec, usage string
	// one and batch call kmsd; raw prepares the operation with the key's
	// material in process (package keyspec, as kmsd does it) and returns
	// one call of it.
	one   func(c *client.Client, key string) error
	batch func(c *client.Client, key string, n int) error
	raw   func(k *keyspec.Private) (func() error, error)
}

var asymMsg = []byte("a JWT's header.payload, or a request to MAC: 64 bytes of message..")

func signOp(alg string) (func(*client.Client, string) error, func(*client.Client, string, int) error, func(*keyspec.Private) (func() error, error)) {
	in := func(key string) *api.SignInput {
		return &api.SignInput{KeyId: key, Message: asymMsg, SigningAlgorithm: alg}
	}
	return func(c *client.Client, key string) error { _, err := c.Sign(ctx, in(key)); return err },
		func(c *client.Client, key string, n int) error { return firstErr(c.SignBatch(ctx, same(in(key), n))) },
		func(k *keyspec.Private) (func() error, error) {
			return func() error { _, err := k.Sign(alg, keyspec.MessageRaw, asymMsg); return err }, nil
		}
}

var asymOps = func() []asymOp {
	var out []asymOp
	for _, s := range []struct{ name, spec, alg string }{
		{"op=Sign/alg=ECDSA_SHA_256", "ECC_NIST_P256", "ECDSA_SHA_256"},
		{"op=Sign/alg=RSASSA_PSS_SHA_256", "RSA_2048", "RSASSA_PSS_SHA_256"},
	} {
		one, batch, raw := signOp(s.alg)
		out = append(out, asymOp{name: s.name, spec: s.spec, usage: api.KeyUsageSignVerify, one: one, batch: batch, raw: raw})
	}
	// Verify of one signature made at the start.
	var sig []byte
	verifyIn := func(key string) *api.VerifyInput {
		return &api.VerifyInput{KeyId: key, Message: asymMsg, Signature: sig, SigningAlgorithm: "ECDSA_SHA_256"}
	}
	out = append(out, asymOp{name: "op=Verify/alg=ECDSA_SHA_256", spec: "ECC_NIST_P256", usage: api.KeyUsageSignVerify,
		one: func(c *client.Client, key string) error {
			if sig == nil {
				s, err := c.Sign(ctx, &api.SignInput{KeyId: key, Message: asymMsg, SigningAlgorithm: "ECDSA_SHA_256"})
				if err != nil {
					return err
				}
				sig = s.Signature
			}
			_, err := c.Verify(ctx, verifyIn(key))
			return err
		},
		batch: func(c *client.Client, key string, n int) error {
			return firstErr(c.VerifyBatch(ctx, same(verifyIn(key), n)))
		},
		raw: func(k *keyspec.Private) (func() error, error) {
			s, err := k.Sign("ECDSA_SHA_256", keyspec.MessageRaw, asymMsg)
			return func() error { return k.Verify("ECDSA_SHA_256", keyspec.MessageRaw, asymMsg, s) }, err
		}})
	macIn := func(key string) *api.GenerateMacInput {
		return &api.GenerateMacInput{KeyId: key, Message: asymMsg, MacAlgorithm: "HMAC_SHA_256"}
	}
	out = append(out, asymOp{name: "op=GenerateMac/alg=HMAC_SHA_256", spec: "HMAC_256", usage: api.KeyUsageMAC,
		one: func(c *client.Client, key string) error { _, err := c.GenerateMac(ctx, macIn(key)); return err },
		batch: func(c *client.Client, key string, n int) error {
			return firstErr(c.GenerateMacBatch(ctx, same(macIn(key), n)))
		},
		raw: func(k *keyspec.Private) (func() error, error) {
			return func() error { _, err := k.MAC("HMAC_SHA_256", asymMsg); return err }, nil
		}})
	return out
}()

// BenchmarkAsymmetric is Sign (ECDSA P-256, RSA-2048 PSS), Verify (ECDSA
// P-256) and GenerateMac (HMAC-SHA256) against the real kmsd, one caller
// and batches of 256, beside the same operation in this process on every
// core (mode=raw: package keyspec with the key's material, the limit kmsd
// cannot pass). Audit and authorization at their defaults.
func BenchmarkAsymmetric(b *testing.B) {
	cores := runtime.GOMAXPROCS(0)
	for _, o := range asymOps {
		b.Run(o.name, func(b *testing.B) {
			spec := keyspec.Lookup(o.spec)
			raw, err := keyspec.Generate(spec)
			if err != nil {
				b.Fatal(err)
			}
			k, err := keyspec.Parse(spec, raw)
			if err != nil {
				b.Fatal(err)
			}
			defer k.Wipe()
			call, err := o.raw(k)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("mode=raw", func(b *testing.B) {
				measure.Run(b, measure.Spec{Callers: cores, Bytes: len(asymMsg), NoLatency: true}, func(int) error { return call() })
			})
			d := startKMSD(b)
			ck, err := d.c.CreateKey(ctx, &api.CreateKeyInput{KeySpec: o.spec, KeyUsage: o.usage})
			if err != nil {
				b.Fatal(err)
			}
			key := ck.KeyMetadata.KeyId
			s := func(callers, items int) measure.Spec {
				return measure.Spec{Callers: callers, Items: items, Bytes: len(asymMsg), PID: d.pid, ServerAllocs: d.heapAllocs}
			}
			b.Run("mode=sync", func(b *testing.B) {
				measure.Run(b, s(1, 1), func(int) error { return o.one(d.c, key) })
			})
			b.Run("mode=batch=256", func(b *testing.B) {
				measure.Run(b, s(1, 256), func(int) error { return o.batch(d.c, key, 256) })
			})
		})
	}
}
