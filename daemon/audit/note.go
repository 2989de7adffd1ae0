package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// Signed checkpoints follow C2SP's tlog-checkpoint and signed-note
// specifications (https://c2sp.org/tlog-checkpoint,
// https://c2sp.org/signed-note): the note's text is three lines,
//
//	<origin>
//	<tree size, decimal>
//	<root hash, standard base64>
//
// and after a blank line one signature line per signer, "— <key name>
// <base64 of the 4-byte key hash and the Ed25519 signature of the text>".
// kmsd signs with one key, named as the origin; the verifier key
// (Signer.VerifierKey) is in the note verifier-key format,
// "<name>+<key hash, 8 hex digits>+<base64 of 0x01 and the public key>",
// which golang.org/x/mod/sumdb/note and other implementations read.

// Signer signs the trail's checkpoints with an Ed25519 key. It is a
// note.Signer.
type Signer struct {
	name string
	key  ed25519.PrivateKey
	pub  ed25519.PublicKey
	hash uint32
}

// algEd25519 is the signed-note algorithm byte of Ed25519.
const algEd25519 = 1

// NewSigner makes a signer named origin from a 32-byte Ed25519 seed (the
// caller may clear its seed after). The origin names the trail: no
// spaces and no '+', as the signed-note format requires of key names.
func NewSigner(origin string, seed []byte) (*Signer, error) {
	if !ValidOrigin(origin) {
		return nil, fmt.Errorf("audit: %q cannot name a checkpoint signer (no spaces or '+')", origin)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit: an Ed25519 seed is %d bytes, not %d", ed25519.SeedSize, len(seed))
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	h := sha256.New()
	h.Write([]byte(origin + "\n"))
	h.Write([]byte{algEd25519})
	h.Write(pub)
	return &Signer{name: origin, key: key, pub: pub, hash: binary.BigEndian.Uint32(h.Sum(nil))}, nil
}

// ValidOrigin reports whether s can be a trail's origin and key name.
func ValidOrigin(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsRune(s, '+') &&
		strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == '\\' }) < 0
}

// Name is the key's name: the trail's origin.
func (s *Signer) Name() string { return s.name }

// KeyHash is the signed-note key hash of the key.
func (s *Signer) KeyHash() uint32 { return s.hash }

// Sign signs msg.
func (s *Signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// VerifierKey is the public key in the note verifier-key format.
func (s *Signer) VerifierKey() string {
	vkey, err := note.NewEd25519VerifierKey(s.name, s.pub)
	if err != nil { // only for a bad name, which NewSigner refused
		panic(err)
	}
	return vkey
}

// Zero clears the private key; the signer signs no more.
func (s *Signer) Zero() { clear(s.key) }

// signCheckpoint returns the signed checkpoint of a tree.
func (s *Signer) signCheckpoint(size uint64, root [32]byte) ([]byte, error) {
	return note.Sign(&note.Note{Text: CheckpointText(s.name, size, root)}, s)
}

// CheckpointText is a checkpoint's text before it is signed.
func CheckpointText(origin string, size uint64, root [32]byte) string {
	return origin + "\n" + strconv.FormatUint(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// Checkpoint is what a signed checkpoint says.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   [32]byte
}

// ParseCheckpoint reads a checkpoint's text (a note's Text): the origin,
// size and root lines; extension lines after them are allowed, as the
// specification says.
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return c, errors.New("a checkpoint is an origin, a size and a root hash, one per line")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || (len(lines[1]) > 1 && lines[1][0] == '0') {
		return c, fmt.Errorf("checkpoint size %q is not a decimal number", lines[1])
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		return c, fmt.Errorf("checkpoint root %q is not a base64 SHA-256 hash", lines[2])
	}
	return Checkpoint{Origin: lines[0], Size: size, Root: [32]byte(root)}, nil
}

// OpenCheckpoint checks a signed checkpoint with the verifiers (nil:
// the signature is not checked, only the text read) and reads it.
func OpenCheckpoint(signed []byte, verifiers note.Verifiers) (Checkpoint, error) {
	if verifiers == nil {
		i := bytes.Index(signed, []byte("\n\n"))
		if i < 0 {
			return Checkpoint{}, errors.New("not a signed note")
		}
		return ParseCheckpoint(string(signed[:i+1]))
	}
	n, err := note.Open(signed, verifiers)
	if err != nil {
		var unknown *note.UnverifiedNoteError
		if errors.As(err, &unknown) {
			return Checkpoint{}, errors.New("checkpoint not signed by the trail's key: it was forged, or signed by another key")
		}
		return Checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err == nil && c.Origin != n.Sigs[0].Name {
		err = fmt.Errorf("checkpoint of %q signed as %q", c.Origin, n.Sigs[0].Name)
	}
	return c, err
}

// Verifiers reads verifier keys (note format, one per line; blank lines
// and lines starting with # are skipped).
func Verifiers(text string) (note.Verifiers, []string, error) {
	var vs []note.Verifier
	var names []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		v, err := note.NewVerifier(line)
		if err != nil {
			return nil, nil, fmt.Errorf("public key %q: %w", line, err)
		}
		vs, names = append(vs, v), append(names, v.Name())
	}
	if len(vs) == 0 {
		return nil, nil, errors.New("no public key")
	}
	return note.VerifierList(vs...), names, nil
}
