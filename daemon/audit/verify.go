package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MaxLine bounds one record when reading a trail.
const MaxLine = 1 << 20

// Problem is the first place a trail is broken.
type Problem struct {
	File   string
	Line   int
	Seq    uint64
	Reason string
}

func (p *Problem) String() string {
	return fmt.Sprintf("%s line %d (seq %d): %s", filepath.Base(p.File), p.Line, p.Seq, p.Reason)
}

// Report is what Verify found.
type Report struct {
	Files, Records, Checkpoints int
	FirstSeq, LastSeq           uint64
	// LastCheckpoint is the seq of the last checkpoint; records after it
	// are chained but not yet sealed by a MAC.
	LastCheckpoint uint64
	MACsChecked    bool
	Problem        *Problem // nil: the trail is intact
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// CheckMAC checks a checkpoint's MAC; nil leaves MACs unchecked.
	CheckMAC func(seq uint64, prev [32]byte, mac []byte) bool
	// Head is kmsd's last checkpoint (seq and the hash of its line), if
	// known: the trail must reach it, or it was cut short.
	HeadSeq  uint64
	HeadHash [32]byte
}

type parsed struct {
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev"`
	Type string `json:"type"`
	MAC  string `json:"mac"`
}

// Verify checks a trail's files, in order, from its first record: that
// every line is a record, that seq counts up by one, that each prev is the
// SHA-256 of the line before, that each file starts with an open record,
// that checkpoint MACs are right, and that the trail reaches kmsd's last
// checkpoint. It reports the first fault; an error means a file could not
// be read at all.
func Verify(files []string, o VerifyOptions) (*Report, error) {
	r := &Report{Files: len(files), MACsChecked: o.CheckMAC != nil}
	var prev [32]byte
	var seq uint64
	headSeen := false
	fail := func(file string, line int, s uint64, format string, args ...any) (*Report, error) {
		r.Problem = &Problem{File: file, Line: line, Seq: s, Reason: fmt.Sprintf(format, args...)}
		r.LastSeq = seq // the last record found intact
		return r, nil
	}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		br := bufio.NewReaderSize(f, 64<<10)
		for n := 1; ; n++ {
			line, err := br.ReadSlice('\n')
			if err == io.EOF && len(line) == 0 {
				break
			}
			if len(line) > 0 && line[0] == 0 { // padding a crash left: zeros to the end
				if !allZero(line, br) {
					f.Close()
					return fail(file, n, seq+1, "data after the zero padding")
				}
				break
			}
			if err == bufio.ErrBufferFull {
				f.Close()
				return fail(file, n, seq+1, "a line longer than the buffer: not a record")
			}
			if err == io.EOF {
				f.Close()
				return fail(file, n, seq+1, "the last record is cut short (no newline)")
			}
			if err != nil {
				f.Close()
				return nil, err
			}
			line = line[:len(line)-1]
			var p parsed
			if json.Unmarshal(line, &p) != nil {
				f.Close()
				return fail(file, n, seq+1, "not a JSON record")
			}
			if p.Seq != seq+1 {
				f.Close()
				return fail(file, n, p.Seq, "seq %d where %d was due: records were removed, added or reordered", p.Seq, seq+1)
			}
			if want := hex.EncodeToString(prev[:]); p.Prev != want {
				f.Close()
				return fail(file, n, p.Seq, "prev does not match the record before: it or an earlier record was changed")
			}
			if !bytes.HasSuffix(line, []byte(`"prev":"`+p.Prev+`"}`)) {
				f.Close()
				return fail(file, n, p.Seq, "prev is not the record's last field")
			}
			if n == 1 && p.Type != TypeOpen {
				f.Close()
				return fail(file, n, p.Seq, "a file must begin with an open record")
			}
			if p.Type == TypeCheckpoint {
				mac, err := hex.DecodeString(p.MAC)
				if err != nil || len(mac) != sha256.Size {
					f.Close()
					return fail(file, n, p.Seq, "checkpoint without a valid MAC")
				}
				if o.CheckMAC != nil && !o.CheckMAC(p.Seq, prev, mac) {
					f.Close()
					return fail(file, n, p.Seq, "checkpoint MAC is wrong: the trail up to here was rewritten")
				}
				r.Checkpoints++
				r.LastCheckpoint = p.Seq
			}
			prev = sha256.Sum256(line)
			seq = p.Seq
			if r.Records == 0 {
				r.FirstSeq = seq
			}
			r.Records++
			if o.HeadSeq != 0 && seq == o.HeadSeq {
				if prev != o.HeadHash {
					f.Close()
					return fail(file, n, seq, "differs from the checkpoint kmsd saved")
				}
				headSeen = true
			}
		}
		f.Close()
	}
	r.LastSeq = seq
	if r.Records == 0 {
		return fail("", 0, 0, "no records")
	}
	if o.HeadSeq > seq || (o.HeadSeq != 0 && !headSeen) {
		return fail(files[len(files)-1], 0, seq, "the trail ends at seq %d but kmsd saved a checkpoint at seq %d: it was cut short", seq, o.HeadSeq)
	}
	return r, nil
}

// CheckpointRecord is one checkpoint read from a trail.
type CheckpointRecord struct {
	Seq  uint64
	Prev [32]byte
	MAC  []byte
}

// ReadCheckpoints returns the checkpoints of a trail's files, in order,
// for a MAC check by whoever holds the key. Lines that are not records
// are skipped (Verify reports them).
func ReadCheckpoints(files []string) ([]CheckpointRecord, error) {
	var out []CheckpointRecord
	err := Query(files, Filter{}, func(line []byte) error {
		if !bytes.Contains(line, []byte(`"type":"checkpoint"`)) {
			return nil
		}
		var p parsed
		if json.Unmarshal(line, &p) != nil {
			return nil
		}
		prev, err1 := hex.DecodeString(p.Prev)
		mac, err2 := hex.DecodeString(p.MAC)
		if err1 == nil && err2 == nil && len(prev) == 32 {
			out = append(out, CheckpointRecord{Seq: p.Seq, Prev: [32]byte(prev), MAC: mac})
		}
		return nil
	})
	return out, err
}

// allZero reports whether line and the rest of r are all zero bytes.
func allZero(line []byte, r *bufio.Reader) bool {
	for _, c := range line {
		if c != 0 {
			return false
		}
	}
	for {
		c, err := r.ReadByte()
		if err != nil {
			return true
		}
		if c != 0 {
			return false
		}
	}
}
