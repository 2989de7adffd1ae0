package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// The trail's records are the leaves of a Merkle tree as RFC 6962 (and
// RFC 9162, section 2.1) define it: record seq N is leaf N-1, its hash is
// SHA-256(0x00 || line), the line without its newline, and an interior
// node's hash is SHA-256(0x01 || left || right). A signed checkpoint
// (note.go) names the tree's size and root hash, so that anyone holding
// the trail's public key can check the records, prove one of them is in
// the tree (an inclusion proof) and that a later tree extends an earlier
// one (a consistency proof), with any RFC 6962 implementation.

// LeafHash is the tree's hash of a record's line (without its newline).
func LeafHash(line []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(line)
	return [32]byte(h.Sum(nil))
}

// NodeHash is the hash of an interior node.
func NodeHash(left, right [32]byte) [32]byte {
	var b [65]byte
	b[0] = 1
	copy(b[1:], left[:])
	copy(b[33:], right[:])
	return sha256.Sum256(b[:])
}

// Tree is a Merkle tree kept by its right edge (a compact range): for a
// tree of Size leaves, the roots of its perfect subtrees, largest first,
// one per bit set in Size. Appending a leaf costs one hash on average, and
// the root of the whole tree log2(Size) hashes, however large it grows.
type Tree struct {
	size  uint64
	edges [][32]byte
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 { return t.size }

// Append adds a leaf by its hash (LeafHash).
func (t *Tree) Append(leaf [32]byte) {
	h := leaf
	for n := t.size; n&1 == 1; n >>= 1 {
		last := len(t.edges) - 1
		h = NodeHash(t.edges[last], h)
		t.edges = t.edges[:last]
	}
	t.edges = append(t.edges, h)
	t.size++
}

// Root is the tree's root hash (the hash of no leaves, SHA-256 of
// nothing, for an empty tree).
func (t *Tree) Root() [32]byte {
	if t.size == 0 {
		return sha256.Sum256(nil)
	}
	h := t.edges[len(t.edges)-1]
	for i := len(t.edges) - 2; i >= 0; i-- {
		h = NodeHash(t.edges[i], h)
	}
	return h
}

// Edge returns the perfect subtrees the tree is made of, in order: each
// as the first leaf it covers, its height (it covers 1<<height leaves),
// and its hash.
func (t *Tree) Edge() []Subtree {
	out := make([]Subtree, 0, len(t.edges))
	var lo uint64
	i := 0
	for height := 63; height >= 0; height-- {
		if t.size&(1<<height) != 0 {
			out = append(out, Subtree{Lo: lo, Height: height, Hash: t.edges[i]})
			lo += 1 << height
			i++
		}
	}
	return out
}

// Subtree is a perfect subtree of the tree: leaves Lo to Lo+1<<Height.
type Subtree struct {
	Lo     uint64
	Height int
	Hash   [32]byte
}

// Clone returns a copy that grows apart from t.
func (t *Tree) Clone() *Tree {
	return &Tree{size: t.size, edges: append([][32]byte(nil), t.edges...)}
}

// MarshalText writes the tree as its size, a colon, and its edge hashes
// in hex, one after the other: how a file's open record carries the tree
// its records continue.
func (t *Tree) MarshalText() ([]byte, error) { return t.appendText(nil), nil }

func (t *Tree) appendText(b []byte) []byte {
	b = fmt.Appendf(b, "%d:", t.size)
	for _, e := range t.edges {
		b = hex.AppendEncode(b, e[:])
	}
	return b
}

// UnmarshalText reads what MarshalText wrote; the number of hashes must
// be the number of bits set in the size.
func (t *Tree) UnmarshalText(b []byte) error {
	var size uint64
	i := 0
	for ; i < len(b) && b[i] != ':'; i++ {
		if b[i] < '0' || b[i] > '9' || i >= 19 {
			return errors.New("tree: bad size")
		}
		size = size*10 + uint64(b[i]-'0')
	}
	if i == 0 || i == len(b) || i > 1 && b[0] == '0' {
		return errors.New("tree: want SIZE:HASHES")
	}
	hexes := b[i+1:]
	n := bits.OnesCount64(size)
	if len(hexes) != n*64 {
		return fmt.Errorf("tree: %d leaves need %d hashes", size, n)
	}
	edges := make([][32]byte, n)
	for j := range edges {
		if _, err := hex.Decode(edges[j][:], hexes[j*64:(j+1)*64]); err != nil {
			return fmt.Errorf("tree: %w", err)
		}
	}
	t.size, t.edges = size, edges
	return nil
}
