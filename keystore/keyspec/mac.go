package keyspec

import (
	"crypto/hmac"
	"fmt"
	"hash"
)

// MaxMAC bounds a MAC VerifyMac takes, as AWS.
const MaxMAC = 6144

func (p *Private) macCheck(alg string, msg []byte) error {
	if !p.spec.hasAlgorithm(UsageMAC, alg) {
		if !p.spec.IsMAC() {
			return fmt.Errorf("%w: %s keys do not compute MACs", ErrAlgorithm, p.spec.Name)
		}
		return fmt.Errorf("%w: %s keys compute %s, not %q", ErrAlgorithm, p.spec.Name, p.spec.usages[UsageMAC][0], alg)
	}
	if len(msg) == 0 || len(msg) > MaxMessage {
		return fmt.Errorf("%w: Message must be 1 to %d bytes", ErrInput, MaxMessage)
	}
	return nil
}

// MAC computes the HMAC (RFC 2104) of msg with algorithm alg, which must
// be the key's.
func (p *Private) MAC(alg string, msg []byte) ([]byte, error) {
	if err := p.macCheck(alg, msg); err != nil {
		return nil, err
	}
	m := p.hmac()
	defer p.macs.Put(m)
	m.Write(msg)
	return m.Sum(nil), nil
}

// hmac is a keyed HMAC, reset, from the key's pool: keying one hashes the
// key's two pads, which a reset instance has done already.
func (p *Private) hmac() hash.Hash {
	if m, ok := p.macs.Get().(hash.Hash); ok {
		m.Reset()
		return m
	}
	return hmac.New(p.spec.hash.New, p.mac)
}

// VerifyMAC checks mac against msg's HMAC in constant time: nil if they
// are equal, ErrMAC if not.
func (p *Private) VerifyMAC(alg string, msg, mac []byte) error {
	if err := p.macCheck(alg, msg); err != nil {
		return err
	}
	if len(mac) == 0 || len(mac) > MaxMAC {
		return fmt.Errorf("%w: Mac must be 1 to %d bytes", ErrInput, MaxMAC)
	}
	m := p.hmac()
	defer p.macs.Put(m)
	m.Write(msg)
	if !hmac.Equal(m.Sum(nil), mac) {
		return ErrMAC
	}
	return nil
}
