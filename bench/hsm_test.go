package bench

import (
	"testing"

	"kmsd/bench/measure"
	"kmsd/internal/softhsm"
	"kmsd/wire/api"
)

// BenchmarkHSM is Encrypt of 32 bytes under a key kept in a custom key
// store (SoftHSM2, AES-256-GCM in the token) beside the same under one of
// kmsd's own keys, on the same daemon: one synchronous caller, and batches
// of 256.
func BenchmarkHSM(b *testing.B) {
	h := softhsm.Require(b)
	d := startKMSD(b)
	cs, err := d.c.CreateCustomKeyStore(ctx, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: "bench",
		Pkcs11Module: h.Module, TokenLabel: h.Label, KeyStorePasswordFile: h.PINFile})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.c.ConnectCustomKeyStore(ctx, &api.CustomKeyStoreIDInput{CustomKeyStoreId: cs.CustomKeyStoreId}); err != nil {
		b.Fatal(err)
	}
	k, err := d.c.CreateKey(ctx, &api.CreateKeyInput{CustomKeyStoreId: cs.CustomKeyStoreId})
	if err != nil {
		b.Fatal(err)
	}
	for _, key := range []struct{ name, id string }{{"key=token", k.KeyMetadata.KeyId}, {"key=kmsd", d.key}} {
		c, err := encryptOp(32)(d.c, key.id)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(key.name+"/op=Encrypt/size=32/mode=sync", func(b *testing.B) {
			measure.Run(b, measure.Spec{Callers: 1, Items: 1, Bytes: 32, PID: d.pid}, func(int) error { return c.one(d.c) })
		})
		b.Run(key.name+"/op=Encrypt/size=32/mode=batch=256", func(b *testing.B) {
			measure.Run(b, measure.Spec{Callers: 1, Items: 256, Bytes: 32, PID: d.pid}, func(int) error { return c.batch(d.c, 256) })
		})
	}
}
