package kms

import (
	"testing"
	"time"

	"kmsd/keystore"
	"kmsd/wire/api"
)

func TestRotationOnDemand(t *testing.T) {
	s, c := testService(t)
	id := mustKey(t, s)
	blobs := [][]byte{mustEncrypt(t, s, id, "v1", nil)}
	for v := 2; v <= 26; v++ {
		c.Advance(time.Hour)
		if _, err := s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id}); err != nil {
			t.Fatalf("rotation %d: %v", v-1, err)
		}
		b := mustEncrypt(t, s, id, "v", nil)
		if got := blobVersion(t, b); got != uint32(v) {
			t.Fatalf("new encryption used version %d, want %d", got, v)
		}
		blobs = append(blobs, b)
	}
	_, err := s.RotateKeyOnDemand(ctx, &api.KeyIDInput{KeyId: id})
	wantCode(t, err, api.CodeLimitExceeded)
	for i, b := range blobs {
		if _, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: b}); err != nil {
			t.Fatalf("version %d no longer decrypts: %v", i+1, err)
		}
	}
	l, err := s.ListKeyRotations(ctx, &api.ListKeyRotationsInput{KeyId: id, Limit: api.Int32(10)})
	if err != nil || len(l.Rotations) != 10 || !l.Truncated {
		t.Fatalf("page 1: %+v %v", l, err)
	}
	if r := l.Rotations[0]; r.RotationType != keystore.RotationOnDemand || r.RotationDate == nil || r.KeyMaterialState != MaterialNonCurrent || len(r.KeyMaterialId) != 64 {
		t.Fatalf("entry %+v", r)
	}
	total := len(l.Rotations)
	for l.Truncated {
		if l, err = s.ListKeyRotations(ctx, &api.ListKeyRotationsInput{KeyId: id, Limit: api.Int32(10), Marker: l.NextMarker}); err != nil {
			t.Fatal(err)
		}
		total += len(l.Rotations)
	}
	if total != 25 || l.Rotations[len(l.Rotations)-1].KeyMaterialState != MaterialCurrent {
		t.Fatalf("%d rotations listed; last %+v", total, l.Rotations[len(l.Rotations)-1])
	}
	all, _ := s.ListKeyRotations(ctx, &api.ListKeyRotationsInput{KeyId: id, IncludeKeyMaterial: api.IncludeAllKeyMaterial, Limit: api.Int32(1000)})
	if len(all.Rotations) != 26 || all.Rotations[0].RotationDate != nil || all.Rotations[0].RotationType != "" {
		t.Fatalf("ALL_KEY_MATERIAL: %d entries, first %+v", len(all.Rotations), all.Rotations[0])
	}
	_, err = s.ListKeyRotations(ctx, &api.ListKeyRotationsInput{KeyId: id, IncludeKeyMaterial: "SOME"})
	wantCode(t, err, api.CodeValidation)
	_, err = s.ListKeyRotations(ctx, &api.ListKeyRotationsInput{KeyId: id, Marker: "x"})
	wantCode(t, err, api.CodeInvalidMarker)
}

func TestAutomaticRotation(t *testing.T) {
	s, c := testService(t)
	id := mustKey(t, s)
	for _, d := range []int32{0, 89, 2561, -1} {
		wantCode(t, s.EnableKeyRotation(ctx, &api.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: api.Int32(d)}), api.CodeValidation)
	}
	st, _ := s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: id})
	if st.KeyRotationEnabled || st.NextRotationDate != nil {
		t.Fatalf("rotation on by default: %+v", st)
	}
	wantCode(t, s.EnableKeyRotation(ctx, &api.EnableKeyRotationInput{KeyId: id}), "")
	st, _ = s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: id})
	if !st.KeyRotationEnabled || st.RotationPeriodInDays == nil || *st.RotationPeriodInDays != 365 || !st.NextRotationDate.Equal(c.Now().Add(365*day)) {
		t.Fatalf("status %+v", st)
	}
	wantCode(t, s.EnableKeyRotation(ctx, &api.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: api.Int32(90)}), "")
	st, _ = s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: id})
	if st.RotationPeriodInDays == nil || *st.RotationPeriodInDays != 90 || !st.NextRotationDate.Equal(c.Now().Add(90*day)) {
		t.Fatalf("changed period: %+v", st)
	}
	old := mustEncrypt(t, s, id, "before", nil)
	c.Advance(89 * day)
	s.Tick()
	if v := blobVersion(t, mustEncrypt(t, s, id, "x", nil)); v != 1 {
		t.Fatalf("rotated early: version %d", v)
	}
	c.Advance(day)
	if err := s.Tick(); err != nil {
		t.Fatal(err)
	}
	if v := blobVersion(t, mustEncrypt(t, s, id, "x", nil)); v != 2 {
		t.Fatalf("not rotated on the date: version %d", v)
	}
	st, _ = s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: id})
	if !st.NextRotationDate.Equal(c.Now().Add(90 * day)) {
		t.Fatalf("next date %v", st.NextRotationDate)
	}
	if out, err := s.Decrypt(ctx, &api.DecryptInput{CiphertextBlob: old}); err != nil || string(out.Plaintext) != "before" {
		t.Fatalf("old version: %v", err)
	}
	l, _ := s.ListKeyRotations(ctx, &api.ListKeyRotationsInput{KeyId: id})
	if len(l.Rotations) != 1 || l.Rotations[0].RotationType != keystore.RotationAutomatic {
		t.Fatalf("rotations %+v", l.Rotations)
	}

	// A disabled key does not rotate; once enabled, an overdue key rotates at the next tick.
	wantCode(t, s.DisableKey(ctx, &api.KeyIDInput{KeyId: id}), "")
	c.Advance(200 * day)
	s.Tick()
	wantCode(t, s.EnableKey(ctx, &api.KeyIDInput{KeyId: id}), "")
	if v := blobVersion(t, mustEncrypt(t, s, id, "x", nil)); v != 2 {
		t.Fatalf("disabled key rotated: version %d", v)
	}
	s.Tick()
	if v := blobVersion(t, mustEncrypt(t, s, id, "x", nil)); v != 3 {
		t.Fatalf("overdue key not rotated after enable: version %d", v)
	}

	// Pending deletion reads as off, and cancel restores it.
	if _, err := s.ScheduleKeyDeletion(ctx, &api.ScheduleKeyDeletionInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	st, _ = s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: id})
	if st.KeyRotationEnabled {
		t.Fatal("pending deletion reads as rotating")
	}
	s.CancelKeyDeletion(ctx, &api.KeyIDInput{KeyId: id})
	st, _ = s.GetKeyRotationStatus(ctx, &api.KeyIDInput{KeyId: id})
	if !st.KeyRotationEnabled {
		t.Fatal("cancel did not restore rotation status")
	}
	wantCode(t, s.EnableKey(ctx, &api.KeyIDInput{KeyId: id}), "")
	wantCode(t, s.DisableKeyRotation(ctx, &api.KeyIDInput{KeyId: id}), "")
	c.Advance(1000 * day)
	s.Tick()
	if v := blobVersion(t, mustEncrypt(t, s, id, "x", nil)); v != 3 {
		t.Fatalf("rotated with rotation off: version %d", v)
	}
}
