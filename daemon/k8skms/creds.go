package k8skms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"kmsd/daemon/identity"
	"kmsd/daemon/policy"
)

// peerCreds are the plugin's transport "credentials": no TLS (the socket
// is local), but the handshake reads who is at the other end, as the
// kernel says (identity.FromConn), counts the connection in kmsd's
// limits, and hands the principal to every request on it.
type peerCreds struct{ p Pipeline }

// peerInfo is a connection's caller.
type peerInfo struct {
	credentials.CommonAuthInfo
	p *policy.Principal
}

func (peerInfo) AuthType() string { return "kmsd-peercred" }

func (c peerCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	uc, ok := raw.(*net.UnixConn)
	if !ok {
		return nil, nil, errors.New("the KMS plugin serves Unix sockets only")
	}
	pr, err := identity.FromConn(uc)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the caller: %w", err)
	}
	pr.Source = "k8s"
	if ok, why := c.p.AdmitConn(pr.UID); !ok {
		return nil, nil, fmt.Errorf("connection refused: %s", why)
	}
	return &countedConn{Conn: raw, release: func() { c.p.ReleaseConn(pr.UID) }},
		peerInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}, p: pr}, nil
}

func (peerCreds) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("kmsd's KMS plugin credentials are a server's")
}

func (peerCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "kmsd-peercred"}
}

func (c peerCreds) Clone() credentials.TransportCredentials { return c }

func (peerCreds) OverrideServerName(string) error { return nil }

// countedConn gives its place in the connection limits back once, when
// closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// callerOf is the principal of the connection a request came on.
func callerOf(ctx context.Context) *policy.Principal {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	if info, ok := p.AuthInfo.(peerInfo); ok {
		return info.p
	}
	return nil
}
