package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
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
	Problem        *Problem // nil: the chain is intact
	// Gaps are records lost that the trail itself tells of: kmsd found it
	// cut short, or without its files, at a start (AuditTrailCut). The
	// chain runs on after a gap, so the trail can be intact and still
	// have lost records.
	Gaps []string
	// CheckpointRecords are the checkpoints read, with VerifyOptions.Collect.
	CheckpointRecords []CheckpointRecord
	// Signed is how many checkpoints carried a signed checkpoint whose
	// tree matched the records; SignaturesChecked says whether their
	// signatures were checked (VerifyOptions.Verifiers), Origin names the
	// trail they name.
	Signed            int
	SignaturesChecked bool
	Origin            string
	// Tree is the last signed checkpoint found: the records to its size
	// are covered by its signature.
	Tree Checkpoint
	// Exported is how many of VerifyOptions.Exported the trail was
	// checked against, and ExportedOlder how many were older than its
	// first file (retired): not checkable.
	Exported, ExportedOlder int
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// CheckMAC checks a checkpoint's MAC; nil leaves MACs unchecked.
	CheckMAC func(seq uint64, prev [32]byte, mac []byte) bool
	// Head is kmsd's last checkpoint (seq and the hash of its line), if
	// known: the trail must reach it, or it was cut short.
	HeadSeq  uint64
	HeadHash [32]byte
	// Progress, if set, is told how many bytes have been read so far.
	Progress func(bytes int64)
	// Collect keeps every checkpoint in Report.CheckpointRecords, for a
	// MAC check by whoever holds the key, in the same pass.
	Collect bool
	// RetiredSeq and RetiredHash are where the files the retention
	// settings removed ended (kmsd keeps them): the trail may begin just
	// after, chained to that hash, instead of at seq 1.
	RetiredSeq  uint64
	RetiredHash [32]byte
	// Verifiers check the signed checkpoints' signatures (nil: their
	// trees are checked against the records, but anyone could have
	// signed them).
	Verifiers note.Verifiers
	// Exported are checkpoints copied elsewhere (export.go), their
	// signatures already checked: the trail's tree at each one's size
	// must be that checkpoint's.
	Exported []ExportedCheckpoint
}

// parsed is what Verify reads of a record: the fields the chain is made
// of, found where the writer puts them (type second, seq and prev last,
// mac at the end of a checkpoint's body), without decoding the rest.
type parsed struct {
	Seq    uint64
	Prev   string
	Type   string
	MAC    string
	Event  string
	Detail string
	Tree   string // an open record's tree (Tree.MarshalText)
	Signed string // a checkpoint's signed checkpoint, as written (JSON escapes left)
}

// parse reads a record's chain fields; ok is false for a line that is not
// a record as the writer makes them.
func parse(line []byte) (p parsed, ok bool) {
	const tail = `","prev":"` // then 64 hex digits and "}
	if len(line) < 80 || !bytes.HasPrefix(line, []byte(`{"time":"`)) || !bytes.HasSuffix(line, []byte(`"}`)) {
		return p, false
	}
	end := len(line) - 2
	p.Prev = string(line[end-64 : end])
	if !bytes.Equal(line[end-64-len(tail)+1:end-64], []byte(tail[1:])) {
		return p, false
	}
	rest := line[:end-64-len(tail)+1]
	i := bytes.LastIndex(rest, []byte(`,"seq":`))
	if i < 0 {
		return p, false
	}
	seq, err := strconv.ParseUint(string(rest[i+7:]), 10, 64)
	if err != nil {
		return p, false
	}
	p.Seq = seq
	p.Type = field(line, `,"type":"`)
	switch p.Type {
	case TypeCheckpoint:
		p.MAC = field(rest[:i], `,"mac":"`)
		p.Signed = field(rest[:i], `,"checkpoint":"`)
	case TypeOpen:
		p.Tree = field(rest[:i], `,"tree":"`)
	}
	if p.Type == TypeService {
		p.Event, p.Detail = field(line, `,"event":"`), field(line, `,"detail":"`)
	}
	return p, json.Valid(line)
}

// field is the value of the first string field name introduces (",
// "name":"), as written (escapes left), or "".
func field(line []byte, name string) string {
	i := bytes.Index(line, []byte(name))
	if i < 0 {
		return ""
	}
	v := line[i+len(name):]
	for j := 0; j < len(v); j++ {
		switch v[j] {
		case '\\':
			j++
		case '"':
			return string(v[:j])
		}
	}
	return ""
}

// Verify checks a trail's files, in order, from its first record: that
// every line is a record, that seq counts up by one, that each prev is the
// SHA-256 of the line before, that each file starts with an open record,
// that checkpoint MACs are right, and that the trail reaches kmsd's last
// checkpoint. It reports the first fault; an error means a file could not
// be read at all.
func Verify(files []string, o VerifyOptions) (*Report, error) {
	v := &verifier{o: o, r: &Report{Files: len(files), MACsChecked: o.CheckMAC != nil, SignaturesChecked: o.Verifiers != nil}}
	slices.SortFunc(v.o.Exported, func(a, b ExportedCheckpoint) int { return cmp.Compare(a.Size, b.Size) })
	for _, file := range files {
		if err := v.file(file); err != nil || v.r.Problem != nil {
			return v.result(err)
		}
	}
	v.r.LastSeq = v.seq
	if why := v.endTree(); why != "" {
		v.fail(files[len(files)-1], 0, v.seq, "%s", why)
		return v.r, nil
	}
	if v.unvouched != 0 && (v.retiredAt == 0 || v.retiredAt > v.r.Tree.Size) {
		v.fail(files[0], 1, v.unvouched, "the trail begins at seq %d: records 1 to %d are missing (no signed AuditRetired record says the retention settings removed them)", v.unvouched, v.unvouched-1)
		return v.r, nil
	}
	switch {
	case v.r.Records == 0 && v.r.Problem == nil:
		v.fail("", 0, 0, "no records")
	case o.HeadSeq > v.seq || (o.HeadSeq != 0 && !v.headSeen):
		v.fail(files[len(files)-1], 0, v.seq, "the trail ends at seq %d but kmsd saved a checkpoint at seq %d: it was cut short", v.seq, o.HeadSeq)
	}
	return v.r, nil
}

// verifier walks a trail's records in order.
type verifier struct {
	o        VerifyOptions
	r        *Report
	prev     [32]byte // the hash of the last record
	seq      uint64   // the seq of the last record
	headSeen bool     // the record of kmsd's last checkpoint was found
	// unvouched is the seq the trail begins at, past 1, until a record
	// covered by a signed checkpoint (retiredAt) says the retention
	// settings removed the records before it.
	unvouched, retiredAt uint64
	tree                 *Tree // the Merkle tree of the records so far; nil: unknown
	exported             int   // the next of o.Exported to check
	read                 int64 // bytes read, and told to Progress
	told                 int64
}

func (v *verifier) result(err error) (*Report, error) {
	if err != nil {
		return nil, err
	}
	return v.r, nil
}

// fail records the trail's first problem.
func (v *verifier) fail(file string, line int, seq uint64, format string, args ...any) {
	v.r.Problem = &Problem{File: file, Line: line, Seq: seq, Reason: fmt.Sprintf(format, args...)}
	v.r.LastSeq = v.seq // the last record found intact
}

// file checks the lines of one file; it stops at the first problem.
func (v *verifier) file(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, MaxLine)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if v.o.Progress != nil {
			v.read += int64(len(line))
			if v.read-v.told >= 16<<20 {
				v.told = v.read
				v.o.Progress(v.read)
			}
		}
		switch {
		case err == io.EOF && len(line) == 0:
			return nil
		case len(line) > 0 && line[0] == 0: // padding a crash left: zeros to the end
			if !allZero(line, br) {
				v.fail(path, n, v.seq+1, "data after the zero padding")
			}
			return nil
		case err == bufio.ErrBufferFull:
			v.fail(path, n, v.seq+1, "a line longer than the buffer: not a record")
			return nil
		case err == io.EOF:
			v.fail(path, n, v.seq+1, "the last record is cut short (no newline)")
			return nil
		case err != nil:
			return err
		}
		if !v.record(path, n, line[:len(line)-1]) {
			return nil
		}
	}
}

// record checks line n of file, and reports false at a problem.
func (v *verifier) record(file string, n int, line []byte) bool {
	p, ok := parse(line)
	if !ok {
		v.fail(file, n, v.seq+1, "not a record")
		return false
	}
	why := ""
	switch {
	case v.r.Records == 0 && v.o.RetiredSeq > 0 && p.Seq == v.o.RetiredSeq+1:
		if p.Prev != hex.EncodeToString(v.o.RetiredHash[:]) {
			why = "the trail begins where kmsd retired its older files, but not chained to their last record"
		}
	case v.r.Records == 0 && p.Seq != 1 && v.o.Verifiers != nil && p.Type == TypeOpen && p.Tree != "":
		// Retired by the retention settings, if a signed record says so
		// (retiredBySigned): the trail is checked from the tree its
		// first file carries.
		v.unvouched = p.Seq
	case v.r.Records == 0 && p.Seq != 1:
		why = fmt.Sprintf("the trail begins at seq %d: records 1 to %d are missing", p.Seq, p.Seq-1)
	case p.Seq != v.seq+1:
		why = fmt.Sprintf("seq %d where %d was due: records were removed, added or reordered", p.Seq, v.seq+1)
	case p.Prev != hex.EncodeToString(v.prev[:]) && v.r.Records > 0:
		why = "prev does not match the record before: it or an earlier record was changed"
	case v.r.Records == 0 && p.Prev != strings.Repeat("0", 64):
		why = "the first record does not chain to zeros"
	case n == 1 && p.Type != TypeOpen:
		why = "a file must begin with an open record"
	case p.Type == TypeCheckpoint:
		why = v.checkpoint(p)
	}
	if why == "" {
		why = v.treeRecord(p, line)
	}
	if why != "" {
		v.fail(file, n, p.Seq, "%s", why)
		return false
	}
	if p.Type == TypeService && p.Event == "AuditRetired" && v.unvouched != 0 && v.retiredAt == 0 &&
		strings.Contains(p.Detail, fmt.Sprintf("(records to seq %d)", v.unvouched-1)) {
		v.retiredAt = p.Seq
	}
	if p.Type == TypeService && p.Event == "AuditTrailCut" {
		v.r.Gaps = append(v.r.Gaps, fmt.Sprintf("seq %d (%s line %d): %s", p.Seq, filepath.Base(file), n, p.Detail))
	}
	v.prev, v.seq = sha256.Sum256(line), p.Seq
	if v.r.Records == 0 {
		v.r.FirstSeq = v.seq
	}
	v.r.Records++
	if v.o.HeadSeq != 0 && v.seq == v.o.HeadSeq {
		if v.prev != v.o.HeadHash {
			v.fail(file, n, v.seq, "differs from the checkpoint kmsd saved")
			return false
		}
		v.headSeen = true
	}
	return true
}

// checkpoint checks a checkpoint record's MAC; it returns the problem, or
// "".
func (v *verifier) checkpoint(p parsed) string {
	mac, err := hex.DecodeString(p.MAC)
	if err != nil || len(mac) != sha256.Size {
		return "checkpoint without a valid MAC"
	}
	if v.o.CheckMAC != nil && !v.o.CheckMAC(p.Seq, v.prev, mac) {
		return "checkpoint MAC is wrong: the trail up to here was rewritten"
	}
	if v.o.Collect {
		v.r.CheckpointRecords = append(v.r.CheckpointRecords, CheckpointRecord{Seq: p.Seq, Prev: v.prev, MAC: mac})
	}
	v.r.Checkpoints++
	v.r.LastCheckpoint = p.Seq
	return ""
}

// CheckpointRecord is one checkpoint read from a trail.
type CheckpointRecord struct {
	Seq  uint64
	Prev [32]byte
	MAC  []byte
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
