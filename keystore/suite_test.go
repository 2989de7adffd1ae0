package keystore

import "testing"

func TestSuiteFromCPU(t *testing.T) {
	full := CPUFeatures{Arch: "amd64", AESNI: true, PCLMULQDQ: true, SSSE3: true, SSE41: true}
	noCLMUL := full
	noCLMUL.PCLMULQDQ = false
	noAES := full
	noAES.AESNI = false
	cases := []struct {
		name string
		f    CPUFeatures
		want Alg
	}{
		{"amd64 with AES-NI and CLMUL", full, AlgXAES256GCM},
		{"amd64 without CLMUL", noCLMUL, AlgXChaCha20Poly1305},
		{"amd64 without AES-NI", noAES, AlgXChaCha20Poly1305},
		{"arm64 with AES and PMULL", CPUFeatures{Arch: "arm64", ARMAES: true, ARMPMULL: true}, AlgXAES256GCM},
		{"arm64 without PMULL", CPUFeatures{Arch: "arm64", ARMAES: true}, AlgXChaCha20Poly1305},
		{"riscv64", CPUFeatures{Arch: "riscv64", AESNI: true, PCLMULQDQ: true}, AlgXChaCha20Poly1305},
	}
	for _, c := range cases {
		if got := c.f.Suite(); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if DetectCPU().Suite() != DefaultAlg() {
		t.Fatal("DefaultAlg disagrees with DetectCPU")
	}
}

func TestParseAlg(t *testing.T) {
	for in, want := range map[string]Alg{"xaes": AlgXAES256GCM, "XAES-256-GCM": AlgXAES256GCM, "xchacha": AlgXChaCha20Poly1305,
		"XChaCha20-Poly1305": AlgXChaCha20Poly1305, "auto": DefaultAlg(), "": DefaultAlg()} {
		if got, err := ParseAlg(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseAlg("aes-gcm"); err == nil {
		t.Fatal("unknown suite accepted")
	}
}
