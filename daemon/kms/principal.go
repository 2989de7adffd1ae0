package kms

import (
	"context"
	"fmt"
)

// Principal is who is calling, as the kernel says: taken from SO_PEERCRED
// when a socket connection is accepted (or from the FUSE request at open)
// and carried by every request of that connection.
type Principal struct {
	UID    uint32
	GID    uint32
	PID    int32 // 0 when the kernel could not tell
	Source string
}

// String names the principal for logs: "uid:1000 gid:1000 pid:42".
func (p *Principal) String() string {
	if p == nil {
		return "unknown"
	}
	return fmt.Sprintf("uid:%d gid:%d pid:%d", p.UID, p.GID, p.PID)
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal a context carries, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
