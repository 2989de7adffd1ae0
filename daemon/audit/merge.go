package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// QueryTrails is Query over several trails (one per fleet host, each its
// files in order): the matching records of all of them, merged by time.
// Records of one trail keep their order; records of one instant come in
// the order of the trails given.
func QueryTrails(trails [][]string, f Filter, fn func(line []byte) error) error {
	if len(trails) == 1 {
		return Query(trails[0], f, fn)
	}
	rs := make([]*trailReader, 0, len(trails))
	defer func() {
		for _, r := range rs {
			r.close()
		}
	}()
	for _, files := range trails {
		r := &trailReader{files: files, f: f}
		if err := r.next(); err != nil {
			return err
		}
		rs = append(rs, r)
	}
	for {
		var first *trailReader
		for _, r := range rs {
			if r.line != nil && (first == nil || r.t.Before(first.t)) {
				first = r
			}
		}
		if first == nil {
			return nil
		}
		if err := fn(first.line); err != nil {
			return err
		}
		if err := first.next(); err != nil {
			return err
		}
	}
}

// trailReader reads one trail's matching records, one at a time.
type trailReader struct {
	files []string
	f     Filter
	fh    *os.File
	br    *bufio.Reader
	line  []byte // the current record (nil: the trail is done)
	t     time.Time
}

func (r *trailReader) close() {
	if r.fh != nil {
		r.fh.Close()
		r.fh = nil
	}
}

// next reads the trail's next matching record into line.
func (r *trailReader) next() error {
	r.line = nil
	for {
		if r.br == nil {
			if len(r.files) == 0 {
				return nil
			}
			fh, err := os.Open(r.files[0])
			if err != nil {
				return err
			}
			r.fh, r.br = fh, bufio.NewReaderSize(fh, 64<<10)
		}
		line, err := r.br.ReadSlice('\n')
		if err == io.EOF || (len(line) > 0 && line[0] == 0) { // the file's end, or crash padding
			r.close()
			r.br, r.files = nil, r.files[1:]
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.files[0], err)
		}
		var q queried
		if json.Unmarshal(line, &q) != nil || !r.f.match(&q) {
			continue
		}
		r.line, r.t = slices.Clone(line[:len(line)-1]), q.Time
		return nil
	}
}
