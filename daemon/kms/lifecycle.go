package kms

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/keystore/keyspec"
	"kmsd/wire/api"
)

const (
	maxDescriptionLen   = 8192
	defaultDeletionDays = 30
	minDeletionDays     = 7
	maxDeletionDays     = 30
	day                 = 24 * time.Hour
)

// CreateKey creates a symmetric ENCRYPT_DECRYPT key. With Origin AWS_KMS
// (the default; the name is AWS's, the material is made here from
// crypto/rand) the key is Enabled with one version of material. With Origin
// EXTERNAL it has no material and stays PendingImport until material is
// imported. Other key specs, usages, origins and multi-Region keys are
// UnsupportedOperationException.
func (s *Service) CreateKey(ctx context.Context, in *api.CreateKeyInput) (*api.KeyMetadataOutput, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	p, err := principalOf(ctx)
	if err != nil {
		return nil, err
	}
	origin, tags, err := checkCreateKey(in)
	if err != nil {
		return nil, err
	}
	spec, usage, err := checkKeySpec(in)
	if err != nil {
		return nil, err
	}
	id := keystore.NewKeyID()
	doc := in.Policy
	if doc == "" {
		doc = policy.Default(p.UID, s.cfg.AdminGroup)
	}
	doc, pol, err := s.compile(doc)
	if err != nil {
		return nil, malformedPolicy(err)
	}
	if err := lockoutCheck(pol, p, s.keyARN(id), in.BypassPolicyLockoutSafetyCheck); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	r := &keystore.KeyRecord{
		KeyID: id, CreationDate: now, Description: in.Description,
		KeyUsage: usage, KeySpec: spec, Origin: origin,
		KeyManager: ManagerCustomer, KeyState: api.KeyStateEnabled, Tags: tags, Policy: doc,
		CustomKeyStoreId: in.CustomKeyStoreId,
	}
	if !isSymmetric(r) && origin == api.OriginKMS {
		ks := keyspec.Lookup(spec)
		err := s.keygen.generate(ctx, ks, func() error {
			v, err := s.newKeyVersion(r.KeyID, ks, now)
			if err != nil {
				return s.internal(api.OpCreateKey, err)
			}
			r.Versions = []keystore.Version{*v}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if r.CustomKeyStoreId != "" {
		if err := s.generateInStore(r); err != nil {
			return nil, err
		}
	}
	e, err := s.addKey(r, pol)
	if err != nil {
		if r.CustomKeyStoreId != "" {
			s.destroyInStore(r.CustomKeyStoreId, id)
		}
		return nil, err
	}
	s.log.Info("key created", "key", id.String(), "origin", origin, "by", p.String())
	return &api.KeyMetadataOutput{KeyMetadata: s.metadata(e)}, nil
}

// checkCreateKey checks what a CreateKey request asks for, and returns
// the key's origin and its tags.
func checkCreateKey(in *api.CreateKeyInput) (string, []keystore.Tag, error) {
	if len(in.Description) > maxDescriptionLen || !utf8.ValidString(in.Description) {
		return "", nil, errorf(api.CodeValidation, "Description must be at most %d characters of UTF-8", maxDescriptionLen)
	}
	origin := in.Origin
	switch {
	case in.CustomKeyStoreId != "" && (origin == "" || origin == api.OriginHSM):
		origin = api.OriginHSM
	case in.CustomKeyStoreId != "":
		return "", nil, errorf(api.CodeUnsupportedOperation, "a key in a custom key store has Origin %s, not %q", api.OriginHSM, origin)
	case origin == "":
		origin = api.OriginKMS
	case origin == api.OriginKMS, origin == api.OriginExternal:
	default:
		return "", nil, errorf(api.CodeUnsupportedOperation, "Origin %q is not supported (use %s or %s, or %s with CustomKeyStoreId)", in.Origin, api.OriginKMS, api.OriginExternal, api.OriginHSM)
	}
	if in.MultiRegion {
		return "", nil, errorf(api.CodeUnsupportedOperation, "multi-Region keys are not supported on a single host")
	}
	tags, err := mergeTags(nil, in.Tags)
	return origin, tags, err
}

// checkKeySpec checks a CreateKey request's KeySpec and KeyUsage, as AWS:
// KeyUsage defaults to ENCRYPT_DECRYPT whatever the spec, so every other
// spec names its usage; keys in custom key stores are symmetric.
func checkKeySpec(in *api.CreateKeyInput) (spec, usage string, err error) {
	spec, usage = cmp.Or(in.KeySpec, api.KeySpecSymmetric), cmp.Or(in.KeyUsage, api.KeyUsageEncryptDecrypt)
	if spec == api.KeySpecSymmetric {
		if usage != api.KeyUsageEncryptDecrypt {
			return "", "", errorf(api.CodeValidation, "KeyUsage %s is not valid for KeySpec %s (use %s)", usage, spec, api.KeyUsageEncryptDecrypt)
		}
		return spec, usage, nil
	}
	ks := keyspec.Lookup(spec)
	if ks == nil {
		return "", "", errorf(api.CodeValidation, "KeySpec %q is not one of %s, %s", spec, api.KeySpecSymmetric, strings.Join(keyspec.Names(), ", "))
	}
	if !ks.Allows(usage) {
		return "", "", errorf(api.CodeValidation, "KeyUsage %s is not valid for KeySpec %s (use %s)", usage, spec, strings.Join(ks.Usages(), " or "))
	}
	if in.CustomKeyStoreId != "" {
		return "", "", errorf(api.CodeUnsupportedOperation, "keys in a custom key store are %s keys, not %s", api.KeySpecSymmetric, spec)
	}
	return spec, usage, nil
}

// isSymmetric reports whether a key is a symmetric encryption key (records
// written before key specs existed have none).
func isSymmetric(r *keystore.KeyRecord) bool {
	return r.KeySpec == "" || r.KeySpec == api.KeySpecSymmetric
}

// newKeyVersion makes the material of a key of another spec and seals it
// (format 2); the raw material is zeroed before it returns.
func (s *Service) newKeyVersion(id keystore.KeyID, spec *keyspec.Spec, now time.Time) (*keystore.Version, error) {
	raw, err := keyspec.Generate(spec)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	sealed, err := s.root().SealKey(id, 1, raw)
	if err != nil {
		return nil, err
	}
	return &keystore.Version{Version: 1, Sealed: sealed, CreationDate: now}, nil
}

// addKey writes a new customer key within the key quota.
func (s *Service) addKey(r *keystore.KeyRecord, pol *policy.Policy) (*entry, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.customerKeys() >= s.cfg.Quotas.Keys {
		return nil, errorf(api.CodeLimitExceeded, "the quota of %d keys is reached", s.cfg.Quotas.Keys)
	}
	return s.insertKey(r, pol, nil, "keys")
}

// newVersion makes version v of key id from crypto/rand and seals it. The
// raw material is zeroed before it returns; the Material is ready to use.
func (s *Service) newVersion(id keystore.KeyID, v uint32, now time.Time, rotation string) (*keystore.Material, *keystore.Version, error) {
	m, raw, err := keystore.GenerateMaterial(v)
	if err != nil {
		return nil, nil, err
	}
	defer clear(raw)
	sealed, err := s.root().Seal(id, v, raw)
	if err != nil {
		m.Wipe()
		return nil, nil, err
	}
	return m, &keystore.Version{Version: v, Sealed: sealed, CreationDate: now, RotationType: rotation}, nil
}

// metadata builds KeyMetadata. The caller holds e.mu.
func (s *Service) metadata(e *entry) api.KeyMetadata {
	r := e.rec
	md := api.KeyMetadata{
		AWSAccountId: s.cfg.AccountID, KeyId: r.KeyID.String(), Arn: e.arn,
		CreationDate: r.CreationDate, Enabled: r.KeyState == api.KeyStateEnabled,
		Description: r.Description, KeyUsage: r.KeyUsage, KeyState: r.KeyState,
		Origin: r.Origin, KeyManager: r.KeyManager, KeySpec: r.KeySpec,
		CustomerMasterKeySpec: r.KeySpec, EncryptionAlgorithms: []string{api.AlgSymmetricDefault},
	}
	if ks := keyspec.Lookup(r.KeySpec); ks != nil {
		md.EncryptionAlgorithms = nil
		algs := ks.Algorithms(r.KeyUsage)
		switch r.KeyUsage {
		case api.KeyUsageEncryptDecrypt:
			md.EncryptionAlgorithms = algs
		case api.KeyUsageSignVerify:
			md.SigningAlgorithms = algs
		case api.KeyUsageMAC:
			md.MacAlgorithms = algs
		case api.KeyUsageKeyAgreement:
			md.KeyAgreementAlgorithms = algs
		}
	}
	if r.DeletionDate != nil {
		d := *r.DeletionDate
		md.DeletionDate = &d
		md.PendingDeletionWindowInDays = api.Int32(int32(r.PendingWindowInDays))
	}
	if n := len(r.Versions); n > 0 {
		md.CurrentKeyMaterialId = e.matIDs[n-1]
	}
	if r.CustomKeyStoreId != "" {
		md.CustomKeyStoreId, md.CloudHsmClusterId = r.CustomKeyStoreId, s.storeSerial(r.CustomKeyStoreId)
		md.CurrentKeyMaterialId = keyMaterialID(r.KeyID, 1)
	}
	if r.Import != nil {
		md.ExpirationModel = r.Import.ExpirationModel
		if r.Import.ValidTo != nil && len(r.Versions) > 0 {
			v := *r.Import.ValidTo
			md.ValidTo = &v
		}
	}
	return md
}

// DescribeKey returns a key's metadata in any state. Aliases resolve.
func (s *Service) DescribeKey(ctx context.Context, in *api.DescribeKeyInput) (*api.KeyMetadataOutput, error) {
	var out api.KeyMetadataOutput
	err := s.view(ctx, api.OpDescribeKey, in.KeyId, true, nil, func(e *entry) error {
		out.KeyMetadata = s.metadata(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// view runs fn on the key keyID names, under the key's read lock, once
// the caller is authorized for op and pre (if any) and the key-state table
// for op allow it. useOp says whether
// an alias may name the key.
func (s *Service) view(ctx context.Context, op, keyID string, useOp bool, pre func(*entry) error, fn func(*entry) error) error {
	if useOp {
		s.noteAlias(ctx, keyID)
	}
	e, err := s.resolve(ctx, keyID, useOp)
	if err != nil {
		return err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, err := s.authorize(ctx, e, action(op), nil, nil); err != nil {
		return err
	}
	if pre != nil {
		if err := pre(e); err != nil {
			return err
		}
	}
	if err := checkState(op, e); err != nil {
		return err
	}
	return fn(e)
}

// pageLimit applies a Limit's range and default (when it is absent).
func pageLimit(limit *int32, most, def int) (int, error) {
	if limit == nil {
		return def, nil
	}
	if *limit < 1 || int(*limit) > most {
		return 0, errorf(api.CodeValidation, "Limit must be between 1 and %d", most)
	}
	return int(*limit), nil
}

// ListKeys lists every key in id order, Limit at a time; Marker is the
// NextMarker of the previous page.
func (s *Service) ListKeys(ctx context.Context, in *api.ListKeysInput) (*api.ListKeysOutput, error) {
	limit, err := pageLimit(in.Limit, 1000, 100)
	if err != nil {
		return nil, err
	}
	var after keystore.KeyID
	if in.Marker != "" {
		if after, err = keystore.ParseKeyID(in.Marker); err != nil {
			return nil, errorf(api.CodeInvalidMarker, "Marker is not one that ListKeys returned")
		}
	}
	p, err := principalOf(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	cands := make([]*entry, 0, min(len(s.keys), 4*limit))
	for id, e := range s.keys {
		if in.Marker == "" || string(id[:]) > string(after[:]) {
			cands = append(cands, e)
		}
	}
	s.mu.RUnlock()
	ids := make([]keystore.KeyID, 0, len(cands))
	for _, e := range cands {
		e.mu.RLock()
		if visibleTo(e, p) {
			ids = append(ids, e.id)
		}
		e.mu.RUnlock()
	}
	slices.SortFunc(ids, func(a, b keystore.KeyID) int { return compareIDs(a, b) })
	out := &api.ListKeysOutput{Keys: []api.KeyListEntry{}}
	if len(ids) > limit {
		ids = ids[:limit]
		out.Truncated = true
		out.NextMarker = ids[limit-1].String()
	}
	for _, id := range ids {
		out.Keys = append(out.Keys, api.KeyListEntry{KeyId: id.String(), KeyArn: s.keyARN(id)})
	}
	return out, nil
}

func compareIDs(a, b keystore.KeyID) int {
	switch sa, sb := string(a[:]), string(b[:]); {
	case sa < sb:
		return -1
	case sa > sb:
		return 1
	}
	return 0
}

// update runs a change to one key: it resolves the key id (no aliases),
// authorizes the caller, checks the state table for op, lets change edit a copy of the record,
// writes it and installs it. change returns false to skip the write.
func (s *Service) update(ctx context.Context, op, keyID string, change func(e *entry, r *keystore.KeyRecord) (bool, error)) (*entry, error) {
	return s.updateBatch(ctx, op, keyID, func(e *entry, r *keystore.KeyRecord, _ *keystore.Batch) (bool, error) { return change(e, r) })
}

// updateBatch is update for a change that writes more than the key's
// record: what change puts in b is written with it, at once.
func (s *Service) updateBatch(ctx context.Context, op, keyID string, change func(e *entry, r *keystore.KeyRecord, b *keystore.Batch) (bool, error)) (*entry, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	e, err := s.resolve(ctx, keyID, false)
	if err != nil {
		return nil, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	e.mu.RLock()
	if _, err := s.authorize(ctx, e, action(op), nil, nil); err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	if err := checkState(op, e); err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	r := e.rec.Clone()
	e.mu.RUnlock()
	// Only writers change e.rec and they hold writeMu, so r is current.
	var b keystore.Batch
	changed, err := change(e, r, &b)
	if err != nil || !changed {
		return e, err
	}
	b.PutKey(r)
	if err := s.write(op, &b); err != nil {
		return nil, err
	}
	e.mu.Lock()
	if r.KeyState != api.KeyStateEnabled || len(r.Versions) < len(e.mats) {
		e.wipe() // before install drops versions that are gone
	}
	e.install(r)
	e.mu.Unlock()
	return e, nil
}

// UpdateKeyDescription replaces a key's description.
func (s *Service) UpdateKeyDescription(ctx context.Context, in *api.UpdateKeyDescriptionInput) error {
	if len(in.Description) > maxDescriptionLen || !utf8.ValidString(in.Description) {
		return errorf(api.CodeValidation, "Description must be at most %d characters of UTF-8", maxDescriptionLen)
	}
	_, err := s.update(ctx, api.OpUpdateKeyDescription, in.KeyId, func(_ *entry, r *keystore.KeyRecord) (bool, error) {
		r.Description = in.Description
		return true, nil
	})
	return err
}

// EnableKey makes a Disabled key Enabled; an Enabled key stays so.
func (s *Service) EnableKey(ctx context.Context, in *api.KeyIDInput) error {
	_, err := s.update(ctx, api.OpEnableKey, in.KeyId, func(_ *entry, r *keystore.KeyRecord) (bool, error) {
		changed := r.KeyState != api.KeyStateEnabled
		r.KeyState = api.KeyStateEnabled
		return changed, nil
	})
	return err
}

// DisableKey makes a key Disabled: crypto operations then fail with
// DisabledException, and its unsealed versions are zeroed.
func (s *Service) DisableKey(ctx context.Context, in *api.KeyIDInput) error {
	_, err := s.update(ctx, api.OpDisableKey, in.KeyId, func(_ *entry, r *keystore.KeyRecord) (bool, error) {
		changed := r.KeyState != api.KeyStateDisabled
		r.KeyState = api.KeyStateDisabled
		return changed, nil
	})
	return err
}

// ScheduleKeyDeletion puts a key in PendingDeletion for 7 to 30 days
// (default 30); Tick deletes it, its material and its aliases once the
// date has passed. Until then CancelKeyDeletion brings it back, Disabled.
func (s *Service) ScheduleKeyDeletion(ctx context.Context, in *api.ScheduleKeyDeletionInput) (*api.ScheduleKeyDeletionOutput, error) {
	days := defaultDeletionDays
	if in.PendingWindowInDays != nil {
		days = int(*in.PendingWindowInDays)
	}
	if days < minDeletionDays || days > maxDeletionDays {
		return nil, errorf(api.CodeValidation, "PendingWindowInDays must be between %d and %d", minDeletionDays, maxDeletionDays)
	}
	var out api.ScheduleKeyDeletionOutput
	_, err := s.update(ctx, api.OpScheduleKeyDeletion, in.KeyId, func(e *entry, r *keystore.KeyRecord) (bool, error) {
		d := s.now().UTC().Add(time.Duration(days) * day)
		r.KeyState, r.DeletionDate, r.PendingWindowInDays = api.KeyStatePendingDeletion, &d, days
		out = api.ScheduleKeyDeletionOutput{KeyId: e.arn, DeletionDate: d, KeyState: r.KeyState, PendingWindowInDays: api.Int32(int32(days))}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("key deletion scheduled", "key", out.KeyId, "date", out.DeletionDate, "days", days)
	return &out, nil
}

// CancelKeyDeletion takes a key out of PendingDeletion. As in AWS it comes
// back Disabled (a key with imported material but none present comes back
// PendingImport).
func (s *Service) CancelKeyDeletion(ctx context.Context, in *api.KeyIDInput) (*api.KeyIDOutput, error) {
	e, err := s.update(ctx, api.OpCancelKeyDeletion, in.KeyId, func(_ *entry, r *keystore.KeyRecord) (bool, error) {
		r.KeyState = api.KeyStateDisabled
		if r.Origin == api.OriginExternal && len(r.Versions) == 0 {
			r.KeyState = api.KeyStatePendingImport
		}
		r.DeletionDate, r.PendingWindowInDays = nil, 0
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.KeyIDOutput{KeyId: e.arn}, nil
}

// deleteKey removes a key whose waiting period is over, with its aliases,
// and zeroes its material. The caller holds writeMu.
func (s *Service) deleteKey(e *entry) error {
	if err := s.dropKeyParts(e); err != nil {
		return err
	}
	var b keystore.Batch
	b.DeleteKey(e.id)
	for gid := range e.auth.Load().grants {
		b.DeleteGrant(e.id, gid)
	}
	s.mu.RLock()
	var refs []aliasRef
	for ref, a := range s.aliases {
		if a.TargetKeyID == e.id {
			refs = append(refs, ref)
			b.DeleteAlias(a.Owner, a.AliasName)
		}
	}
	s.mu.RUnlock()
	if err := s.write("DeleteKey", &b); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.keys, e.id)
	if e.manager == ManagerCustomer {
		s.customers--
	}
	for _, r := range refs {
		delete(s.aliases, r)
	}
	s.mu.Unlock()
	e.mu.Lock()
	e.wipe()
	e.deleted = true
	store := e.rec.CustomKeyStoreId
	e.mu.Unlock()
	if store != "" {
		s.destroyInStore(store, e.id)
	}
	s.log.Info("key deleted at the end of its waiting period", "key", e.id.String(), "aliases", len(refs))
	s.event("DeleteKey", e.id.String(), fmt.Sprintf("deleted at the end of its waiting period with %d aliases", len(refs)))
	return nil
}

// dropKeyParts removes the grants and aliases of a key being deleted
// ahead of it, a store write at a time, when there are more than one
// write of the store takes with the key (etcd takes 128 changes): the
// key's deletion then fits. A key pending deletion serves nothing, so
// losing its grants and aliases first changes nothing a caller sees but
// ListGrants and ListAliases. The caller holds writeMu.
func (s *Service) dropKeyParts(e *entry) error {
	l, ok := s.store.(keystore.BatchLimiter)
	if !ok {
		return nil
	}
	most, _ := l.MaxBatch()
	var grants []string
	for gid := range e.auth.Load().grants {
		grants = append(grants, gid)
	}
	s.mu.RLock()
	var aliases []*keystore.AliasRecord
	for _, a := range s.aliases {
		if a.TargetKeyID == e.id {
			aliases = append(aliases, a)
		}
	}
	s.mu.RUnlock()
	if 1+len(grants)+len(aliases) <= most {
		return nil
	}
	for chunk := range slices.Chunk(grants, most) {
		var b keystore.Batch
		for _, gid := range chunk {
			b.DeleteGrant(e.id, gid)
		}
		if err := s.write("DeleteKey", &b); err != nil {
			return err
		}
		s.setGrants(e, func(m map[string]*grant) {
			for _, gid := range chunk {
				delete(m, gid)
			}
		})
	}
	for chunk := range slices.Chunk(aliases, most) {
		var b keystore.Batch
		for _, a := range chunk {
			b.DeleteAlias(a.Owner, a.AliasName)
		}
		if err := s.write("DeleteKey", &b); err != nil {
			return err
		}
		s.mu.Lock()
		for _, a := range chunk {
			delete(s.aliases, refOf(a))
		}
		s.mu.Unlock()
	}
	return nil
}
