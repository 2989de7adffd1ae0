package awsapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"kmsd/daemon/awsapi/sigv4"
	"kmsd/daemon/kms"
	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/wire/api"
)

// Access keys sign requests to the AWS endpoint on TCP. Each maps to a
// host principal (uid:N). kmsd stores no secret: a key's secret is
// HMAC-SHA256, under a key derived from the material of kmsd's own
// "access-keys" key, of the key's id; so it is sealed under the root key
// as every key's material is, survives restarts, root-key rotations,
// backups and restores, and a deleted key's secret opens nothing, its id
// being gone from the table.
const (
	metaAccessKeys = "access-keys" // the table, JSON, in the store's metadata
	maxAccessKeys  = 1000
	// maxAccessKeysPerUID bounds one uid's keys (not root's), and
	// rootKeysReserve is the part of maxAccessKeys only root's keys may
	// take: no user can use up the keys everyone else needs.
	maxAccessKeysPerUID = 10
	rootKeysReserve     = 100
	accessKeyIDLen      = 20
	accessKeyIDStart    = "KMSD"
	accessKeyActive     = "Active"
)

// accessKey is one row of the table: no secret.
type accessKey struct {
	AccessKeyId string
	UID         uint32
	CreateDate  time.Time
}

func (k accessKey) principal() string { return "uid:" + strconv.FormatUint(uint64(k.UID), 10) }

// Keys are the access keys: the table, and the requests it signs.
type Keys struct {
	svc  *kms.Service
	log  *slog.Logger
	t    accessKeys
	seen seenSignatures // of state-changing requests served (replay.go)
}

// NewKeys makes the access keys of svc's store; the table is read on
// first use.
func NewKeys(svc *kms.Service, log *slog.Logger) *Keys { return &Keys{svc: svc, log: log} }

// accessKeys is the table, loaded from the store on first use.
type accessKeys struct {
	mu     sync.RWMutex
	loaded bool
	rev    int64 // the table's revision in the store when loaded (kms.Service.MetaRevision)
	keys   []accessKey
	prf    []byte // the secrets' key (kms.Service.DerivedKey)

	pmu        sync.Mutex
	principals map[uint32]cachedPrincipal // by uid, for principalTTL
}

// table reads the table and derives the secrets' key, once; on a fleet
// host, again whenever another host changed the table.
func (ks *Keys) table() (*accessKeys, error) {
	t := &ks.t
	rev := ks.svc.MetaRevision(metaAccessKeys)
	t.mu.RLock()
	current := t.loaded && t.rev == rev
	t.mu.RUnlock()
	if current {
		return t, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.loaded && t.rev == rev {
		return t, nil
	}
	svc := ks.svc
	prf := t.prf
	if prf == nil {
		var err error
		if prf, err = svc.DerivedKey("access-keys", "aws-sigv4-k1"); err != nil {
			return nil, fmt.Errorf("access keys: %w", err)
		}
	}
	v, err := keystore.GetMeta(svc.Store(), metaAccessKeys)
	if err != nil {
		return nil, fmt.Errorf("access keys: %w", err)
	}
	var keys []accessKey
	if v != nil {
		if err := json.Unmarshal(v, &keys); err != nil {
			return nil, fmt.Errorf("access keys: the stored table does not decode: %w", err)
		}
	}
	t.keys, t.prf, t.loaded, t.rev = keys, prf, true, rev
	return t, nil
}

// secret is the secret of the access key id (whether or not it exists).
func (t *accessKeys) secret(id string) []byte {
	m := hmac.New(sha256.New, t.prf)
	m.Write([]byte("kmsd/v1/access-key/" + id))
	return []byte(base64.StdEncoding.EncodeToString(m.Sum(nil)[:30])) // 40 characters, as AWS's
}

// find returns the key with id.
func (t *accessKeys) find(id string) (accessKey, bool) {
	i := slices.IndexFunc(t.keys, func(k accessKey) bool { return k.AccessKeyId == id })
	if i < 0 {
		return accessKey{}, false
	}
	return t.keys[i], true
}

// save writes the table (the caller holds mu).
func (ks *Keys) save(keys []accessKey) error {
	v, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	if err := ks.svc.PutMeta("AccessKeys", metaAccessKeys, v, ks.t.rev); err != nil {
		return err
	}
	ks.t.rev = ks.svc.MetaRevision(metaAccessKeys)
	return nil
}

// principalUID parses "uid:N", or "" for the caller's own uid.
func principalUID(name string, caller *policy.Principal) (uint32, error) {
	if name == "" {
		return caller.UID, nil
	}
	n, ok := strings.CutPrefix(name, "uid:")
	uid, err := strconv.ParseUint(n, 10, 32)
	if !ok || err != nil {
		return 0, &api.Error{Code: api.CodeValidation, Message: "Principal must be uid:N, not " + strconv.Quote(name)}
	}
	return uint32(uid), nil
}

// CreateAccessKey serves CreateAccessKey: a key for the caller, or, for
// root, for any uid. Not for the admin group: a key acts as its uid, so
// an admin who could issue one for another uid (root's, or a user's
// whose keys the admin group cannot use) would act with more than an
// admin's rights.
func (ks *Keys) CreateAccessKey(ctx context.Context, m api.Message) (api.Message, error) {
	in, p := m.(*api.CreateAccessKeyInput), policy.From(ctx)
	if p == nil {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "the request carries no caller identity"}
	}
	uid, err := principalUID(in.Principal, p)
	if err != nil {
		return nil, err
	}
	if uid != p.UID && p.UID != 0 {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: p.String() + " may issue access keys for itself only (root issues them for others)"}
	}
	t, err := ks.table()
	if err != nil {
		return nil, err
	}
	var raw [10]byte
	rand.Read(raw[:])
	k := accessKey{AccessKeyId: accessKeyIDStart + base32.StdEncoding.EncodeToString(raw[:]), UID: uid, CreateDate: time.Now().UTC().Truncate(time.Second)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) >= maxAccessKeys {
		return nil, &api.Error{Code: api.CodeLimitExceeded, Message: "the quota of " + strconv.Itoa(maxAccessKeys) + " access keys is reached"}
	}
	if uid != 0 {
		mine := 0
		for _, k := range t.keys {
			if k.UID == uid {
				mine++
			}
		}
		switch {
		case mine >= maxAccessKeysPerUID:
			return nil, &api.Error{Code: api.CodeLimitExceeded, Message: k.principal() + " has " + strconv.Itoa(maxAccessKeysPerUID) + " access keys, the most one user may have; delete one first"}
		case len(t.keys) >= maxAccessKeys-rootKeysReserve:
			return nil, &api.Error{Code: api.CodeLimitExceeded, Message: "the access keys are at their quota for users (the rest is kept for root's)"}
		}
	}
	keys := append(slices.Clone(t.keys), k)
	if err := ks.save(keys); err != nil {
		return nil, err
	}
	t.keys = keys
	ks.log.Info("access key created", "access_key_id", k.AccessKeyId, "principal", k.principal(), "by", p.String())
	return &api.CreateAccessKeyOutput{AccessKey: api.AccessKey{UserName: k.principal(), AccessKeyId: k.AccessKeyId,
		Status: accessKeyActive, SecretAccessKey: string(t.secret(k.AccessKeyId)), CreateDate: k.CreateDate}}, nil
}

// ListAccessKeys serves ListAccessKeys: the caller's, or, for an
// administrator, all.
func (ks *Keys) ListAccessKeys(ctx context.Context, m api.Message) (api.Message, error) {
	svc := ks.svc
	in, p := m.(*api.ListAccessKeysInput), policy.From(ctx)
	if p == nil {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "the request carries no caller identity"}
	}
	admin := svc.IsAdmin(ctx)
	only := -1
	if in.Principal != "" || !admin {
		uid, err := principalUID(in.Principal, p)
		if err != nil {
			return nil, err
		}
		if uid != p.UID && !admin {
			return nil, &api.Error{Code: api.CodeAccessDenied, Message: p.String() + " may list its own access keys only"}
		}
		only = int(uid)
	}
	t, err := ks.table()
	if err != nil {
		return nil, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := &api.ListAccessKeysOutput{}
	for _, k := range t.keys {
		if only < 0 || k.UID == uint32(only) {
			out.AccessKeyMetadata = append(out.AccessKeyMetadata, api.AccessKeyMetadata{UserName: k.principal(),
				AccessKeyId: k.AccessKeyId, Status: accessKeyActive, CreateDate: k.CreateDate})
		}
	}
	return out, nil
}

// DeleteAccessKey serves DeleteAccessKey: the caller's own, or, for an
// administrator, any.
func (ks *Keys) DeleteAccessKey(ctx context.Context, m api.Message) (api.Message, error) {
	svc := ks.svc
	in, p := m.(*api.DeleteAccessKeyInput), policy.From(ctx)
	if p == nil {
		return nil, &api.Error{Code: api.CodeAccessDenied, Message: "the request carries no caller identity"}
	}
	t, err := ks.table()
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.find(in.AccessKeyId)
	if !ok || (k.UID != p.UID && !svc.IsAdmin(ctx)) {
		return nil, &api.Error{Code: api.CodeNotFound, Message: "no access key " + strconv.Quote(in.AccessKeyId) + " that " + p.String() + " may delete"}
	}
	keys := slices.DeleteFunc(slices.Clone(t.keys), func(x accessKey) bool { return x.AccessKeyId == k.AccessKeyId })
	if err := ks.save(keys); err != nil {
		return nil, err
	}
	t.keys = keys
	ks.log.Info("access key deleted", "access_key_id", k.AccessKeyId, "principal", k.principal(), "by", p.String())
	return &api.Empty{}, nil
}

// Verify authenticates a request to the AWS endpoint on TCP: its
// Signature Version 4, by an access key in the table, names the principal
// it acts as (with the user's groups, as the system's user database has
// them at the time of the request).
//
// A request of an operation that changes state (once verified) is served
// once per signature: the same signature again is refused (replay.go).
func (ks *Keys) Verify(r *http.Request, body []byte, op *api.OpSpec) (*policy.Principal, *api.Error) {
	t, err := ks.table()
	if err != nil {
		ks.log.Error("aws endpoint: access keys", "err", err)
		return nil, &api.Error{Code: api.CodeInternal, Message: "kmsd cannot read its access keys; the daemon log has the cause"}
	}
	var owner accessKey
	_, serr := sigv4.Verify(r, body, "kms", time.Now(), func(id string) ([]byte, bool) {
		t.mu.RLock()
		defer t.mu.RUnlock()
		k, ok := t.find(id)
		owner = k
		return t.secret(id), ok
	})
	if serr != nil {
		return nil, &api.Error{Code: serr.Code, Message: serr.Message}
	}
	if !op.SafeToRepeat() && !ks.seen.first(sigv4.SignatureOf(r), time.Now()) {
		return nil, replayed()
	}
	return ks.t.principal(owner.UID), nil
}

// Identify checks a TCP request's signature header before its body is
// read (sigv4.CheckHeader): it returns the principal of the access key the
// header names, and the key's id. Only Verify, with the body, proves
// the request was signed with it.
func (ks *Keys) Identify(r *http.Request) (*policy.Principal, string, *api.Error) {
	t, err := ks.table()
	if err != nil {
		ks.log.Error("aws endpoint: access keys", "err", err)
		return nil, "", &api.Error{Code: api.CodeInternal, Message: "kmsd cannot read its access keys; the daemon log has the cause"}
	}
	var owner accessKey
	cred, serr := sigv4.CheckHeader(r, "kms", time.Now(), func(id string) bool {
		t.mu.RLock()
		defer t.mu.RUnlock()
		k, ok := t.find(id)
		owner = k
		return ok
	})
	if serr == nil {
		// the operation and its body's type are part of what is signed
		serr = sigv4.RequireSigned(r, "content-type", "x-amz-target")
	}
	if serr != nil {
		return nil, "", &api.Error{Code: serr.Code, Message: serr.Message}
	}
	return ks.t.principal(owner.UID), cred.AccessKeyID, nil
}

// principalTTL is how long a user's groups, read from the user database,
// are taken as they were: a request signed with an access key acts with
// its user's groups as of at most this long ago.
const principalTTL = 5 * time.Second

// cachedPrincipal is a user's principal and when it was read.
type cachedPrincipal struct {
	p    *policy.Principal
	read time.Time
}

// principal is uid's principal, from the user database at most
// principalTTL ago (a lookup costs more than the rest of a request).
func (t *accessKeys) principal(uid uint32) *policy.Principal {
	now := time.Now()
	t.pmu.Lock()
	defer t.pmu.Unlock()
	if c, ok := t.principals[uid]; ok && now.Sub(c.read) < principalTTL {
		return c.p
	}
	if t.principals == nil || len(t.principals) >= maxAccessKeys {
		t.principals = map[uint32]cachedPrincipal{}
	}
	p := principalOfUID(uid)
	t.principals[uid] = cachedPrincipal{p, now}
	return p
}

// principalOfUID is a host user as a principal: its primary group and its
// supplementary groups from the user database; a uid the database does
// not know has no groups (and gid -1, which matches none).
func principalOfUID(uid uint32) *policy.Principal {
	p := &policy.Principal{UID: uid, GID: ^uint32(0), Source: "aws"}
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return p
	}
	if gid, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
		p.GID = uint32(gid)
	}
	if ids, err := u.GroupIds(); err == nil {
		for _, g := range ids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				p.Groups = append(p.Groups, uint32(n))
			}
		}
	}
	return p
}
