package kms

import (
	"context"
	"maps"
	"reflect"
	"slices"

	"kmsd/wire/api"
)

// Sink receives the answers of a batch's items, each item once and in
// order: Answer for an item that succeeded, Fail for one that did not.
// rep is what the item's group resolved: items that share a rep share
// the key, the caller, the operation and the encryption context, so one
// audit record can stand for all those with one outcome. out is valid
// only during the call.
type Sink interface {
	// Answer takes item i's output: out, whose one large field is f's to
	// write in place. An error (the key was disabled meanwhile) makes the
	// item fail instead; the sink must then have written nothing of it.
	Answer(i int, rep *Report, out api.Message, f Fill) error
	// Fail takes item i's failure, an *api.Error.
	Fail(i int, rep *Report, err error)
}

// Fill writes an answer's one large field (a blob, a plaintext) in place:
// sealed or opened straight into the sink's buffer, with no copy.
type Fill struct {
	n    int
	seal *sealer
	open *opener
	in   []byte // the plaintext to seal, or the blob to open
	raw  []byte // or the field's bytes, made already (a signature, a MAC)
}

// rawFill is the Fill of a field made before the answer: a signature, a
// MAC, an RSA ciphertext or plaintext. A nil b is an answer without a
// large field (Verify's).
func rawFill(b []byte) Fill { return Fill{n: len(b), raw: b} }

// Filled reports whether the answer has a large field to write; when not,
// the answer is out alone.
func (f Fill) Filled() bool { return f.seal != nil || f.open != nil || f.raw != nil }

// Len is the number of bytes AppendTo appends.
func (f Fill) Len() int { return f.n }

// AppendTo seals (or opens) into dst, appending exactly Len bytes.
func (f Fill) AppendTo(dst []byte) ([]byte, error) {
	switch {
	case f.seal != nil:
		return f.seal.seal(dst, f.in)
	case f.open != nil:
		return f.open.open(dst, f.in)
	}
	return append(dst, f.raw...), nil
}

// groups are the sealers and openers of one batch: items with the same
// key, encryption context and grant tokens use one group, made when the
// first of them comes. The last group used is tried first, as items come
// in runs.
type groups struct {
	sealers []*sealer
	openers []*opener
	pairs   []*pair

	held *entry // read-locked for a run of items: see rlock
	run  int    // seals and opens since held was locked
}

// release gives back what the groups hold.
func (g *groups) release() {
	g.unhold()
	for _, z := range g.sealers {
		z.release()
	}
	for _, o := range g.openers {
		o.release()
	}
}

// maxGroups bounds a batch's groups: past it, items that match none get a
// group of their own that is not kept, so that a batch of items all
// different costs no more than as many requests.
const maxGroups = 64

func (g *groups) sealer(s *Service, ctx context.Context, op, act, keyID string, ec map[string]string, tokens []string) *sealer {
	for i := len(g.sealers) - 1; i >= 0; i-- {
		if z := g.sealers[i]; z.keyID == keyID && sameContext(z.ecMap, ec) && slices.Equal(z.tokens, tokens) {
			return z
		}
	}
	g.unhold()
	z := s.newSealer(ctx, op, act, keyID, ec, tokens)
	z.g = g
	if len(g.sealers) < maxGroups {
		g.sealers = append(g.sealers, z)
	} else {
		g.sealers[len(g.sealers)-1].release()
		g.sealers[len(g.sealers)-1] = z
	}
	return z
}

func (g *groups) opener(s *Service, ctx context.Context, op, act string, b blobRef, ec map[string]string, tokens []string) *opener {
	for i := len(g.openers) - 1; i >= 0; i-- {
		if o := g.openers[i]; o.blob == b && sameContext(o.ecMap, ec) && slices.Equal(o.tokens, tokens) {
			return o
		}
	}
	g.unhold()
	o := s.newOpener(ctx, op, act, b, ec, tokens)
	o.g = g
	if len(g.openers) < maxGroups {
		g.openers = append(g.openers, o)
	} else {
		g.openers[len(g.openers)-1].release()
		g.openers[len(g.openers)-1] = o
	}
	return o
}

// pair is ReEncrypt's group: the source's opener and the destination's
// sealer, with the report of both.
type pair struct {
	src *opener
	dst *sealer
	rep Report
}

func (g *groups) pair(src *opener, dst *sealer) *pair {
	for i := len(g.pairs) - 1; i >= 0; i-- {
		if p := g.pairs[i]; p.src == src && p.dst == dst {
			return p
		}
	}
	p := &pair{src: src, dst: dst, rep: dst.rep}
	p.rep.SourceKeyID, p.rep.SourceKeyVersion = src.rep.SourceKeyID, src.rep.SourceKeyVersion
	p.rep.Context, p.rep.DestContext = src.ecMap, dst.ecMap
	if p.rep.Alias == "" {
		p.rep.Alias = src.rep.Alias
	}
	if p.rep.GrantID == "" {
		p.rep.GrantID = src.rep.GrantID
	}
	if len(g.pairs) < maxGroups {
		g.pairs = append(g.pairs, p)
	}
	return p
}

// sameContext reports whether two encryption contexts are equal: at once
// when they are one map (a batch's items share the context they repeat).
func sameContext(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() {
		return true
	}
	return maps.Equal(a, b)
}

// failed makes the report of an item refused before it found its group
// (a parameter out of range): it names only the item's context.
func failed(ec map[string]string) *Report { return &Report{Context: ec} }
