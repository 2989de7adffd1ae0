package kms

import (
	"context"
	"strconv"
	"time"

	"kmsd/keystore"
	"kmsd/wire/api"
)

const (
	defaultRotationDays = 365
	minRotationDays     = 90
	maxRotationDays     = 2560
	maxOnDemand         = 25
)

// Key material states, as ListKeyRotations reports them.
const (
	MaterialCurrent    = "CURRENT"
	MaterialNonCurrent = "NON_CURRENT"
)

// rotatable refuses rotation operations on keys with imported material and
// keys in custom key stores, as AWS does for automatic rotation.
func rotatable(e *entry) error {
	if !isSymmetric(e.rec) {
		return errorf(api.CodeUnsupportedOperation, "%s is a %s key: only symmetric encryption keys rotate", e.arn, e.rec.KeySpec)
	}
	if e.rec.Origin == api.OriginExternal || e.rec.Origin == api.OriginHSM {
		return errorf(api.CodeUnsupportedOperation, "%s origin is %s which is not valid for this operation", e.arn, e.rec.Origin)
	}
	return nil
}

// rotationUpdate is update for the rotation operations: the origin check
// comes before the state table. Origin never changes, so checking it first
// is not racy.
func (s *Service) rotationUpdate(ctx context.Context, op, keyID string, change func(*entry, *keystore.KeyRecord) (bool, error)) (*entry, error) {
	e, err := s.resolve(ctx, keyID, false)
	if err != nil {
		return nil, err
	}
	e.mu.RLock()
	err = rotatable(e)
	e.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	return s.update(ctx, op, keyID, change)
}

// EnableKeyRotation turns on automatic rotation every RotationPeriodInDays
// (90..2560, default 365). Turning it on schedules the first rotation one
// period from now; changing the period of a key that already rotates
// counts from its last rotation (or creation), and not before now.
func (s *Service) EnableKeyRotation(ctx context.Context, in *api.EnableKeyRotationInput) error {
	days := defaultRotationDays
	if in.RotationPeriodInDays != nil {
		days = int(*in.RotationPeriodInDays)
	}
	if days < minRotationDays || days > maxRotationDays {
		return errorf(api.CodeValidation, "RotationPeriodInDays must be between %d and %d", minRotationDays, maxRotationDays)
	}
	_, err := s.rotationUpdate(ctx, api.OpEnableKeyRotation, in.KeyId, func(_ *entry, r *keystore.KeyRecord) (bool, error) {
		now := s.now().UTC()
		next := now.Add(time.Duration(days) * day)
		if r.Rotation.Enabled {
			next = r.Current().CreationDate.Add(time.Duration(days) * day)
			if next.Before(now) {
				next = now
			}
		}
		r.Rotation.Enabled, r.Rotation.PeriodInDays, r.Rotation.NextRotationDate = true, days, &next
		return true, nil
	})
	return err
}

// DisableKeyRotation turns off automatic rotation.
func (s *Service) DisableKeyRotation(ctx context.Context, in *api.KeyIDInput) error {
	_, err := s.rotationUpdate(ctx, api.OpDisableKeyRotation, in.KeyId, func(_ *entry, r *keystore.KeyRecord) (bool, error) {
		changed := r.Rotation.Enabled
		r.Rotation.Enabled, r.Rotation.NextRotationDate = false, nil
		return changed, nil
	})
	return err
}

// GetKeyRotationStatus reports automatic rotation. While a key is pending
// deletion it reads as off (and comes back if deletion is cancelled).
func (s *Service) GetKeyRotationStatus(ctx context.Context, in *api.KeyIDInput) (*api.GetKeyRotationStatusOutput, error) {
	var out api.GetKeyRotationStatusOutput
	err := s.view(ctx, api.OpGetKeyRotationStatus, in.KeyId, false, rotatable, func(e *entry) error {
		rot := e.rec.Rotation
		out.KeyId = e.arn
		if rot.Enabled && e.rec.KeyState != api.KeyStatePendingDeletion {
			out.KeyRotationEnabled, out.RotationPeriodInDays = true, api.Int32(int32(rot.PeriodInDays))
			if rot.NextRotationDate != nil {
				d := *rot.NextRotationDate
				out.NextRotationDate = &d
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RotateKeyOnDemand adds a version of material now, whatever the automatic
// schedule (which it does not change); at most 25 times per key. Rotation
// is synchronous here, so AWS's ConflictException for a rotation in
// progress cannot happen.
func (s *Service) RotateKeyOnDemand(ctx context.Context, in *api.KeyIDInput) (*api.KeyIDOutput, error) {
	e, err := s.rotationUpdate(ctx, api.OpRotateKeyOnDemand, in.KeyId, func(e *entry, r *keystore.KeyRecord) (bool, error) {
		if r.Rotation.OnDemandCount >= maxOnDemand {
			return false, errorf(api.CodeLimitExceeded, "%s has been rotated on demand %d times, the most allowed", e.arn, maxOnDemand)
		}
		r.Rotation.OnDemandCount++
		return true, s.addVersion(e, r, keystore.RotationOnDemand)
	})
	if err != nil {
		return nil, err
	}
	return &api.KeyIDOutput{KeyId: e.arn}, nil
}

// addVersion appends a new version of material to r and primes e's cache
// with it once r is installed. The caller holds writeMu.
func (s *Service) addVersion(e *entry, r *keystore.KeyRecord, rotationType string) error {
	v := uint32(len(r.Versions) + 1)
	m, ver, err := s.newVersion(r.KeyID, v, s.now().UTC(), rotationType)
	if err != nil {
		return s.internal("rotate", err)
	}
	// The version is unsealed again on first use; dropping m here keeps
	// install simple and costs one unseal per rotation.
	m.Wipe()
	r.Versions = append(r.Versions, *ver)
	s.log.Info("key rotated", "key", r.KeyID.String(), "version", v, "type", rotationType)
	return nil
}

// ListKeyRotations lists a key's rotations oldest first: with
// ALL_KEY_MATERIAL, the first material too.
func (s *Service) ListKeyRotations(ctx context.Context, in *api.ListKeyRotationsInput) (*api.ListKeyRotationsOutput, error) {
	limit, err := pageLimit(in.Limit, 1000, 100)
	if err != nil {
		return nil, err
	}
	first := 1 // index of the first version listed: rotations only
	switch in.IncludeKeyMaterial {
	case "", api.IncludeRotationsOnly:
	case api.IncludeAllKeyMaterial:
		first = 0
	default:
		return nil, errorf(api.CodeValidation, "IncludeKeyMaterial must be %s or %s", api.IncludeRotationsOnly, api.IncludeAllKeyMaterial)
	}
	if in.Marker != "" {
		n, err := strconv.Atoi(in.Marker)
		if err != nil || n < 1 {
			return nil, errorf(api.CodeInvalidMarker, "Marker is not one that ListKeyRotations returned")
		}
		first = max(first, n) // the marker is the last version listed
	}
	out := &api.ListKeyRotationsOutput{Rotations: []api.RotationsListEntry{}}
	err = s.view(ctx, api.OpListKeyRotations, in.KeyId, false, rotatable, func(e *entry) error {
		vs := e.rec.Versions
		for i := first; i < len(vs); i++ {
			if len(out.Rotations) == limit {
				out.Truncated, out.NextMarker = true, strconv.Itoa(i)
				break
			}
			ent := api.RotationsListEntry{KeyId: e.rec.KeyID.String(), KeyMaterialId: e.matIDs[i], KeyMaterialState: MaterialNonCurrent}
			if i == len(vs)-1 {
				ent.KeyMaterialState = MaterialCurrent
			}
			if i > 0 {
				d := vs[i].CreationDate
				ent.RotationDate, ent.RotationType = &d, vs[i].RotationType
			}
			out.Rotations = append(out.Rotations, ent)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
