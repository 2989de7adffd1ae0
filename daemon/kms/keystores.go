package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/keystore/hsm"
	"kmsd/wire/api"
)

// Custom key stores keep keys in a PKCS#11 token: kmsd's equivalent of
// AWS's CloudHSM key stores. A store's record (store metadata, with the
// others) names the module, the token and the file its PIN is read from
// when the store connects: the PIN is never sent, stored or logged.
// Creating, changing, connecting and deleting stores is for root and the
// admin group. A store stays connected across restarts (kmsd connects it
// at start) until it is disconnected.

const (
	metaKeyStores     = "custom-key-stores"
	maxKeyStores      = 64
	maxKeyStoreName   = 256
	maxPINFile        = 1024
	credentialPrefix  = "credential:"
	keyStoreIDPrefix  = "cks-"
	keyStoreIDHexSize = 17
)

// keyStoreRecord is a store as it is kept.
type keyStoreRecord struct {
	ID           string    `json:"CustomKeyStoreId"`
	Name         string    `json:"CustomKeyStoreName"`
	Module       string    `json:"Pkcs11Module"`
	TokenLabel   string    `json:"TokenLabel,omitempty"`
	TokenSerial  string    `json:"TokenSerial,omitempty"`
	PINFile      string    `json:"KeyStorePasswordFile"`
	CreationDate time.Time `json:"CreationDate"`
	Connect      bool      `json:"Connect"` // connected by the operator: kmsd connects it at start
}

// keyStore is a store and its connection.
type keyStore struct {
	rec     keyStoreRecord
	state   string
	errCode string
	reason  string     // why the last connection failed
	token   *hsm.Token // while CONNECTED
	serial  string     // the token's serial, as last connected
}

// keyStores are the service's stores.
type keyStores struct {
	mu sync.RWMutex
	m  map[string]*keyStore
}

// loadKeyStores reads the stores and connects those left connected.
func (s *Service) loadKeyStores() error {
	v, err := keystore.GetMeta(s.store, metaKeyStores)
	if err != nil {
		return err
	}
	var recs []keyStoreRecord
	if v != nil {
		if err := json.Unmarshal(v, &recs); err != nil {
			return fmt.Errorf("custom key stores: %w", err)
		}
	}
	s.stores.m = map[string]*keyStore{}
	for _, r := range recs {
		ks := &keyStore{rec: r, state: api.ConnectionDisconnected}
		s.stores.m[r.ID] = ks
		if r.Connect {
			s.connect(ks)
		}
	}
	return nil
}

// saveKeyStores writes every store's record (the caller holds stores.mu).
func (s *Service) saveKeyStores() error {
	recs := make([]keyStoreRecord, 0, len(s.stores.m))
	for _, ks := range s.stores.m {
		recs = append(recs, ks.rec)
	}
	slices.SortFunc(recs, func(a, b keyStoreRecord) int { return strings.Compare(a.ID, b.ID) })
	v, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	var b keystore.Batch
	b.PutMeta(metaKeyStores, v)
	return s.write("CustomKeyStore", &b)
}

// adminOnly refuses callers other than root and the admin group.
func (s *Service) adminOnly(ctx context.Context, op string) error {
	if !s.isAdmin(policy.From(ctx)) {
		return errorf(api.CodeAccessDenied, "only root and the admin group may %s", op)
	}
	return nil
}

// rootOnly refuses callers other than root: what only root may do, not
// even the admin group, because it would let them act as root.
func rootOnly(ctx context.Context, what string) error {
	if p := policy.From(ctx); p == nil || p.UID != 0 {
		return errorf(api.CodeAccessDenied, "only root may %s", what)
	}
	return nil
}

// readPIN reads a store's PIN file: a regular file (or a systemd
// credential, credential:NAME) that only its owner, kmsd's user or root,
// can read. Trailing newlines are not part of the PIN.
func readPIN(path string) ([]byte, error) {
	if name, ok := strings.CutPrefix(path, credentialPrefix); ok {
		dir := os.Getenv("CREDENTIALS_DIRECTORY")
		if dir == "" || strings.ContainsRune(name, '/') {
			return nil, fmt.Errorf("no systemd credential %q ($CREDENTIALS_DIRECTORY is not set)", name)
		}
		path = filepath.Join(dir, name)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular():
		return nil, errors.New("the PIN file is not a regular file")
	case fi.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("the PIN file is readable by others (mode %o): make it 0600 or 0400", fi.Mode().Perm())
	case st != nil && st.Uid != 0 && int(st.Uid) != os.Geteuid():
		return nil, errors.New("the PIN file belongs to another user")
	case fi.Size() > maxPINFile:
		return nil, errors.New("the PIN file is too large")
	}
	b := make([]byte, fi.Size())
	n, err := f.Read(b)
	if err != nil && n == 0 {
		clear(b)
		return nil, err
	}
	b = b[:n]
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b, nil
}

// connect opens a store's token (the caller holds stores.mu, or owns ks).
func (s *Service) connect(ks *keyStore) {
	pin, err := readPIN(ks.rec.PINFile)
	if err == nil {
		ks.token, err = hsm.Open(hsm.Config{Module: ks.rec.Module, Label: ks.rec.TokenLabel, Serial: ks.rec.TokenSerial, PIN: pin})
		clear(pin)
	}
	if err != nil {
		ks.state, ks.token, ks.reason = api.ConnectionFailed, nil, err.Error()
		switch {
		case errors.Is(err, hsm.ErrPIN):
			ks.errCode = api.ConnectionErrInvalidCredentials
		case errors.Is(err, hsm.ErrTokenNotFound):
			ks.errCode = api.ConnectionErrNotFound
		default:
			ks.errCode = api.ConnectionErrInternal
		}
		s.log.Warn("custom key store did not connect", "store", ks.rec.ID, "code", ks.errCode, "err", err)
		return
	}
	ks.state, ks.errCode, ks.reason, ks.serial = api.ConnectionConnected, "", "", ks.token.Serial()
	s.log.Info("custom key store connected", "store", ks.rec.ID, "module", ks.rec.Module)
}

// CreateCustomKeyStore adds a store, disconnected.
func (s *Service) CreateCustomKeyStore(ctx context.Context, in *api.CreateCustomKeyStoreInput) (*api.CreateCustomKeyStoreOutput, error) {
	if err := rootOnly(ctx, "name a PKCS#11 module (its code runs inside kmsd, with kmsd's rights)"); err != nil {
		return nil, err
	}
	if in.CustomKeyStoreType != "" && in.CustomKeyStoreType != api.CustomKeyStoreTypePKCS11 {
		return nil, errorf(api.CodeUnsupportedOperation, "CustomKeyStoreType %q is not supported; kmsd's are %s", in.CustomKeyStoreType, api.CustomKeyStoreTypePKCS11)
	}
	rec := keyStoreRecord{Name: in.CustomKeyStoreName, Module: in.Pkcs11Module, TokenLabel: in.TokenLabel,
		TokenSerial: in.TokenSerial, PINFile: in.KeyStorePasswordFile, CreationDate: s.now().UTC()}
	if err := checkKeyStore(rec); err != nil {
		return nil, err
	}
	if err := checkReachable(rec); err != nil {
		return nil, err
	}
	var raw [9]byte
	rand.Read(raw[:])
	rec.ID = keyStoreIDPrefix + hex.EncodeToString(raw[:])[:keyStoreIDHexSize]
	s.stores.mu.Lock()
	defer s.stores.mu.Unlock()
	if len(s.stores.m) >= maxKeyStores {
		return nil, errorf(api.CodeLimitExceeded, "the quota of %d custom key stores is reached", maxKeyStores)
	}
	if s.storeByName(rec.Name) != nil {
		return nil, errorf(api.CodeCustomKeyStoreName, "a custom key store is named %q already", rec.Name)
	}
	s.stores.m[rec.ID] = &keyStore{rec: rec, state: api.ConnectionDisconnected}
	if err := s.saveKeyStores(); err != nil {
		delete(s.stores.m, rec.ID)
		return nil, err
	}
	s.log.Info("custom key store created", "store", rec.ID, "name", rec.Name, "module", rec.Module)
	return &api.CreateCustomKeyStoreOutput{CustomKeyStoreId: rec.ID}, nil
}

// checkKeyStore checks a store's settings.
func checkKeyStore(r keyStoreRecord) error {
	switch {
	case r.Name == "" || len(r.Name) > maxKeyStoreName:
		return errorf(api.CodeValidation, "CustomKeyStoreName must be 1 to %d characters", maxKeyStoreName)
	case !filepath.IsAbs(r.Module):
		return errorf(api.CodeValidation, "Pkcs11Module must be the absolute path of a PKCS#11 module")
	case r.TokenLabel == "" && r.TokenSerial == "":
		return errorf(api.CodeValidation, "TokenLabel or TokenSerial must name the token")
	case !filepath.IsAbs(r.PINFile) && !strings.HasPrefix(r.PINFile, credentialPrefix):
		return errorf(api.CodeValidation, "KeyStorePasswordFile must be the absolute path of the file holding the token's PIN, or credential:NAME (a systemd credential); the PIN itself is never sent")
	}
	// A module is checked again each time it is loaded (hsm.Open); one
	// that is not there yet fails its connection then.
	if err := hsm.CheckModule(r.Module); errors.Is(err, hsm.ErrModuleTrust) {
		return errorf(api.CodeValidation, "Pkcs11Module: %v", err)
	}
	return nil
}

// checkReachable checks, when a store is made or pointed elsewhere, that
// what it names is there: the module (as AWS checks that a CloudHSM
// cluster exists: CloudHsmClusterNotFoundException) and a PIN file kmsd
// can read and trusts. The token itself is looked for when the store
// connects, as AWS connects a store.
func checkReachable(r keyStoreRecord) error {
	if err := hsm.CheckModule(r.Module); err != nil {
		if errors.Is(err, hsm.ErrModuleTrust) {
			return errorf(api.CodeValidation, "Pkcs11Module: %v", err)
		}
		return errorf(api.CodeCloudHsmClusterNotFound, "Pkcs11Module: %v", err)
	}
	pin, err := readPIN(r.PINFile)
	clear(pin)
	if err != nil {
		return errorf(api.CodeValidation, "KeyStorePasswordFile %s: %v", r.PINFile, err)
	}
	return nil
}

// storeByName finds a store by name (the caller holds stores.mu).
func (s *Service) storeByName(name string) *keyStore {
	for _, ks := range s.stores.m {
		if ks.rec.Name == name {
			return ks
		}
	}
	return nil
}

// storeByID finds a store (the caller holds stores.mu).
func (s *Service) storeByID(id string) (*keyStore, error) {
	if ks, ok := s.stores.m[id]; ok {
		return ks, nil
	}
	return nil, errorf(api.CodeCustomKeyStoreMissing, "no custom key store %q", id)
}

// DescribeCustomKeyStores lists stores, or the one named.
func (s *Service) DescribeCustomKeyStores(ctx context.Context, in *api.DescribeCustomKeyStoresInput) (*api.DescribeCustomKeyStoresOutput, error) {
	if err := s.adminOnly(ctx, "describe custom key stores"); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.Limit, 1000, 1000)
	if err != nil {
		return nil, err
	}
	s.stores.mu.RLock()
	defer s.stores.mu.RUnlock()
	var list []*keyStore
	switch {
	case in.CustomKeyStoreId != "":
		ks, err := s.storeByID(in.CustomKeyStoreId)
		if err != nil {
			return nil, err
		}
		list = []*keyStore{ks}
	case in.CustomKeyStoreName != "":
		ks := s.storeByName(in.CustomKeyStoreName)
		if ks == nil {
			return nil, errorf(api.CodeCustomKeyStoreMissing, "no custom key store named %q", in.CustomKeyStoreName)
		}
		list = []*keyStore{ks}
	default:
		for _, ks := range s.stores.m {
			if ks.rec.ID > in.Marker {
				list = append(list, ks)
			}
		}
		slices.SortFunc(list, func(a, b *keyStore) int { return strings.Compare(a.rec.ID, b.rec.ID) })
	}
	out := &api.DescribeCustomKeyStoresOutput{}
	for i, ks := range list {
		if i == limit {
			out.Truncated, out.NextMarker = true, list[i-1].rec.ID
			break
		}
		out.CustomKeyStores = append(out.CustomKeyStores, api.CustomKeyStoresListEntry{
			CustomKeyStoreId: ks.rec.ID, CustomKeyStoreName: ks.rec.Name, CloudHsmClusterId: cmpStr(ks.serial, ks.rec.TokenSerial),
			ConnectionState: ks.state, ConnectionErrorCode: ks.errCode, ConnectionErrorReason: ks.reason, CreationDate: ks.rec.CreationDate,
			CustomKeyStoreType: api.CustomKeyStoreTypePKCS11, Pkcs11Module: ks.rec.Module, TokenLabel: ks.rec.TokenLabel,
			TokenSerial: ks.rec.TokenSerial, KeyStorePasswordFile: ks.rec.PINFile})
	}
	return out, nil
}

// UpdateCustomKeyStore renames a store, or (disconnected) changes its token.
func (s *Service) UpdateCustomKeyStore(ctx context.Context, in *api.UpdateCustomKeyStoreInput) error {
	if err := s.adminOnly(ctx, "change custom key stores"); err != nil {
		return err
	}
	s.stores.mu.Lock()
	defer s.stores.mu.Unlock()
	ks, err := s.storeByID(in.CustomKeyStoreId)
	if err != nil {
		return err
	}
	r := ks.rec
	if in.NewCustomKeyStoreName != "" && in.NewCustomKeyStoreName != r.Name {
		if s.storeByName(in.NewCustomKeyStoreName) != nil {
			return errorf(api.CodeCustomKeyStoreName, "a custom key store is named %q already", in.NewCustomKeyStoreName)
		}
		r.Name = in.NewCustomKeyStoreName
	}
	if in.Pkcs11Module != "" {
		if err := rootOnly(ctx, "name a PKCS#11 module (its code runs inside kmsd, with kmsd's rights)"); err != nil {
			return err
		}
	}
	if in.Pkcs11Module != "" || in.TokenLabel != "" || in.TokenSerial != "" || in.KeyStorePasswordFile != "" {
		if ks.state == api.ConnectionConnected {
			return errorf(api.CodeCustomKeyStoreState, "custom key store %s is connected: disconnect it to change its module, token or PIN file", r.ID)
		}
		r.Module = cmpStr(in.Pkcs11Module, r.Module)
		r.PINFile = cmpStr(in.KeyStorePasswordFile, r.PINFile)
		if in.TokenLabel != "" || in.TokenSerial != "" {
			r.TokenLabel, r.TokenSerial = in.TokenLabel, in.TokenSerial
		}
	}
	if err := checkKeyStore(r); err != nil {
		return err
	}
	if r.Module != ks.rec.Module || r.PINFile != ks.rec.PINFile {
		if err := checkReachable(r); err != nil {
			return err
		}
	}
	old := ks.rec
	ks.rec = r
	if err := s.saveKeyStores(); err != nil {
		ks.rec = old
		return err
	}
	return nil
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// withStore runs change on store id, for root and the admin group, with
// the stores locked.
func (s *Service) withStore(ctx context.Context, what, id string, change func(ks *keyStore) error) error {
	if err := s.adminOnly(ctx, what); err != nil {
		return err
	}
	s.stores.mu.Lock()
	defer s.stores.mu.Unlock()
	ks, err := s.storeByID(id)
	if err != nil {
		return err
	}
	return change(ks)
}

// ConnectCustomKeyStore connects a store: its token is opened and logged
// into; a failure shows in DescribeCustomKeyStores (FAILED and its
// ConnectionErrorCode), as AWS's does.
func (s *Service) ConnectCustomKeyStore(ctx context.Context, in *api.CustomKeyStoreIDInput) error {
	return s.withStore(ctx, "connect custom key stores", in.CustomKeyStoreId, func(ks *keyStore) error {
		if ks.state == api.ConnectionConnected {
			return nil
		}
		s.connect(ks)
		if !ks.rec.Connect {
			ks.rec.Connect = true
			return s.saveKeyStores()
		}
		return nil
	})
}

// DisconnectCustomKeyStore disconnects a store: its keys answer
// KMSInvalidStateException until it is connected again.
func (s *Service) DisconnectCustomKeyStore(ctx context.Context, in *api.CustomKeyStoreIDInput) error {
	return s.withStore(ctx, "disconnect custom key stores", in.CustomKeyStoreId, func(ks *keyStore) error {
		if ks.token != nil {
			ks.token.Close()
			ks.token = nil
		}
		ks.state, ks.errCode = api.ConnectionDisconnected, ""
		ks.rec.Connect = false
		s.log.Info("custom key store disconnected", "store", ks.rec.ID)
		return s.saveKeyStores()
	})
}

// DeleteCustomKeyStore removes a disconnected store that holds no keys.
func (s *Service) DeleteCustomKeyStore(ctx context.Context, in *api.CustomKeyStoreIDInput) error {
	return s.withStore(ctx, "delete custom key stores", in.CustomKeyStoreId, func(ks *keyStore) error {
		if ks.state == api.ConnectionConnected {
			return errorf(api.CodeCustomKeyStoreState, "custom key store %s is connected: disconnect it first", ks.rec.ID)
		}
		n := 0
		s.mu.RLock()
		for _, e := range s.keys {
			e.mu.RLock()
			if e.rec.CustomKeyStoreId == ks.rec.ID {
				n++
			}
			e.mu.RUnlock()
		}
		s.mu.RUnlock()
		if n > 0 {
			return errorf(api.CodeCustomKeyStoreHasKeys, "custom key store %s holds %d keys: schedule their deletion first", ks.rec.ID, n)
		}
		delete(s.stores.m, ks.rec.ID)
		if err := s.saveKeyStores(); err != nil {
			s.stores.m[ks.rec.ID] = ks
			return err
		}
		s.log.Info("custom key store deleted", "store", ks.rec.ID)
		return nil
	})
}

// tokenOf returns the connected token of a key's store, or the exception
// for a store that is not connected.
func (s *Service) tokenOf(e *entry) (*hsm.Token, error) {
	s.stores.mu.RLock()
	defer s.stores.mu.RUnlock()
	ks, ok := s.stores.m[e.rec.CustomKeyStoreId]
	if !ok || ks.token == nil {
		return nil, errorf(api.CodeInvalidState, "%s is in custom key store %s, which is not connected", e.arn, e.rec.CustomKeyStoreId)
	}
	return ks.token, nil
}

// closeKeyStores disconnects every store (Close).
func (s *Service) closeKeyStores() {
	s.stores.mu.Lock()
	defer s.stores.mu.Unlock()
	for _, ks := range s.stores.m {
		if ks.token != nil {
			ks.token.Close()
			ks.token = nil
		}
	}
}

// generateInStore makes key r's material in its store's token.
func (s *Service) generateInStore(r *keystore.KeyRecord) error {
	s.stores.mu.RLock()
	defer s.stores.mu.RUnlock()
	ks, err := s.storeByID(r.CustomKeyStoreId)
	if err != nil {
		return err
	}
	if ks.token == nil {
		return errorf(api.CodeCustomKeyStoreState, "custom key store %s is %s: connect it first", ks.rec.ID, ks.state)
	}
	if err := ks.token.GenerateKey(r.KeyID.String()); err != nil {
		s.log.Error("generating a key in a custom key store", "store", ks.rec.ID, "err", err)
		return errorf(api.CodeInternal, "the token of custom key store %s did not make the key; the daemon log has the cause", ks.rec.ID)
	}
	return nil
}

// destroyInStore deletes key id's material from its store's token, if the
// store is connected (a disconnected store keeps it, as AWS's does).
func (s *Service) destroyInStore(store string, id keystore.KeyID) {
	s.stores.mu.RLock()
	defer s.stores.mu.RUnlock()
	if ks, ok := s.stores.m[store]; ok && ks.token != nil {
		if err := ks.token.DestroyKey(id.String()); err != nil {
			s.log.Warn("deleting a key's material from its token", "store", store, "key", id.String(), "err", err)
		}
	}
}

// storeSerial is a store's token serial (its CloudHsmClusterId).
func (s *Service) storeSerial(id string) string {
	s.stores.mu.RLock()
	defer s.stores.mu.RUnlock()
	if ks, ok := s.stores.m[id]; ok {
		return cmpStr(ks.serial, ks.rec.TokenSerial)
	}
	return ""
}
