package keystore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// RecordVersion is the format version written into every record. Readers
// accept every version up to this one and refuse newer ones. Version 2 added
// key policies (KeyRecord.Policy) and grant records; a version 1 key record
// has no policy. Version 3 added imported material (KeyRecord.Import) and keys kept in
// custom key stores (KeyRecord.CustomKeyStoreId). Version 4 added keys
// that are not symmetric encryption keys (KeySpec RSA_*, ECC_*, HMAC_*,
// ML_DSA_*), whose one version is sealed in format 2 (RootKey.SealKey).
const RecordVersion = 4

// KeyRecord is everything kmsd stores about one key. Field names follow
// AWS's KeyMetadata where they mean the same thing.
type KeyRecord struct {
	V                   int        `json:"v"`
	KeyID               KeyID      `json:"KeyId"`
	CreationDate        time.Time  `json:"CreationDate"`
	Description         string     `json:"Description"`
	KeyUsage            string     `json:"KeyUsage"`
	KeySpec             string     `json:"KeySpec"`
	Origin              string     `json:"Origin"`
	KeyManager          string     `json:"KeyManager"`
	KeyState            string     `json:"KeyState"`
	DeletionDate        *time.Time `json:"DeletionDate,omitempty"`
	PendingWindowInDays int        `json:"PendingWindowInDays,omitempty"`
	Tags                []Tag      `json:"Tags,omitempty"`
	Rotation            Rotation   `json:"Rotation"`
	Versions            []Version  `json:"Versions"`
	// Policy is the key policy document (version 2). Empty in records
	// written before policies existed.
	Policy string `json:"Policy,omitempty"`
	// Unit is the systemd unit a service-managed key (KeyManager AWS) is
	// kept for.
	Unit string `json:"Unit,omitempty"`
	// Import is what is kept of imported material (Origin EXTERNAL, once
	// material was imported; version 3).
	Import *ImportState `json:"Import,omitempty"`
	// CustomKeyStoreId is the custom key store whose token holds the key
	// (Origin AWS_CLOUDHSM; version 3): such a key has no Versions, its
	// material never being in kmsd.
	CustomKeyStoreId string `json:"CustomKeyStoreId,omitempty"`
}

// ImportState is what kmsd keeps of a key's imported material besides its
// sealed version: a commitment to it, so that only the same material is
// imported again (AWS's rule) without the material ever being kept
// unsealed, and its expiration. It stays when the material is deleted.
type ImportState struct {
	// Commitment is HMAC-SHA256 of the material under a key kmsd derives
	// from its own key (kms.Service.DerivedKey), 32 bytes.
	Commitment      []byte     `json:"Commitment"`
	ExpirationModel string     `json:"ExpirationModel"`
	ValidTo         *time.Time `json:"ValidTo,omitempty"` // KEY_MATERIAL_EXPIRES only
}

// Tag is one tag of a key.
type Tag struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// Rotation is the automatic-rotation state of a key.
type Rotation struct {
	Enabled          bool       `json:"Enabled"`
	PeriodInDays     int        `json:"PeriodInDays,omitempty"`
	NextRotationDate *time.Time `json:"NextRotationDate,omitempty"`
	OnDemandCount    int        `json:"OnDemandCount,omitempty"`
}

// Rotation types, as ListKeyRotations reports them.
const (
	RotationAutomatic = "AUTOMATIC"
	RotationOnDemand  = "ON_DEMAND"
)

// Version is one version of a key's material, sealed under the root key.
// Versions are numbered from 1 in creation order; the last is current.
type Version struct {
	Version      uint32    `json:"Version"`
	Sealed       []byte    `json:"Sealed"`
	CreationDate time.Time `json:"CreationDate"`
	RotationType string    `json:"RotationType,omitempty"`
}

// Current returns the newest version, or nil for a key without material.
func (r *KeyRecord) Current() *Version {
	if len(r.Versions) == 0 {
		return nil
	}
	return &r.Versions[len(r.Versions)-1]
}

// Clone returns a deep copy, for copy-on-write updates.
func (r *KeyRecord) Clone() *KeyRecord {
	c := *r
	c.Tags = append([]Tag(nil), r.Tags...)
	c.Versions = append([]Version(nil), r.Versions...)
	if r.DeletionDate != nil {
		d := *r.DeletionDate
		c.DeletionDate = &d
	}
	if r.Rotation.NextRotationDate != nil {
		d := *r.Rotation.NextRotationDate
		c.Rotation.NextRotationDate = &d
	}
	if r.Import != nil {
		im := *r.Import
		im.Commitment = append([]byte(nil), r.Import.Commitment...)
		if r.Import.ValidTo != nil {
			d := *r.Import.ValidTo
			im.ValidTo = &d
		}
		c.Import = &im
	}
	return &c
}

// AliasRecord is one alias: a name that points at one key. Owner is the
// uid whose namespace it is in; nil for the administrators' namespace,
// which every user's names fall back to (docs/authorization.md).
type AliasRecord struct {
	V               int       `json:"v"`
	AliasName       string    `json:"AliasName"`
	Owner           *uint32   `json:"Owner,omitempty"`
	TargetKeyID     KeyID     `json:"TargetKeyId"`
	CreationDate    time.Time `json:"CreationDate"`
	LastUpdatedDate time.Time `json:"LastUpdatedDate"`
}

func encodeRecord(v any) ([]byte, error) { return json.Marshal(v) }

// decodeRecord decodes a record strictly: unknown fields, trailing data and
// versions other than 1..RecordVersion are errors.
func decodeRecord(b []byte, v any, version func() int) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after record")
	}
	if n := version(); n < 1 || n > RecordVersion {
		return fmt.Errorf("record format version %d is not supported (this kmsd reads 1..%d)", n, RecordVersion)
	}
	return nil
}

// DecodeKeyRecord decodes and checks a stored key record.
func DecodeKeyRecord(b []byte) (*KeyRecord, error) {
	r := &KeyRecord{}
	if err := decodeRecord(b, r, func() int { return r.V }); err != nil {
		return nil, fmt.Errorf("key record: %w", err)
	}
	for i, v := range r.Versions {
		if v.Version != uint32(i+1) {
			return nil, fmt.Errorf("key record %s: version %d at position %d", r.KeyID, v.Version, i)
		}
	}
	return r, nil
}

// DecodeAliasRecord decodes and checks a stored alias record.
func DecodeAliasRecord(b []byte) (*AliasRecord, error) {
	r := &AliasRecord{}
	if err := decodeRecord(b, r, func() int { return r.V }); err != nil {
		return nil, fmt.Errorf("alias record: %w", err)
	}
	return r, nil
}

// GrantRecord is one grant on a key (record version 2).
type GrantRecord struct {
	V                 int               `json:"v"`
	KeyID             KeyID             `json:"KeyId"`
	GrantID           string            `json:"GrantId"` // 64 hex digits
	Name              string            `json:"Name,omitempty"`
	CreationDate      time.Time         `json:"CreationDate"`
	GranteePrincipal  string            `json:"GranteePrincipal"`
	RetiringPrincipal string            `json:"RetiringPrincipal,omitempty"`
	Operations        []string          `json:"Operations"`
	ContextSubset     map[string]string `json:"EncryptionContextSubset,omitempty"`
	ContextEquals     map[string]string `json:"EncryptionContextEquals,omitempty"`
}

// DecodeGrantRecord decodes and checks a stored grant record.
func DecodeGrantRecord(b []byte) (*GrantRecord, error) {
	r := &GrantRecord{}
	if err := decodeRecord(b, r, func() int { return r.V }); err != nil {
		return nil, fmt.Errorf("grant record: %w", err)
	}
	if r.V < 2 || len(r.GrantID) != 64 {
		return nil, fmt.Errorf("grant record %q is malformed", r.GrantID)
	}
	return r, nil
}
