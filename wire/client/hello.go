package client

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"kmsd/wire"
	"kmsd/wire/api"
	"kmsd/wire/ring"
)

// hello exchanges Hello on a new connection before its reader and
// sender start, asking for shared-memory rings unless the options say
// not to; it returns kmsd's answer and, when kmsd gave rings, the
// client's mapping of them.
func (c *Client) hello(ctx context.Context, uc *net.UnixConn) (*api.HelloOutput, *ring.Conn, error) {
	uc.SetDeadline(time.Now().Add(c.opts.DialTimeout))
	stop := context.AfterFunc(ctx, func() { uc.SetDeadline(time.Now()) })
	defer stop()
	in := &api.HelloInput{ProtocolVersion: wire.ProtocolVersion, Client: c.opts.Client, Ring: !c.opts.NoRing,
		RingSize: int32(min(max(c.opts.RingSize, 0), ring.MaxSize))}
	out, fd, err := exchangeHello(uc, c.nextID.Add(1), in)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, nil, fmt.Errorf("%w: the server at %s accepted the connection but did not answer Hello within %v: is it kmsd, and is it serving?", ErrConnection, c.path, c.opts.DialTimeout)
		}
		return nil, nil, err
	}
	uc.SetDeadline(time.Time{})
	if fd >= 0 {
		defer unix.Close(fd)
	}
	switch {
	case out.Ring == 0 && fd < 0:
		return out, nil, nil
	case out.Ring == 0 || fd < 0 || !in.Ring:
		return nil, nil, fmt.Errorf("%w: kmsd's Hello answer says rings of %d bytes but carries %s", ErrConnection, out.Ring, map[bool]string{true: "a descriptor", false: "none"}[fd >= 0])
	}
	rc, err := ring.Map(fd, int(out.Ring), ring.Client)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: mapping kmsd's rings: %v", ErrConnection, err)
	}
	bell, err := ring.NewSocketBell(uc)
	if err != nil {
		rc.Unmap()
		return nil, nil, fmt.Errorf("%w: %v", ErrConnection, err)
	}
	rc.SetBell(bell)
	return out, rc, nil
}

// exchangeHello sends in and reads the answer, and the descriptor that
// may come with it (-1 if none), with nothing else in flight.
func exchangeHello(uc *net.UnixConn, id uint64, in *api.HelloInput) (*api.HelloOutput, int, error) {
	frame, err := wire.AppendRequest(nil, id, api.OpHello, in)
	if err != nil {
		return nil, -1, err
	}
	if _, err := uc.Write(frame); err != nil {
		return nil, -1, fmt.Errorf("%w: %v", ErrConnection, err)
	}
	fd := -1
	keep := func(fds []int) {
		for _, f := range fds {
			if fd < 0 {
				fd = f
			} else {
				unix.Close(f) // one area per connection: anything more is not ours to keep
			}
		}
	}
	fail := func(err error) (*api.HelloOutput, int, error) {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, -1, err
	}
	buf := make([]byte, 0, 1024)
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		if len(buf) >= wire.FrameHeaderSize {
			n := int(binary.BigEndian.Uint32(buf))
			if n == 0 || n > 64<<10 {
				return fail(fmt.Errorf("%w: a Hello answer of %d bytes", ErrConnection, n))
			}
			if len(buf) == wire.FrameHeaderSize+n {
				break
			}
			if len(buf) > wire.FrameHeaderSize+n {
				return fail(fmt.Errorf("%w: kmsd sent more than its Hello answer", ErrConnection))
			}
			if cap(buf) < wire.FrameHeaderSize+n {
				buf = append(make([]byte, 0, wire.FrameHeaderSize+n), buf...)
			}
		}
		k, oobn, _, _, err := uc.ReadMsgUnix(buf[len(buf):cap(buf)], oob)
		if oobn > 0 {
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for i := range msgs {
				fds, _ := unix.ParseUnixRights(&msgs[i])
				keep(fds)
			}
		}
		if err != nil {
			return fail(fmt.Errorf("%w: %w", ErrConnection, err))
		}
		buf = buf[:len(buf)+k]
		if k == 0 {
			return fail(fmt.Errorf("%w: the connection ended before the Hello answer", ErrConnection))
		}
	}
	resp, err := wire.DecodeResponseCopy(buf[wire.FrameHeaderSize:], func(uint64) (*api.OpSpec, bool) { return api.Lookup(api.OpHello), true })
	switch {
	case err != nil:
		return fail(fmt.Errorf("%w: %v", ErrConnection, err))
	case resp.Err != nil:
		return fail(resp.Err)
	}
	out, ok := resp.Body.(*api.HelloOutput)
	if !ok || resp.ID != id {
		return fail(fmt.Errorf("%w: not an answer to Hello", ErrConnection))
	}
	return out, fd, nil
}
