package ring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sizes of a ring's data region: a power of two in this range.
const (
	MinSize = 4 << 10
	MaxSize = 16 << 20
)

// HeaderSize is the size of the area's header, before the data regions.
const HeaderSize = 4096

// Magic opens the header: "KMSDRNG1", little-endian.
const Magic = 0x31474e5244534d4b

// Offsets in the header, each on its own cache line.
const (
	offMagic = 0   // uint64 Magic, uint32 size: written once by kmsd
	offReq   = 64  // the request ring's lines (see lines)
	offAns   = 384 // the answer ring's lines
)

// A ring's lines, from its offset: head, tail, the flag its reader sets
// before it sleeps, and the flag its writer sets before it sleeps for
// room (uint32s; nonzero: ring the bell).
const (
	lineHead  = 0
	lineTail  = 64
	lineSleep = 128
	lineSpace = 192
)

// Side says which end of a connection maps an area.
type Side int

const (
	// Client writes requests and reads answers.
	Client Side = iota
	// Server (kmsd) reads requests and writes answers.
	Server
)

// ErrCorrupt is what a side reports when the area's indexes or header
// cannot be right: the peer wrote where it must not.
var ErrCorrupt = errors.New("ring: the shared area is corrupt")

// AreaSize is the size of an area whose rings hold size bytes each.
func AreaSize(size int) int { return HeaderSize + 2*size }

// validSize reports whether size is a ring size this package accepts.
func validSize(size int) bool {
	return size >= MinSize && size <= MaxSize && size&(size-1) == 0
}

// Create makes the memfd of one connection's area with rings of size
// bytes, writes its header, and seals its size. The descriptor is
// close-on-exec; the caller maps it (Map) and hands it to the client.
func Create(size int) (fd int, err error) {
	if !validSize(size) {
		return -1, fmt.Errorf("ring: size %d is not a power of two in %d..%d", size, MinSize, MaxSize)
	}
	fd, err = unix.MemfdCreate("kmsd-ring", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, fmt.Errorf("ring: memfd_create: %w", err)
	}
	fail := func(what string, err error) (int, error) {
		unix.Close(fd)
		return -1, fmt.Errorf("ring: %s: %w", what, err)
	}
	if err := unix.Ftruncate(fd, int64(AreaSize(size))); err != nil {
		return fail("ftruncate", err)
	}
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[0:], Magic)
	binary.LittleEndian.PutUint32(hdr[8:], uint32(size))
	if _, err := unix.Pwrite(fd, hdr[:], offMagic); err != nil {
		return fail("writing the header", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		return fail("sealing", err)
	}
	return fd, nil
}

// Map maps the area behind fd, which must be sealed against shrinking
// and hold rings of size bytes, as side; the descriptor may be closed
// once it returns.
func Map(fd int, size int, side Side) (*Conn, error) {
	if !validSize(size) {
		return nil, fmt.Errorf("ring: size %d is not a power of two in %d..%d", size, MinSize, MaxSize)
	}
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil {
		return nil, fmt.Errorf("ring: reading the seals: %w", err)
	}
	if seals&unix.F_SEAL_SHRINK == 0 {
		return nil, errors.New("ring: the area is not sealed against shrinking")
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("ring: fstat: %w", err)
	}
	if st.Size != int64(AreaSize(size)) {
		return nil, fmt.Errorf("%w: %d bytes for rings of %d", ErrCorrupt, st.Size, size)
	}
	mem, err := unix.Mmap(fd, 0, AreaSize(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("ring: mmap: %w", err)
	}
	if binary.LittleEndian.Uint64(mem[offMagic:]) != Magic || binary.LittleEndian.Uint32(mem[offMagic+8:]) != uint32(size) {
		unix.Munmap(mem)
		return nil, fmt.Errorf("%w: bad magic or size", ErrCorrupt)
	}
	return newConn(mem, size, side), nil
}

// word is the uint32 at off in mem, for atomic use.
func word(mem []byte, off int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

// index is the uint64 at off in mem, for atomic use.
func index(mem []byte, off int) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&mem[off]))
}
