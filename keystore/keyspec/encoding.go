package keyspec

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// The DER forms the standard library does not write: secp256k1 keys
// (RFC 5915 inside PKCS#8, SEC 1 points; OpenSSL writes the same) and
// ML-DSA keys (RFC 9881: PKCS#8 with the seed, and the public key as the
// SubjectPublicKeyInfo's bit string).

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
	oidMLDSA       = map[int]asn1.ObjectIdentifier{
		44: {2, 16, 840, 1, 101, 3, 4, 3, 17},
		65: {2, 16, 840, 1, 101, 3, 4, 3, 18},
		87: {2, 16, 840, 1, 101, 3, 4, 3, 19},
	}
)

// pkcs8 is RFC 5208's PrivateKeyInfo.
type pkcs8 struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// ecPrivateKey is RFC 5915's ECPrivateKey.
type ecPrivateKey struct {
	Version    int
	PrivateKey []byte
	Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// spki is RFC 5280's SubjectPublicKeyInfo.
type spki struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// unmarshalStrict reads exactly one DER value into v.
func unmarshalStrict(b []byte, v any) error {
	rest, err := asn1.Unmarshal(b, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d bytes after the DER value", len(rest))
	}
	return nil
}

func k1Algorithm() pkix.AlgorithmIdentifier {
	params, _ := asn1.Marshal(oidSecp256k1)
	return pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}}
}

func marshalK1(k *secp256k1.PrivateKey) ([]byte, error) {
	scalar := k.Serialize()
	defer clear(scalar)
	pub := k.PubKey().SerializeUncompressed()
	inner, err := asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: scalar, PublicKey: asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}})
	if err != nil {
		return nil, err
	}
	defer clear(inner)
	return asn1.Marshal(pkcs8{Algorithm: k1Algorithm(), PrivateKey: inner})
}

func parseK1(b []byte) (*secp256k1.PrivateKey, error) {
	var info pkcs8
	if err := unmarshalStrict(b, &info); err != nil {
		return nil, fmt.Errorf("%w: not PKCS#8 DER: %v", ErrMaterial, err)
	}
	var curve asn1.ObjectIdentifier
	if !info.Algorithm.Algorithm.Equal(oidECPublicKey) || unmarshalStrict(info.Algorithm.Parameters.FullBytes, &curve) != nil || !curve.Equal(oidSecp256k1) {
		return nil, fmt.Errorf("%w: not a secp256k1 key", ErrMaterial)
	}
	var ec ecPrivateKey
	if err := unmarshalStrict(info.PrivateKey, &ec); err != nil || ec.Version != 1 || len(ec.PrivateKey) != 32 {
		return nil, fmt.Errorf("%w: not an RFC 5915 secp256k1 private key", ErrMaterial)
	}
	defer clear(ec.PrivateKey)
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(ec.PrivateKey); overflow || s.IsZero() {
		return nil, fmt.Errorf("%w: the secp256k1 scalar is out of range", ErrMaterial)
	}
	k := secp256k1.NewPrivateKey(&s)
	if len(ec.PublicKey.Bytes) > 0 && !bytes.Equal(ec.PublicKey.Bytes, k.PubKey().SerializeUncompressed()) &&
		!bytes.Equal(ec.PublicKey.Bytes, k.PubKey().SerializeCompressed()) {
		k.Zero()
		return nil, fmt.Errorf("%w: the public key does not match the private key", ErrMaterial)
	}
	return k, nil
}

func marshalK1Public(pub *secp256k1.PublicKey) ([]byte, error) {
	pt := pub.SerializeUncompressed()
	return asn1.Marshal(spki{Algorithm: k1Algorithm(), PublicKey: asn1.BitString{Bytes: pt, BitLength: 8 * len(pt)}})
}

// parseK1Public reads a secp256k1 SubjectPublicKeyInfo.
func parseK1Public(der []byte) (*secp256k1.PublicKey, error) {
	var info spki
	var curve asn1.ObjectIdentifier
	if err := unmarshalStrict(der, &info); err != nil || !info.Algorithm.Algorithm.Equal(oidECPublicKey) ||
		unmarshalStrict(info.Algorithm.Parameters.FullBytes, &curve) != nil || !curve.Equal(oidSecp256k1) {
		return nil, fmt.Errorf("%w: not a secp256k1 public key", ErrInput)
	}
	return secp256k1.ParsePubKey(info.PublicKey.RightAlign())
}

func marshalMLDSA(spec *Spec, seed []byte) ([]byte, error) {
	inner := append([]byte{0x80, 0x20}, seed...) // [0] IMPLICIT OCTET STRING (SIZE (32))
	defer clear(inner)
	return asn1.Marshal(pkcs8{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidMLDSA[spec.bits]}, PrivateKey: inner})
}

// mldsaSeed reads the seed of an ML-DSA PKCS#8 key of the spec.
func mldsaSeed(spec *Spec, b []byte) ([]byte, error) {
	var info pkcs8
	if err := unmarshalStrict(b, &info); err != nil {
		return nil, fmt.Errorf("%w: not PKCS#8 DER: %v", ErrMaterial, err)
	}
	if !info.Algorithm.Algorithm.Equal(oidMLDSA[spec.bits]) || len(info.Algorithm.Parameters.FullBytes) != 0 {
		return nil, fmt.Errorf("%w: not an %s key", ErrMaterial, spec.Name)
	}
	k := info.PrivateKey
	if len(k) != 34 || k[0] != 0x80 || k[1] != 0x20 {
		return nil, fmt.Errorf("%w: an %s key must be in its seed form (RFC 9881)", ErrMaterial, spec.Name)
	}
	return k[2:], nil
}

func marshalMLDSAPublic(spec *Spec, pub []byte) ([]byte, error) {
	return asn1.Marshal(spki{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidMLDSA[spec.bits]},
		PublicKey: asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}})
}
