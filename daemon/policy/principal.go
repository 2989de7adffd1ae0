package policy

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// Principal is who is calling, as the kernel says: taken from SO_PEERCRED
// and /proc when a socket connection is accepted, or from the FUSE request
// when a file is opened, and carried by every request of that connection or
// file handle.
type Principal struct {
	UID    uint32
	GID    uint32
	Groups []uint32 // supplementary groups
	PID    int32    // 0 when the kernel could not tell
	Exe    string   // the executable, "" when it could not be read
	// Unit is the systemd unit the process runs in ("" if none or if it
	// could not be verified against pid reuse). A root process can move
	// itself into any cgroup, so a unit names a non-root caller reliably.
	Unit   string
	Source string // "socket", "fuse" or "kmsd" (the daemon itself)

	key atomic.Pointer[string] // DecisionKey, computed on first use
}

// DecisionKey is not a name but what every policy decision about the
// caller depends on: its uid, gid, groups and unit. Two principals with
// the same key get the same decisions, so decisions are cached by it. It
// is safe for concurrent use; the principal must not change after its
// first use.
func (p *Principal) DecisionKey() string {
	if k := p.key.Load(); k != nil {
		return *k
	}
	groups := slices.Clone(p.Groups)
	slices.Sort(groups)
	k := fmt.Sprintf("%s gid:%d groups:%v", p, p.GID, groups)
	p.key.Store(&k) // racing callers store the same value
	return k
}

// InGroup reports whether gid is the principal's primary or a
// supplementary group.
func (p *Principal) InGroup(gid uint32) bool {
	return p.GID == gid || slices.Contains(p.Groups, gid)
}

// String is the caller's name, the one usage counts, logs and error
// messages give it: "uid:1000", or "uid:1000 unit:nginx.service" for a
// process of a systemd unit.
func (p *Principal) String() string {
	if p == nil {
		return "unknown"
	}
	s := "uid:" + strconv.FormatUint(uint64(p.UID), 10)
	if p.Unit != "" {
		s += " unit:" + p.Unit
	}
	return s
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the principal a context carries, or nil.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Kind of a host principal.
type Kind uint8

const (
	Anyone Kind = iota // "*"
	UID                // uid:N, user:NAME
	GID                // gid:N, group:NAME
	Unit               // unit:NAME
)

// HostPrincipal is one parsed principal of a policy or grant: the form
// the user wrote and what it resolved to.
type HostPrincipal struct {
	Text string
	Kind Kind
	ID   uint32 // uid or gid
	Unit string
}

// Matches reports whether the caller is this principal.
func (h HostPrincipal) Matches(p *Principal) bool {
	switch h.Kind {
	case Anyone:
		return true
	case UID:
		return p.UID == h.ID
	case GID:
		return p.InGroup(h.ID)
	case Unit:
		return p.Unit != "" && p.Unit == h.Unit
	}
	return false
}

// Resolver looks up user and group names. OSResolver uses the system's
// databases; tests substitute their own.
type Resolver interface {
	LookupUser(name string) (uint32, error)
	LookupGroup(name string) (uint32, error)
}

// ParsePrincipal parses one host principal: *, uid:N, user:NAME, gid:N,
// group:NAME or unit:NAME (a systemd .service or .scope).
func ParsePrincipal(s string, r Resolver) (HostPrincipal, error) {
	if s == "*" {
		return HostPrincipal{Text: s, Kind: Anyone}, nil
	}
	kind, val, ok := strings.Cut(s, ":")
	if !ok || val == "" {
		return HostPrincipal{}, fmt.Errorf("%q is not a principal (want uid:N, user:NAME, gid:N, group:NAME, unit:NAME or *)", s)
	}
	h := HostPrincipal{Text: s}
	switch kind {
	case "uid", "gid":
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil {
			return h, fmt.Errorf("%q: %s must be a number", s, kind)
		}
		h.ID, h.Kind = uint32(n), UID
		if kind == "gid" {
			h.Kind = GID
		}
	case "user":
		id, err := r.LookupUser(val)
		if err != nil {
			return h, fmt.Errorf("%q: no such user", s)
		}
		h.ID, h.Kind = id, UID
	case "group":
		id, err := r.LookupGroup(val)
		if err != nil {
			return h, fmt.Errorf("%q: no such group", s)
		}
		h.ID, h.Kind = id, GID
	case "unit":
		if !validUnit(val) {
			return h, fmt.Errorf("%q: a unit is a systemd unit name ending in .service or .scope", s)
		}
		h.Unit, h.Kind = val, Unit
	default:
		return h, fmt.Errorf("%q: unknown principal kind %q (want uid, user, gid, group or unit)", s, kind)
	}
	return h, nil
}

func validUnit(u string) bool {
	if len(u) > 255 || !(strings.HasSuffix(u, ".service") || strings.HasSuffix(u, ".scope")) {
		return false
	}
	for _, c := range u {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(":_.@-\\", c)) {
			return false
		}
	}
	return strings.IndexByte(u, '.') > 0
}
