package keyspec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"

	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// MaxMessage is the most a Sign or Verify message (RAW) may hold, as AWS.
const MaxMessage = 4096

// signing is what a signing algorithm name says.
type signing struct {
	pss, pkcs1, ecdsa, mldsa bool
	hash                     crypto.Hash
}

func hashOf(suffix string) crypto.Hash {
	switch suffix {
	case "SHA_256":
		return crypto.SHA256
	case "SHA_384":
		return crypto.SHA384
	case "SHA_512":
		return crypto.SHA512
	}
	return 0
}

func parseSigning(alg string) signing {
	switch {
	case strings.HasPrefix(alg, "RSASSA_PSS_"):
		return signing{pss: true, hash: hashOf(strings.TrimPrefix(alg, "RSASSA_PSS_"))}
	case strings.HasPrefix(alg, "RSASSA_PKCS1_V1_5_"):
		return signing{pkcs1: true, hash: hashOf(strings.TrimPrefix(alg, "RSASSA_PKCS1_V1_5_"))}
	case strings.HasPrefix(alg, "ECDSA_"):
		return signing{ecdsa: true, hash: hashOf(strings.TrimPrefix(alg, "ECDSA_"))}
	case alg == "ML_DSA_SHAKE_256":
		return signing{mldsa: true}
	}
	return signing{}
}

// digestOf is what the key signs: for RSA and ECDSA the message's digest
// (the message itself for DIGEST, which must be the digest's size), for
// ML-DSA the message (RAW only: kmsd's ML-DSA cannot take an external μ).
func (p *Private) digestOf(alg, msgType string, msg []byte) (signing, []byte, error) {
	if !p.spec.hasAlgorithm(UsageSignVerify, alg) {
		return signing{}, nil, fmt.Errorf("%w: %s keys do not sign with %q (%s)", ErrAlgorithm, p.spec.Name, alg, strings.Join(p.spec.usages[UsageSignVerify], ", "))
	}
	sg := parseSigning(alg)
	if len(msg) == 0 || len(msg) > MaxMessage {
		return sg, nil, fmt.Errorf("%w: Message must be 1 to %d bytes", ErrInput, MaxMessage)
	}
	switch {
	case msgType == "" || msgType == MessageRaw:
		if sg.mldsa {
			return sg, msg, nil
		}
		h := sg.hash.New()
		h.Write(msg)
		return sg, h.Sum(nil), nil
	case msgType == MessageDigest && !sg.mldsa:
		if len(msg) != sg.hash.Size() {
			return sg, nil, fmt.Errorf("%w: a DIGEST message for %s must be %d bytes, not %d", ErrInput, alg, sg.hash.Size(), len(msg))
		}
		return sg, msg, nil
	case msgType == MessageExternalMu && sg.mldsa:
		return sg, nil, fmt.Errorf("%w: MessageType %s is not supported by kmsd's ML-DSA (sign the RAW message)", ErrInput, msgType)
	case msgType == MessageDigest, msgType == MessageExternalMu:
		return sg, nil, fmt.Errorf("%w: MessageType %s is not valid with %s", ErrInput, msgType, alg)
	}
	return sg, nil, fmt.Errorf("%w: MessageType must be RAW, DIGEST or EXTERNAL_MU, not %q", ErrInput, msgType)
}

// pssOptions are AWS's: the salt is as long as the digest.
func pssOptions(h crypto.Hash) *rsa.PSSOptions {
	return &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
}

// Sign signs a message (msgType RAW or "") or its digest (DIGEST) with
// the signing algorithm alg.
func (p *Private) Sign(alg, msgType string, msg []byte) ([]byte, error) {
	sg, d, err := p.digestOf(alg, msgType, msg)
	if err != nil {
		return nil, err
	}
	switch {
	case sg.pss:
		return rsa.SignPSS(rand.Reader, p.rsa, sg.hash, d, pssOptions(sg.hash))
	case sg.pkcs1:
		return rsa.SignPKCS1v15(nil, p.rsa, sg.hash, d)
	case sg.ecdsa && p.k1 != nil:
		return k1ecdsa.Sign(p.k1, d).Serialize(), nil
	case sg.ecdsa:
		return ecdsa.SignASN1(rand.Reader, p.ec, d)
	case sg.mldsa:
		return p.ml.sign(d)
	}
	return nil, fmt.Errorf("%w: %s", ErrAlgorithm, alg)
}

// MaxSignature bounds a signature Verify takes, as AWS.
const MaxSignature = 6144

// Verify checks a signature made by Sign (or by anyone with the private
// key, such as OpenSSL): nil if it verifies, ErrSignature if not. A
// signature that is not well-formed DER (ECDSA), is of the wrong size, or
// has values out of range is ErrSignature too, never a panic.
func (p *Private) Verify(alg, msgType string, msg, sig []byte) error {
	sg, d, err := p.digestOf(alg, msgType, msg)
	if err != nil {
		return err
	}
	if len(sig) == 0 || len(sig) > MaxSignature {
		return fmt.Errorf("%w: Signature must be 1 to %d bytes", ErrInput, MaxSignature)
	}
	ok := false
	switch {
	case sg.pss:
		ok = rsa.VerifyPSS(&p.rsa.PublicKey, sg.hash, d, sig, pssOptions(sg.hash)) == nil
	case sg.pkcs1:
		ok = rsa.VerifyPKCS1v15(&p.rsa.PublicKey, sg.hash, d, sig) == nil
	case sg.ecdsa && p.k1 != nil:
		s, err := k1ecdsa.ParseDERSignature(sig)
		ok = err == nil && s.Verify(d, p.k1.PubKey())
	case sg.ecdsa:
		ok = ecdsa.VerifyASN1(&p.ec.PublicKey, d, sig)
	case sg.mldsa:
		ok = p.ml.verify(d, sig)
	}
	if !ok {
		return ErrSignature
	}
	return nil
}

// CheckSign checks what Sign would check (the algorithm, the message type
// and size) and signs nothing: DryRun's check.
func (p *Private) CheckSign(alg, msgType string, msg []byte) error {
	_, _, err := p.digestOf(alg, msgType, msg)
	return err
}
