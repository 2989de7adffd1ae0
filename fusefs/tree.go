package fusefs

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"kmsd/wire/api"
	"kmsd/wire/client"
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

func (nobody) Call(context.Context, string, api.Message) (api.Message, error) {
	return nil, &api.Error{Code: api.CodeAccessDenied, Message: "the FUSE request carries no caller"}
}

// call runs op for the caller of ctx and logs why it failed, if it did.
func (t *tree) call(ctx context.Context, s Session, op, what string, in api.Message) (api.Message, syscall.Errno) {
	out, err := s.Call(ctx, op, in)
	if err == nil {
		return out, 0
	}
	errno := Errno(err)
	t.refuse(ctx, errno, "op", op, "path", what, "err", err)
	return nil, errno
}

// refuse logs why a request gets errno, with the caller's uid and pid:
// "fuse request failed" at error level for EIO (kmsd's fault), "fuse
// request refused" otherwise. The errno is logged by its name (EINVAL),
// the spelling a reader greps for, never by its message.
func (t *tree) refuse(ctx context.Context, errno syscall.Errno, attrs ...any) {
	attrs = append(attrs, "errno", unix.ErrnoName(errno))
	if c, ok := fuse.FromContext(ctx); ok {
		attrs = append(attrs, "uid", c.Uid, "pid", c.Pid)
	}
	if errno == syscall.EIO {
		t.log.Error("fuse request failed", attrs...)
	} else {
		t.log.Info("fuse request refused", attrs...)
	}
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
	dirAlg                    // <key>/alg: one directory per signing or MAC algorithm of the key
	dirWithAlg                // <key>/alg/<ALGORITHM>: sign, verify and mac with that algorithm
)

// dir is every directory of the tree.
type dir struct {
	fs.Inode
	t      *tree
	kind   dirKind
	prefix string            // dirAliases: the alias name so far, ending in "/" ("" for /keys)
	ref    string            // the key this directory serves ("alias/x" or a key id), if any
	ec     map[string]string // dirWithEC
	alg    string            // dirWithAlg
}

var (
	_ fs.NodeLookuper  = (*dir)(nil)
	_ fs.NodeReaddirer = (*dir)(nil)
	_ fs.NodeGetattrer = (*dir)(nil)
	_ fs.NodeUnlinker  = (*dir)(nil)
	_ fs.NodeRmdirer   = (*dir)(nil)
)

// Unlink and Rmdir refuse with EROFS: the tree is kmsd's keys, which
// rm cannot remove (go-fuse's default would answer success and do
// nothing). Keys are deleted with ScheduleKeyDeletion, aliases with
// DeleteAlias.
func (d *dir) Unlink(ctx context.Context, name string) syscall.Errno { return syscall.EROFS }

// Rmdir refuses with EROFS; see Unlink.
func (d *dir) Rmdir(ctx context.Context, name string) syscall.Errno { return syscall.EROFS }

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
	if d.ref != "" && d.kind != dirContext && d.kind != dirAlg {
		if k, ok := fileKinds[name]; ok && d.kind.has(k) {
			return d.child(ctx, out, &file{t: d.t, kind: k, ref: d.ref, ec: d.ec, alg: d.alg}, syscall.S_IFREG), 0
		}
		if name == "context" && d.kind != dirWithEC && d.kind != dirWithAlg {
			return d.subdir(ctx, out, &dir{kind: dirContext, ref: d.ref}), 0
		}
		if name == "alg" && d.kind != dirWithEC && d.kind != dirWithAlg {
			return d.subdir(ctx, out, &dir{kind: dirAlg, ref: d.ref}), 0
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
		o, errno := d.t.call(ctx, s, api.OpDescribeKey, "keys/by-id/"+name, &api.DescribeKeyInput{KeyId: name})
		if errno != 0 {
			return nil, errno
		}
		if o.(*api.KeyMetadataOutput).KeyMetadata.KeyId != name {
			return nil, syscall.ENOENT // an alias or an ARN: by-id holds key ids only
		}
		return d.subdir(ctx, out, &dir{kind: dirKey, ref: name}), 0
	case dirAlg:
		if !algName.MatchString(name) {
			d.t.refuse(ctx, syscall.ENOENT, "path", "alg/"+name, "err", "not an algorithm's name")
			return nil, syscall.ENOENT
		}
		return d.subdir(ctx, out, &dir{kind: dirWithAlg, ref: d.ref, alg: name}), 0
	case dirContext:
		ec, err := ParseContext(name)
		if err != nil {
			d.t.refuse(ctx, syscall.EINVAL, "path", "context/"+name, "err", err)
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
	_, err := s.Call(ctx, api.OpDescribeKey, &api.DescribeKeyInput{KeyId: full})
	switch errno := Errno(err); errno {
	case 0:
		return d.subdir(ctx, out, &dir{kind: dirAliases, prefix: d.prefix + name + "/", ref: full}), 0
	case syscall.ENOENT:
	default:
		d.t.refuse(ctx, errno, "op", api.OpDescribeKey, "path", "keys/"+d.prefix+name, "err", err)
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
	d.t.refuse(ctx, syscall.ENOENT, "path", "keys/"+d.prefix+name, "err", "no such alias the caller may see")
	return nil, syscall.ENOENT
}

func (d *dir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	if d.t.closing.Load() {
		return nil, syscall.ESHUTDOWN
	}
	var ents []fuse.DirEntry
	add := func(name string, mode uint32) { ents = append(ents, fuse.DirEntry{Name: name, Mode: mode}) }
	if d.ref != "" && d.kind != dirContext && d.kind != dirAlg {
		for k := kindEncrypt; k <= lastKind; k++ {
			if d.kind.has(k) {
				add(k.name(), syscall.S_IFREG)
			}
		}
		if d.kind != dirWithEC && d.kind != dirWithAlg {
			add("alg", syscall.S_IFDIR)
			add("context", syscall.S_IFDIR)
		}
	}
	switch d.kind {
	case dirAlg:
		s := d.t.session(ctx)
		o, errno := d.t.call(ctx, s, api.OpDescribeKey, d.ref+"/alg", &api.DescribeKeyInput{KeyId: d.ref})
		if errno != 0 {
			return nil, errno
		}
		md := o.(*api.KeyMetadataOutput).KeyMetadata
		for _, a := range append(md.SigningAlgorithms, md.MacAlgorithms...) {
			add(a, syscall.S_IFDIR)
		}
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
			if !slices.Contains(seen, seg) && !(d.ref != "" && (seg == "context" || seg == "alg" || fileKinds[seg] != 0)) {
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

// listing is a session whose failures are logged as those of listing
// what: a Caller for the client's paginators.
type listing struct {
	t    *tree
	s    Session
	what string
}

func (l listing) Call(ctx context.Context, op string, in api.Message) (api.Message, error) {
	out, errno := l.t.call(ctx, l.s, op, l.what, in)
	if errno != 0 {
		return nil, errno
	}
	return out, nil
}

// listErrno is the errno of a listing that failed: the call's, or EIO.
func listErrno(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}

// aliases lists every alias name the caller may see, following pages.
func (t *tree) aliases(ctx context.Context, s Session) ([]string, syscall.Errno) {
	all, err := client.NewListAliasesPaginator(listing{t, s, "keys"}, &api.ListAliasesInput{Limit: api.Int32(100)}).All(ctx)
	if err != nil {
		return nil, listErrno(err)
	}
	names := make([]string, len(all))
	for i, a := range all {
		names[i] = a.AliasName
	}
	return names, 0
}

// keyIDs lists every key id the caller may see, following pages.
func (t *tree) keyIDs(ctx context.Context, s Session) ([]string, syscall.Errno) {
	all, err := client.NewListKeysPaginator(listing{t, s, "keys/by-id"}, &api.ListKeysInput{Limit: api.Int32(1000)}).All(ctx)
	if err != nil {
		return nil, listErrno(err)
	}
	ids := make([]string, len(all))
	for i, k := range all {
		ids[i] = k.KeyId
	}
	return ids, 0
}

// algName is what an algorithm's name may be (RSASSA_PSS_SHA_256,
// HMAC_SHA_512): the service says whether the key has it.
var algName = regexp.MustCompile(`^[A-Z0-9_]{1,64}$`)

// has reports whether a directory of the kind holds files of kind k: a
// key's directory every file; context/<segment>/ those that take a
// context; alg/<ALGORITHM>/ sign, verify and mac.
func (d dirKind) has(k fileKind) bool {
	switch d {
	case dirWithEC:
		return k.takesContext()
	case dirWithAlg:
		return k == kindSign || k == kindVerify || k == kindMAC
	}
	return true
}
