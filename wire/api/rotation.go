package api

import "time"

// EnableKeyRotationInput is the request of EnableKeyRotation.
type EnableKeyRotationInput struct {
	KeyId                string `json:",omitzero"` // key id or key ARN
	RotationPeriodInDays *int32 `json:",omitzero"` // 90..2560, default 365
}

// GetKeyRotationStatusOutput is the response of GetKeyRotationStatus.
type GetKeyRotationStatusOutput struct {
	KeyId                     string `json:",omitzero"`
	KeyRotationEnabled        bool
	RotationPeriodInDays      *int32     `json:",omitzero"` // set while rotation is enabled
	NextRotationDate          *time.Time `json:",omitzero"`
	OnDemandRotationStartDate *time.Time `json:",omitzero"`
}

// ListKeyRotationsInput is the request of ListKeyRotations.
type ListKeyRotationsInput struct {
	KeyId              string `json:",omitzero"` // key id or key ARN
	IncludeKeyMaterial string `json:",omitzero"` // ROTATIONS_ONLY (default) or ALL_KEY_MATERIAL
	Limit              *int32 `json:",omitzero"` // 1..1000, default 100
	Marker             string `json:",omitzero"`
}

// RotationsListEntry is one entry of ListKeyRotations.
type RotationsListEntry struct {
	KeyId            string     `json:",omitzero"`
	KeyMaterialId    string     `json:",omitzero"`
	KeyMaterialState string     `json:",omitzero"` // CURRENT or NON_CURRENT
	RotationDate     *time.Time `json:",omitzero"`
	RotationType     string     `json:",omitzero"` // AUTOMATIC or ON_DEMAND; empty for the first material
}

// ListKeyRotationsOutput is the response of ListKeyRotations.
type ListKeyRotationsOutput struct {
	Rotations  []RotationsListEntry `json:",omitzero"`
	NextMarker string               `json:",omitzero"`
	Truncated  bool
}
