package keyspec

import (
	"errors"
	"testing"
)

// FuzzParse feeds material of every spec: anything that is not a key of
// the spec is ErrMaterial, never a panic.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"ECC_NIST_P256", "ECC_SECG_P256K1", "ML_DSA_44", "HMAC_256"} {
		b, _ := Generate(Lookup(name))
		f.Add(name, b)
	}
	f.Add("RSA_2048", []byte{0x30, 0x82, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		spec := Lookup(name)
		if spec == nil {
			return
		}
		p, err := Parse(spec, b)
		if err != nil {
			if !errors.Is(err, ErrMaterial) {
				t.Fatalf("%s: %v is not ErrMaterial", name, err)
			}
			return
		}
		p.Wipe()
	})
}

// FuzzVerify feeds signatures and peer keys: a bad one is an error, never
// a panic.
func FuzzVerify(f *testing.F) {
	p := keyOf(f, "ECC_NIST_P256")
	k := keyOf(f, "ECC_SECG_P256K1")
	sig, _ := p.Sign("ECDSA_SHA_256", MessageRaw, []byte("m"))
	ksig, _ := k.Sign("ECDSA_SHA_256", MessageRaw, []byte("m"))
	f.Add([]byte("m"), sig, p.PublicKeyDER())
	f.Add([]byte("m"), ksig, k.PublicKeyDER())
	f.Add([]byte("m"), sig[:len(sig)-1], []byte{0x30, 0})
	r := keyOf(f, "RSA_2048")
	m := keyOf(f, "ML_DSA_44")
	f.Fuzz(func(t *testing.T, msg, sig, peer []byte) {
		for _, v := range []struct {
			key *Private
			alg string
		}{{p, "ECDSA_SHA_256"}, {k, "ECDSA_SHA_256"}, {r, "RSASSA_PSS_SHA_256"}, {r, "RSASSA_PKCS1_V1_5_SHA_256"}, {m, "ML_DSA_SHAKE_256"}} {
			if err := v.key.Verify(v.alg, MessageRaw, msg, sig); err != nil && !errors.Is(err, ErrSignature) && !errors.Is(err, ErrInput) {
				t.Fatal(err)
			}
		}
		if _, err := r.Decrypt("RSAES_OAEP_SHA_256", sig); err != nil && !errors.Is(err, ErrCiphertext) {
			t.Fatal(err)
		}
		if _, err := p.DeriveShared(ECDH, peer); err != nil && !errors.Is(err, ErrInput) {
			t.Fatal(err)
		}
	})
}
