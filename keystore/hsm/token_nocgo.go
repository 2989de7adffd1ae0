//go:build !cgo

package hsm

// Token is a logged-in PKCS#11 token; without cgo there is none.
type Token struct{}

// Open fails: a PKCS#11 module is a C library.
func Open(c Config) (*Token, error) {
	clear(c.PIN)
	return nil, ErrNoCgo
}

// GenerateKey, HasKey, Seal, Open, DestroyKey and Close are never called:
// Open returns no Token.
func (t *Token) GenerateKey(string) error { return ErrNoCgo }
func (t *Token) HasKey(string) bool       { return false }
func (t *Token) Seal(_ string, dst, _, _, _ []byte) ([]byte, error) {
	return dst, ErrNoCgo
}
func (t *Token) Open(_ string, dst, _, _, _ []byte) ([]byte, error) {
	return dst, ErrNoCgo
}
func (t *Token) DestroyKey(string) error { return ErrNoCgo }
func (t *Token) Close() error            { return nil }
func (t *Token) Serial() string          { return "" }
