package keyspec

import "fmt"

// GeneratePair makes a key pair of the spec for GenerateDataKeyPair: the
// private key as PKCS#8 DER and the public key as DER
// SubjectPublicKeyInfo. The caller zeroes the private key once done.
func GeneratePair(spec *Spec) (private, public []byte, err error) {
	if !spec.IsPair() {
		return nil, nil, fmt.Errorf("%w: KeyPairSpec %s is not a key pair kmsd makes", ErrSpec, spec.Name)
	}
	private, err = Generate(spec)
	if err != nil {
		return nil, nil, err
	}
	p, err := Parse(spec, private)
	if err != nil {
		clear(private)
		return nil, nil, err
	}
	defer p.Wipe()
	return private, p.PublicKeyDER(), nil
}
