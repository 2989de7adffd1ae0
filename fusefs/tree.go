package fusefs

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"kmsd/wire"
)

// entryTTL is how long the kernel may keep a name or an attribute. Names
// live a second so that an alias made on the socket appears within one;
// what a name gives access to is decided again at every open, as the
// opener, so a cached name never grants anything.
const entryTTL = time.Second

// tree is what every node of one mount shares.
type tree struct {
	svc     Service
	log     *slog.Logger
	closing atomic.Bool
}

// session is the caller of the request ctx belongs to.
func (t *tree) session(ctx context.Context) Session {
	c, ok := fuse.FromContext(ctx)
	if !ok {
		return nobody{} // every request comes from the kernel; fail closed if one does not
	}
	return t.svc.Session(c.Pid, c.Uid, c.Gid)
}

// nobody is the session of a request without a caller: it may do nothing.
type nobody struct{}

func (nobody) Call(context.Context, string, wire.Message) (wire.Message, error) {
	return nil, &wire.Error{Code: wire.CodeAccessDenied, Message: "the FUSE request carries no caller"}
}

// call runs op for the caller of ctx and logs why it failed, if it did.
func (t *tree) call(ctx context.Context, s Session, op, what string, in wire.Message) (wire.Message, syscall.Errno) {
	out, err := s.Call(ctx, op, in)
	if err == nil {
		return out, 0
	}
	errno := Errno(err)
	attrs := []any{"op", op, "path", what, "errno", errno.Error(), "err", err}
	if c, ok := fuse.FromContext(ctx); ok {
		attrs = append(attrs, "uid", c.Uid, "pid", c.Pid)
	}
	if errno == syscall.EIO {
		t.log.Error("fuse request failed", attrs...)
	} else {
		t.log.Info("fuse request refused", attrs...)
	}
	return nil, errno
}

// dirKind says what a directory lists.
type dirKind uint8

const (
	dirRoot    dirKind = iota // the mount root: keys
	dirAliases                // /keys and alias-name prefixes below it; a key's files too when ref is set
	dirByID                   // /keys/by-id
	dirKey                    // /keys/by-id/<key-id>: a key's files
	dirContext                // <key>/context: one directory per context segment, none listed
	dirWithEC                 // <key>/context/<segment>: the transaction files, with that context
)

// dir is every directory of the tree.
type dir struct {
	fs.Inode
	t      *tree
	kind   dirKind
	prefix string            // dirAliases: the alias name so far, ending in "/" ("" for /keys)
	ref    string            // the key this directory serves ("alias/x" or a key id), if any
	ec     map[string]string // dirWithEC
}

var (
	_ fs.NodeLookuper  = (*dir)(nil)
	_ fs.NodeReaddirer = (*dir)(nil)
	_ fs.NodeGetattrer = (*dir)(nil)
)

func (d *dir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | 0o555
	out.SetTimeout(entryTTL)
	return 0
}

func (d *dir) child(ctx context.Context, out *fuse.EntryOut, n fs.InodeEmbedder, mode uint32) *fs.Inode {
	out.SetEntryTimeout(entryTTL)
	out.SetAttrTimeout(entryTTL)
	if mode&syscall.S_IFDIR != 0 {
		out.Mode = mode | 0o555
	} else {
		out.Mode = mode | n.(*file).kind.perm()
	}
	return d.NewInode(ctx, n, fs.StableAttr{Mode: mode})
}

func (d *dir) subdir(ctx context.Context, out *fuse.EntryOut, sub *dir) *fs.Inode {
	sub.t = d.t
	return d.child(ctx, out, sub, syscall.S_IFDIR)
}

func (d *dir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if d.t.closing.Load() {
		return nil, syscall.ESHUTDOWN
	}
	if d.ref != "" && d.kind != dirContext {
		if k, ok := fileKinds[name]; ok && (d.kind != dirWithEC || k.takesContext()) {
			return d.child(ctx, out, &file{t: d.t, kind: k, ref: d.ref, ec: d.ec}, syscall.S_IFREG), 0
		}
		if name == "context" && d.kind != dirWithEC {
			return d.subdir(ctx, out, &dir{kind: dirContext, ref: d.ref}), 0
		}
	}
	switch d.kind {
	case dirRoot:
		if name == "keys" {
			return d.subdir(ctx, out, &dir{kind: dirAliases}), 0
		}
	case dirAliases:
		if d.prefix == "" && name == "by-id" {
			return d.subdir(ctx, out, &dir{kind: dirByID}), 0
		}
		return d.lookupAlias(ctx, name, out)
	case dirByID:
		s := d.t.session(ctx)
		o, errno := d.t.call(ctx, s, wire.OpDescribeKey, "keys/by-id/"+name, &wire.DescribeKeyInput{KeyId: name})
		if errno != 0 {
			return nil, errno
		}
		if o.(*wire.KeyMetadataOutput).KeyMetadata.KeyId != name {
			return nil, syscall.ENOENT // an alias or an ARN: by-id holds key ids only
		}
		return d.subdir(ctx, out, &dir{kind: dirKey, ref: name}), 0
	case dirContext:
		ec, err := ParseContext(name)
		if err != nil {
			d.t.log.Info("fuse request refused", "path", "context/"+name, "errno", "EINVAL", "err", err)
			return nil, syscall.EINVAL
		}
		return d.subdir(ctx, out, &dir{kind: dirWithEC, ref: d.ref, ec: ec}), 0
	}
	return nil, syscall.ENOENT
}

// lookupAlias finds prefix+name: an alias (a key directory that may also
// hold longer alias names), or only the beginning of longer names.
func (d *dir) lookupAlias(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	full := "alias/" + d.prefix + name
	s := d.t.session(ctx)
	// Not found is not yet an answer (full may begin longer names), so
	// only other errors are logged here.
	_, err := s.Call(ctx, wire.OpDescribeKey, &wire.DescribeKeyInput{KeyId: full})
	switch errno := Errno(err); errno {
	case 0:
		return d.subdir(ctx, out, &dir{kind: dirAliases, prefix: d.prefix + name + "/", ref: full}), 0
	case syscall.ENOENT:
	default:
		d.t.log.Info("fuse request refused", "op", wire.OpDescribeKey, "path", "keys/"+d.prefix+name, "errno", errno.Error(), "err", err)
		return nil, errno
	}
	names, errno := d.t.aliases(ctx, s)
	if errno != 0 {
		return nil, errno
	}
	for _, a := range names {
		if strings.HasPrefix(a, full+"/") {
			return d.subdir(ctx, out, &dir{kind: dirAliases, prefix: d.prefix + name + "/"}), 0
		}
	}
	d.t.log.Info("fuse request refused", "path", "keys/"+d.prefix+name, "errno", syscall.ENOENT.Error(), "err", "no such alias the caller may see")
	return nil, syscall.ENOENT
}

func (d *dir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	if d.t.closing.Load() {
		return nil, syscall.ESHUTDOWN
	}
	var ents []fuse.DirEntry
	add := func(name string, mode uint32) { ents = append(ents, fuse.DirEntry{Name: name, Mode: mode}) }
	if d.ref != "" && d.kind != dirContext {
		for k := kindEncrypt; k <= kindPolicy; k++ {
			if d.kind != dirWithEC || k.takesContext() {
				add(k.name(), syscall.S_IFREG)
			}
		}
		if d.kind != dirWithEC {
			add("context", syscall.S_IFDIR)
		}
	}
	switch d.kind {
	case dirRoot:
		add("keys", syscall.S_IFDIR)
	case dirAliases:
		if d.prefix == "" {
			add("by-id", syscall.S_IFDIR)
		}
		names, errno := d.t.aliases(ctx, d.t.session(ctx))
		if errno != 0 {
			return nil, errno
		}
		var seen []string
		for _, a := range names {
			rest, ok := strings.CutPrefix(a, "alias/"+d.prefix)
			if !ok || rest == "" {
				continue
			}
			seg, _, _ := strings.Cut(rest, "/")
			if !slices.Contains(seen, seg) && !(d.ref != "" && (seg == "context" || fileKinds[seg] != 0)) {
				seen = append(seen, seg)
				add(seg, syscall.S_IFDIR)
			}
		}
	case dirByID:
		ids, errno := d.t.keyIDs(ctx, d.t.session(ctx))
		if errno != 0 {
			return nil, errno
		}
		for _, id := range ids {
			add(id, syscall.S_IFDIR)
		}
	}
	return fs.NewListDirStream(ents), 0
}

// aliases lists every alias name the caller may see, following pages.
func (t *tree) aliases(ctx context.Context, s Session) ([]string, syscall.Errno) {
	var names []string
	in := &wire.ListAliasesInput{Limit: 100}
	for {
		o, errno := t.call(ctx, s, wire.OpListAliases, "keys", in)
		if errno != 0 {
			return nil, errno
		}
		la := o.(*wire.ListAliasesOutput)
		for _, a := range la.Aliases {
			names = append(names, a.AliasName)
		}
		if !la.Truncated || la.NextMarker == "" {
			return names, 0
		}
		in = &wire.ListAliasesInput{Limit: 100, Marker: la.NextMarker}
	}
}

// keyIDs lists every key id the caller may see, following pages.
func (t *tree) keyIDs(ctx context.Context, s Session) ([]string, syscall.Errno) {
	var ids []string
	in := &wire.ListKeysInput{Limit: 1000}
	for {
		o, errno := t.call(ctx, s, wire.OpListKeys, "keys/by-id", in)
		if errno != 0 {
			return nil, errno
		}
		lk := o.(*wire.ListKeysOutput)
		for _, k := range lk.Keys {
			ids = append(ids, k.KeyId)
		}
		if !lk.Truncated || lk.NextMarker == "" {
			return ids, 0
		}
		in = &wire.ListKeysInput{Limit: 1000, Marker: lk.NextMarker}
	}
}
