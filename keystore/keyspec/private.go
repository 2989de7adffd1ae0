package keyspec

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"math/big"
	"sync"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// MaxMaterial bounds a key's material as stored or imported: an RSA-4096
// PKCS#8 key is about 2,400 bytes.
const MaxMaterial = 4096

// Private is one key's material, parsed and ready. It is safe for
// concurrent use until Wipe.
type Private struct {
	spec   *Spec
	rsa    *rsa.PrivateKey
	ec     *ecdsa.PrivateKey
	ecdh   *ecdh.PrivateKey // the same key as ec, for ECDH
	k1     *secp256k1.PrivateKey
	ml     mldsaKey
	mac    []byte
	macs   sync.Pool // of keyed HMACs (mac.go)
	pubDER []byte
}

// Spec returns the key's spec.
func (p *Private) Spec() *Spec { return p.spec }

// Generate makes new material of the spec from crypto/rand, in the form
// Parse reads. The caller zeroes it once it is sealed.
func Generate(spec *Spec) ([]byte, error) {
	switch spec.family {
	case familyRSA:
		k, err := rsa.GenerateKey(rand.Reader, spec.bits)
		if err != nil {
			return nil, err
		}
		defer wipeRSA(k)
		return x509.MarshalPKCS8PrivateKey(k)
	case familyNIST:
		k, err := ecdsa.GenerateKey(curveOf(spec), rand.Reader)
		if err != nil {
			return nil, err
		}
		return x509.MarshalPKCS8PrivateKey(k) // its scalar is crypto/ecdsa's to keep (see Wipe)
	case familyK1:
		k, err := secp256k1.GeneratePrivateKeyFromRand(rand.Reader)
		if err != nil {
			return nil, err
		}
		defer k.Zero()
		return marshalK1(k)
	case familyHMAC:
		b := make([]byte, spec.bits/8)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		return b, nil
	case familyMLDSA:
		var seed [32]byte
		defer clear(seed[:])
		if _, err := rand.Read(seed[:]); err != nil {
			return nil, err
		}
		return marshalMLDSA(spec, seed[:])
	}
	return nil, fmt.Errorf("%w: %s cannot be generated", ErrSpec, spec.Name)
}

// Parse reads material of the spec, as Generate writes it or as it is
// imported: anything else, or a key of another size or curve, is
// ErrMaterial. b is not retained; the caller zeroes it.
func Parse(spec *Spec, b []byte) (*Private, error) {
	if len(b) == 0 || len(b) > MaxMaterial {
		return nil, fmt.Errorf("%w: %d bytes", ErrMaterial, len(b))
	}
	p := &Private{spec: spec}
	var err error
	switch spec.family {
	case familyRSA, familyNIST:
		err = p.parsePKCS8(b)
	case familyK1:
		p.k1, err = parseK1(b)
		if err == nil {
			p.pubDER, err = marshalK1Public(p.k1.PubKey())
		}
	case familyHMAC:
		// AWS takes imported HMAC keys from the digest's size up to its
		// block size (64 bytes for SHA-224/256, 128 for SHA-384/512).
		maxLen := 64
		if spec.bits > 256 {
			maxLen = 128
		}
		if len(b) < spec.bits/8 || len(b) > maxLen {
			return nil, fmt.Errorf("%w: an %s key is %d to %d bytes, not %d", ErrMaterial, spec.Name, spec.bits/8, maxLen, len(b))
		}
		p.mac = append([]byte(nil), b...)
	case familyMLDSA:
		err = p.parseMLDSA(b)
	default:
		err = fmt.Errorf("%w: %s", ErrSpec, spec.Name)
	}
	if err != nil {
		p.Wipe()
		return nil, err
	}
	return p, nil
}

func (p *Private) parsePKCS8(b []byte) error {
	k, err := x509.ParsePKCS8PrivateKey(b)
	if err != nil {
		return fmt.Errorf("%w: not PKCS#8 DER: %v", ErrMaterial, err)
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if p.spec.family != familyRSA || k.N.BitLen() != p.spec.bits {
			wipeRSA(k)
			return fmt.Errorf("%w: an RSA key of %d bits is not %s", ErrMaterial, k.N.BitLen(), p.spec.Name)
		}
		if k.E != 65537 {
			wipeRSA(k)
			return fmt.Errorf("%w: the RSA public exponent must be 65537", ErrMaterial)
		}
		p.rsa = k
	case *ecdsa.PrivateKey:
		if p.spec.family != familyNIST || k.Curve != curveOf(p.spec) {
			return fmt.Errorf("%w: a key on %s is not %s", ErrMaterial, k.Curve.Params().Name, p.spec.Name)
		}
		p.ec = k
		if p.ecdh, err = k.ECDH(); err != nil {
			return fmt.Errorf("%w: %v", ErrMaterial, err)
		}
	default:
		return fmt.Errorf("%w: a %T is not %s", ErrMaterial, k, p.spec.Name)
	}
	p.pubDER, err = x509.MarshalPKIXPublicKey(p.publicKey())
	return err
}

func (p *Private) publicKey() any {
	if p.rsa != nil {
		return &p.rsa.PublicKey
	}
	return &p.ec.PublicKey
}

func curveOf(s *Spec) elliptic.Curve {
	switch s.bits {
	case 256:
		return elliptic.P256()
	case 384:
		return elliptic.P384()
	}
	return elliptic.P521()
}

// PublicKeyDER returns the public key as DER SubjectPublicKeyInfo (RFC
// 5280), GetPublicKey's form; nil for an HMAC key, which has none.
func (p *Private) PublicKeyDER() []byte { return append([]byte(nil), p.pubDER...) }

// Wipe zeroes what of the key this package can reach. As for symmetric
// material it is best effort: copies inside crypto/rsa's precomputed
// state, a NIST-curve key's scalar (crypto/ecdsa and crypto/ecdh keep it
// in their own internal keys, and its exported D is deprecated since Go
// 1.26), and the keyed pads of pooled HMACs cannot be reached, and stay until the garbage collector reuses their memory. p
// must not be used afterwards.
func (p *Private) Wipe() {
	if p.rsa != nil {
		wipeRSA(p.rsa)
	}
	if p.k1 != nil {
		p.k1.Zero()
	}
	if p.ml != nil {
		p.ml.wipe()
	}
	clear(p.mac)
	spec := p.spec
	*p = Private{spec: spec} // the pooled HMACs go with the pool
}

func wipeRSA(k *rsa.PrivateKey) {
	wipeInt(k.D)
	for _, q := range k.Primes {
		wipeInt(q)
	}
	wipeInt(k.Precomputed.Dp)
	wipeInt(k.Precomputed.Dq)
	wipeInt(k.Precomputed.Qinv)
}

// wipeInt zeroes an integer's words in place.
func wipeInt(x *big.Int) {
	if x != nil {
		clear(x.Bits())
		x.SetInt64(0)
	}
}
