package keyspec

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// keys caches one parsed key per spec: RSA-4096 takes a while to make.
var keys = map[string]*Private{}

func keyOf(t testing.TB, name string) *Private {
	t.Helper()
	if p := keys[name]; p != nil {
		return p
	}
	spec := Lookup(name)
	if spec == nil {
		t.Fatalf("no spec %s", name)
	}
	b, err := Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(spec, b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	keys[name] = p
	return p
}

func TestSignVerifyEveryAlgorithm(t *testing.T) {
	msg := []byte("the message kmsd signs")
	for _, name := range Names() {
		spec := Lookup(name)
		for _, alg := range spec.Algorithms(UsageSignVerify) {
			p := keyOf(t, name)
			types := []string{MessageRaw, ""}
			if alg != "ML_DSA_SHAKE_256" {
				types = append(types, MessageDigest)
			}
			for _, mt := range types {
				m := msg
				if mt == MessageDigest {
					sg := parseSigning(alg)
					h := sg.hash.New()
					h.Write(msg)
					m = h.Sum(nil)
				}
				sig, err := p.Sign(alg, mt, m)
				if err != nil {
					t.Fatalf("%s %s %s: %v", name, alg, mt, err)
				}
				if err := p.Verify(alg, mt, m, sig); err != nil {
					t.Fatalf("%s %s %s: own signature: %v", name, alg, mt, err)
				}
				bad := bytes.Clone(sig)
				bad[len(bad)/2] ^= 1
				if err := p.Verify(alg, mt, m, bad); !errors.Is(err, ErrSignature) {
					t.Fatalf("%s %s %s: flipped bit: %v", name, alg, mt, err)
				}
				if err := p.Verify(alg, mt, append(bytes.Clone(m[:len(m)-1]), m[len(m)-1]^1), sig); !errors.Is(err, ErrSignature) && !errors.Is(err, ErrInput) {
					t.Fatalf("%s %s %s: other message: %v", name, alg, mt, err)
				}
			}
			// RAW and DIGEST sign the same thing for the hashing algorithms.
			if alg != "ML_DSA_SHAKE_256" {
				sig, _ := p.Sign(alg, MessageRaw, msg)
				sg := parseSigning(alg)
				h := sg.hash.New()
				h.Write(msg)
				if err := p.Verify(alg, MessageDigest, h.Sum(nil), sig); err != nil {
					t.Fatalf("%s %s: RAW signature as DIGEST: %v", name, alg, err)
				}
			}
		}
	}
}

// The standard library verifies what kmsd signs, from the public key
// alone: DER ECDSA, PSS with the digest's salt length.
func TestPublicKeyVerifiesOutside(t *testing.T) {
	msg := []byte("hello")
	d := sha256.Sum256(msg)
	p := keyOf(t, "ECC_NIST_P256")
	sig, err := p.Sign("ECDSA_SHA_256", MessageRaw, msg)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(p.PublicKeyDER())
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatal("crypto/ecdsa does not verify kmsd's ECDSA signature")
	}
}

func TestWrongUse(t *testing.T) {
	p := keyOf(t, "ECC_NIST_P256")
	cases := []struct {
		alg, mt string
		msg     []byte
		want    error
	}{
		{"RSASSA_PSS_SHA_256", MessageRaw, []byte("m"), ErrAlgorithm},
		{"ECDSA_SHA_384", MessageRaw, []byte("m"), ErrAlgorithm},
		{"ECDSA_SHA_256", MessageDigest, make([]byte, 31), ErrInput},
		{"ECDSA_SHA_256", MessageRaw, nil, ErrInput},
		{"ECDSA_SHA_256", MessageRaw, make([]byte, MaxMessage+1), ErrInput},
		{"ECDSA_SHA_256", "HASHED", []byte("m"), ErrInput},
		{"ECDSA_SHA_256", MessageExternalMu, make([]byte, 64), ErrInput},
	}
	for _, c := range cases {
		if _, err := p.Sign(c.alg, c.mt, c.msg); !errors.Is(err, c.want) {
			t.Errorf("Sign(%s, %s, %d bytes) = %v, want %v", c.alg, c.mt, len(c.msg), err, c.want)
		}
	}
	if _, err := p.MAC("HMAC_SHA_256", []byte("m")); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("MAC with an ECC key: %v", err)
	}
	if _, err := p.Encrypt("RSAES_OAEP_SHA_256", []byte("m")); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("Encrypt with an ECC key: %v", err)
	}
	ml := keyOf(t, "ML_DSA_44")
	if _, err := ml.Sign("ML_DSA_SHAKE_256", MessageDigest, make([]byte, 32)); !errors.Is(err, ErrInput) {
		t.Errorf("ML-DSA DIGEST: %v", err)
	}
}

// RFC 4231's HMAC-SHA-2 test vectors (cases 1 and 3).
func TestHMACVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/rfc4231.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []map[string]any
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		key, _ := hex.DecodeString(c["key"].(string))
		data, _ := hex.DecodeString(c["data"].(string))
		for _, name := range []string{"HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"} {
			spec := Lookup(name)
			alg := spec.Algorithms(UsageMAC)[0]
			p := &Private{spec: spec, mac: key} // RFC 4231's keys are shorter than AWS imports
			got, err := p.MAC(alg, data)
			if err != nil {
				t.Fatal(err)
			}
			if want := c[alg].(string); hex.EncodeToString(got) != want {
				t.Errorf("case %v %s = %x, want %s", c["case"], alg, got, want)
			}
			if err := p.VerifyMAC(alg, data, got); err != nil {
				t.Errorf("case %v %s: VerifyMAC: %v", c["case"], alg, err)
			}
			got[0] ^= 1
			if err := p.VerifyMAC(alg, data, got); !errors.Is(err, ErrMAC) {
				t.Errorf("case %v %s: altered MAC: %v", c["case"], alg, err)
			}
			if err := p.VerifyMAC(alg, data, got[:len(got)-1]); !errors.Is(err, ErrMAC) {
				t.Errorf("case %v %s: short MAC: %v", c["case"], alg, err)
			}
		}
	}
}

func TestHMACKeyLengths(t *testing.T) {
	for _, c := range []struct {
		spec string
		n    int
		ok   bool
	}{{"HMAC_224", 27, false}, {"HMAC_224", 28, true}, {"HMAC_224", 64, true}, {"HMAC_224", 65, false},
		{"HMAC_512", 63, false}, {"HMAC_512", 128, true}, {"HMAC_512", 129, false}} {
		_, err := Parse(Lookup(c.spec), make([]byte, c.n))
		if (err == nil) != c.ok {
			t.Errorf("%s with %d bytes: %v", c.spec, c.n, err)
		}
	}
}

func TestECDHMatchesPeer(t *testing.T) {
	for _, c := range []struct {
		spec  string
		curve ecdh.Curve
	}{{"ECC_NIST_P256", ecdh.P256()}, {"ECC_NIST_P384", ecdh.P384()}, {"ECC_NIST_P521", ecdh.P521()}} {
		p := keyOf(t, c.spec)
		peer, err := c.curve.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		peerDER, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.DeriveShared(ECDH, peerDER)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := x509.ParsePKIXPublicKey(p.PublicKeyDER())
		ours, _ := pub.(*ecdsa.PublicKey).ECDH()
		want, _ := peer.ECDH(ours)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: shared secrets differ", c.spec)
		}
		if _, err := p.DeriveShared(ECDH, peerDER[:len(peerDER)-1]); !errors.Is(err, ErrInput) {
			t.Errorf("%s: truncated peer key: %v", c.spec, err)
		}
	}
	other, _ := ecdh.P384().GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(other.PublicKey())
	if _, err := keyOf(t, "ECC_NIST_P256").DeriveShared(ECDH, der); !errors.Is(err, ErrInput) {
		t.Errorf("a P-384 peer for a P-256 key: %v", err)
	}
}

func TestOAEP(t *testing.T) {
	p := keyOf(t, "RSA_2048")
	for alg, max := range map[string]int{"RSAES_OAEP_SHA_1": 214, "RSAES_OAEP_SHA_256": 190} {
		if n, _ := p.MaxPlaintext(alg); n != max {
			t.Errorf("%s: max plaintext %d, want %d (AWS's)", alg, n, max)
		}
		pt := bytes.Repeat([]byte{7}, max)
		ct, err := p.Encrypt(alg, pt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Decrypt(alg, ct)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%s: round trip: %v", alg, err)
		}
		if _, err := p.Encrypt(alg, append(pt, 0)); !errors.Is(err, ErrInput) {
			t.Errorf("%s: one byte too many: %v", alg, err)
		}
		ct[10] ^= 1
		if _, err := p.Decrypt(alg, ct); !errors.Is(err, ErrCiphertext) {
			t.Errorf("%s: damaged: %v", alg, err)
		}
	}
	ct, _ := p.Encrypt("RSAES_OAEP_SHA_1", []byte("x"))
	if _, err := p.Decrypt("RSAES_OAEP_SHA_256", ct); !errors.Is(err, ErrCiphertext) {
		t.Errorf("SHA-1 ciphertext opened as SHA-256: %v", err)
	}
}

func TestParseRefusesOtherKeys(t *testing.T) {
	p256, _ := Generate(Lookup("ECC_NIST_P256"))
	k1, _ := Generate(Lookup("ECC_SECG_P256K1"))
	rsa2048, _ := Generate(Lookup("RSA_2048"))
	ml44, _ := Generate(Lookup("ML_DSA_44"))
	for _, c := range []struct {
		spec string
		b    []byte
	}{{"ECC_NIST_P384", p256}, {"ECC_SECG_P256K1", p256}, {"ECC_NIST_P256", k1}, {"RSA_3072", rsa2048},
		{"ECC_NIST_P256", rsa2048}, {"ML_DSA_65", ml44}, {"ML_DSA_44", p256}, {"RSA_2048", rsa2048[:len(rsa2048)-1]},
		{"ECC_SECG_P256K1", append(bytes.Clone(k1), 0)}} {
		if _, err := Parse(Lookup(c.spec), c.b); !errors.Is(err, ErrMaterial) {
			t.Errorf("%s from other material: %v", c.spec, err)
		}
	}
}

func TestWipe(t *testing.T) {
	spec := Lookup("RSA_2048")
	b, _ := Generate(spec)
	p, _ := Parse(spec, b)
	d, q := p.rsa.D, p.rsa.Primes[0]
	p.Wipe()
	if d.Sign() != 0 || q.Sign() != 0 {
		t.Fatal("the private exponent or a prime survived Wipe")
	}
	k1spec := Lookup("ECC_SECG_P256K1")
	b, _ = Generate(k1spec)
	p, _ = Parse(k1spec, b)
	k1 := p.k1
	p.Wipe()
	if !k1.Key.IsZero() {
		t.Fatal("the secp256k1 scalar survived Wipe")
	}
	h := &Private{spec: Lookup("HMAC_256"), mac: bytes.Repeat([]byte{9}, 32)}
	k := h.mac
	h.Wipe()
	if !bytes.Equal(k, make([]byte, 32)) {
		t.Fatal("the HMAC key survived Wipe")
	}
}

func TestGeneratePair(t *testing.T) {
	for _, name := range []string{"ECC_NIST_P256", "ECC_SECG_P256K1", "RSA_2048"} {
		priv, pub, err := GeneratePair(Lookup(name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(Lookup(name), priv)
		if err != nil || !bytes.Equal(p.PublicKeyDER(), pub) {
			t.Fatalf("%s: the pair does not match: %v", name, err)
		}
	}
	if _, _, err := GeneratePair(Lookup("HMAC_256")); !errors.Is(err, ErrSpec) {
		t.Errorf("an HMAC pair: %v", err)
	}
}

// TestMLDSAVerifiesOutside: circl's FIPS 204 verifier, given only the
// SubjectPublicKeyInfo (RFC 9881's OID and bit string), accepts kmsd's
// ML-DSA signatures of every parameter set, of FIPS 204's sizes.
func TestMLDSAVerifiesOutside(t *testing.T) {
	for _, c := range []struct {
		spec    string
		oid     string
		sigSize int
		verify  func(pub, msg, sig []byte) bool
	}{
		{"ML_DSA_44", "2.16.840.1.101.3.4.3.17", 2420, func(pub, msg, sig []byte) bool {
			var pk mldsa44.PublicKey
			return pk.UnmarshalBinary(pub) == nil && mldsa44.Verify(&pk, msg, nil, sig)
		}},
		{"ML_DSA_65", "2.16.840.1.101.3.4.3.18", 3309, func(pub, msg, sig []byte) bool {
			var pk mldsa65.PublicKey
			return pk.UnmarshalBinary(pub) == nil && mldsa65.Verify(&pk, msg, nil, sig)
		}},
		{"ML_DSA_87", "2.16.840.1.101.3.4.3.19", 4627, func(pub, msg, sig []byte) bool {
			var pk mldsa87.PublicKey
			return pk.UnmarshalBinary(pub) == nil && mldsa87.Verify(&pk, msg, nil, sig)
		}},
	} {
		p := keyOf(t, c.spec)
		var info struct {
			Algorithm struct{ Algorithm asn1.ObjectIdentifier }
			PublicKey asn1.BitString
		}
		if rest, err := asn1.Unmarshal(p.PublicKeyDER(), &info); err != nil || len(rest) > 0 || info.Algorithm.Algorithm.String() != c.oid {
			t.Fatalf("%s: SubjectPublicKeyInfo %v %v", c.spec, info.Algorithm.Algorithm, err)
		}
		msg := []byte("FIPS 204")
		sig, err := p.Sign("ML_DSA_SHAKE_256", MessageRaw, msg)
		if err != nil || len(sig) != c.sigSize {
			t.Fatalf("%s: %d-byte signature, %v", c.spec, len(sig), err)
		}
		if !c.verify(info.PublicKey.Bytes, msg, sig) {
			t.Errorf("%s: circl does not verify kmsd's signature", c.spec)
		}
		if c.verify(info.PublicKey.Bytes, []byte("FIPS 205"), sig) {
			t.Errorf("%s: circl verifies it for another message", c.spec)
		}
	}
}

// TestSecp256k1VerifiesOutside: decred's verifier, given the public key
// parsed from the SubjectPublicKeyInfo, accepts kmsd's low-S signatures.
func TestSecp256k1VerifiesOutside(t *testing.T) {
	p := keyOf(t, "ECC_SECG_P256K1")
	pub, err := parseK1Public(p.PublicKeyDER())
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("secp256k1")
	sig, err := p.Sign("ECDSA_SHA_256", MessageRaw, msg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := k1ecdsa.ParseDERSignature(sig)
	d := sha256.Sum256(msg)
	if err != nil || !s.Verify(d[:], pub) {
		t.Fatalf("decred does not verify kmsd's signature: %v", err)
	}
}
