package keyspec

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
)

// MaxPublicKey bounds the peer's public key DeriveSharedSecret takes.
const MaxPublicKey = 8192

// DeriveShared computes ECDH with a peer's public key (DER
// SubjectPublicKeyInfo on the key's curve) and returns the raw shared
// secret, the x coordinate of the shared point, as AWS does (and as
// `openssl pkeyutl -derive` does): the caller runs a KDF over it.
func (p *Private) DeriveShared(alg string, peerDER []byte) ([]byte, error) {
	if !p.spec.hasAlgorithm(UsageKeyAgreement, alg) {
		return nil, fmt.Errorf("%w: KeyAgreementAlgorithm must be %s", ErrAlgorithm, ECDH)
	}
	if p.ecdh == nil {
		return nil, fmt.Errorf("%w: %s keys do not agree keys", ErrAlgorithm, p.spec.Name)
	}
	if len(peerDER) == 0 || len(peerDER) > MaxPublicKey {
		return nil, fmt.Errorf("%w: PublicKey must be 1 to %d bytes", ErrInput, MaxPublicKey)
	}
	pub, err := x509.ParsePKIXPublicKey(peerDER)
	if err != nil {
		return nil, fmt.Errorf("%w: PublicKey is not a DER SubjectPublicKeyInfo: %v", ErrInput, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != p.ec.Curve {
		return nil, fmt.Errorf("%w: PublicKey must be a key on the curve of %s", ErrInput, p.spec.Name)
	}
	peer, err := ec.ECDH()
	if err != nil {
		return nil, fmt.Errorf("%w: PublicKey: %v", ErrInput, err)
	}
	return p.ecdh.ECDH(peer)
}
