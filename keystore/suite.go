package keystore

import (
	"fmt"
	"runtime"

	"github.com/klauspost/cpuid/v2"
)

// Alg identifies the AEAD of a ciphertext blob. Its value is written into
// every blob and never changes meaning.
type Alg uint8

const (
	// AlgXAES256GCM is XAES-256-GCM (c2sp.org/XAES-256-GCM).
	AlgXAES256GCM Alg = 0x01
	// AlgXChaCha20Poly1305 is XChaCha20-Poly1305
	// (draft-irtf-cfrg-xchacha), from golang.org/x/crypto.
	AlgXChaCha20Poly1305 Alg = 0x02
	// AlgHSMAES256GCM is AES-256-GCM done by a PKCS#11 token with a key
	// that never leaves it (a custom key store's): a 12-byte IV in the
	// nonce field, whose other 12 bytes are zero.
	AlgHSMAES256GCM Alg = 0x03
)

// String returns the suite's name as kmsd prints and accepts it.
func (a Alg) String() string {
	switch a {
	case AlgXAES256GCM:
		return "XAES-256-GCM"
	case AlgHSMAES256GCM:
		return "HSM-AES-256-GCM"
	case AlgXChaCha20Poly1305:
		return "XChaCha20-Poly1305"
	}
	return fmt.Sprintf("Alg(%#x)", uint8(a))
}

// ParseAlg accepts "auto" (the CPU's choice, see DefaultAlg), "xaes" or
// "xchacha", and the full names that String returns.
func ParseAlg(s string) (Alg, error) {
	switch s {
	case "", "auto":
		return DefaultAlg(), nil
	case "xaes", AlgXAES256GCM.String():
		return AlgXAES256GCM, nil
	case "xchacha", AlgXChaCha20Poly1305.String():
		return AlgXChaCha20Poly1305, nil
	}
	return 0, fmt.Errorf("unknown suite %q (want auto, xaes or xchacha)", s)
}

// CPUFeatures are the flags that decide the suite, as cpuid reports them.
type CPUFeatures struct {
	Arch                                       string // runtime.GOARCH
	AESNI, PCLMULQDQ, SSSE3, SSE41, AVX2, VAES bool
	ARMAES, ARMPMULL                           bool
	PhysicalCores                              int
	Brand                                      string
}

// DetectCPU reads the CPU's features once from klauspost/cpuid.
func DetectCPU() CPUFeatures {
	c := &cpuid.CPU
	return CPUFeatures{
		Arch:          runtime.GOARCH,
		AESNI:         c.Supports(cpuid.AESNI),
		SSSE3:         c.Supports(cpuid.SSSE3),
		SSE41:         c.Supports(cpuid.SSE4),
		PCLMULQDQ:     c.Supports(cpuid.CLMUL),
		AVX2:          c.Supports(cpuid.AVX2),
		VAES:          c.Supports(cpuid.VAES),
		ARMAES:        c.Supports(cpuid.AESARM),
		ARMPMULL:      c.Supports(cpuid.PMULL),
		PhysicalCores: c.PhysicalCores,
		Brand:         c.BrandName,
	}
}

// HardwareAES reports whether AES-GCM runs in constant-time hardware
// instructions here: AES-NI with carry-less multiply on amd64 (the condition
// Go's own assembly GCM requires, with SSSE3 and SSE4.1), AES and PMULL on
// arm64.
func (f CPUFeatures) HardwareAES() bool {
	switch f.Arch {
	case "amd64":
		return f.AESNI && f.PCLMULQDQ && f.SSSE3 && f.SSE41
	case "arm64":
		return f.ARMAES && f.ARMPMULL
	}
	return false
}

// DefaultAlg is XAES-256-GCM where the CPU has hardware AES-GCM and
// XChaCha20-Poly1305 where it has not: software AES is slow and not
// constant-time.
func DefaultAlg() Alg { return DetectCPU().Suite() }

// Suite is the AEAD these features call for: XAES-256-GCM with hardware
// AES-GCM, XChaCha20-Poly1305 without.
func (f CPUFeatures) Suite() Alg {
	if f.HardwareAES() {
		return AlgXAES256GCM
	}
	return AlgXChaCha20Poly1305
}
