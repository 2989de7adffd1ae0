package keyspec

import (
	"fmt"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// mldsaKey is an ML-DSA key of one parameter set (circl's packages have
// one type each).
type mldsaKey interface {
	sign(msg []byte) ([]byte, error)
	verify(msg, sig []byte) bool
	wipe()
}

type mldsa44Key struct {
	sk *mldsa44.PrivateKey
	pk *mldsa44.PublicKey
}

// sign is hedged ML-DSA (FIPS 204 section 3.4): circl mixes in bytes
// from crypto/rand.
func (k *mldsa44Key) sign(msg []byte) ([]byte, error) {
	sig := make([]byte, mldsa44.SignatureSize)
	return sig, mldsa44.SignTo(k.sk, msg, nil, true, sig)
}
func (k *mldsa44Key) verify(msg, sig []byte) bool { return mldsa44.Verify(k.pk, msg, nil, sig) }
func (k *mldsa44Key) wipe()                       { *k.sk = mldsa44.PrivateKey{} }

type mldsa65Key struct {
	sk *mldsa65.PrivateKey
	pk *mldsa65.PublicKey
}

func (k *mldsa65Key) sign(msg []byte) ([]byte, error) {
	sig := make([]byte, mldsa65.SignatureSize)
	return sig, mldsa65.SignTo(k.sk, msg, nil, true, sig)
}
func (k *mldsa65Key) verify(msg, sig []byte) bool { return mldsa65.Verify(k.pk, msg, nil, sig) }
func (k *mldsa65Key) wipe()                       { *k.sk = mldsa65.PrivateKey{} }

type mldsa87Key struct {
	sk *mldsa87.PrivateKey
	pk *mldsa87.PublicKey
}

func (k *mldsa87Key) sign(msg []byte) ([]byte, error) {
	sig := make([]byte, mldsa87.SignatureSize)
	return sig, mldsa87.SignTo(k.sk, msg, nil, true, sig)
}
func (k *mldsa87Key) verify(msg, sig []byte) bool { return mldsa87.Verify(k.pk, msg, nil, sig) }
func (k *mldsa87Key) wipe()                       { *k.sk = mldsa87.PrivateKey{} }

// parseMLDSA expands the seed of PKCS#8 material (FIPS 204 KeyGen_internal).
func (p *Private) parseMLDSA(b []byte) error {
	seed, err := mldsaSeed(p.spec, b)
	if err != nil {
		return err
	}
	var s [32]byte
	defer clear(s[:])
	copy(s[:], seed)
	var pub []byte
	switch p.spec.bits {
	case 44:
		pk, sk := mldsa44.NewKeyFromSeed(&s)
		p.ml, pub = &mldsa44Key{sk, pk}, pk.Bytes()
	case 65:
		pk, sk := mldsa65.NewKeyFromSeed(&s)
		p.ml, pub = &mldsa65Key{sk, pk}, pk.Bytes()
	case 87:
		pk, sk := mldsa87.NewKeyFromSeed(&s)
		p.ml, pub = &mldsa87Key{sk, pk}, pk.Bytes()
	default:
		return fmt.Errorf("%w: %s", ErrSpec, p.spec.Name)
	}
	p.pubDER, err = marshalMLDSAPublic(p.spec, pub)
	return err
}
