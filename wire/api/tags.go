package api

// Tag is a key's tag.
type Tag struct {
	TagKey   string
	TagValue string
}

// TagResourceInput is the request of TagResource.
type TagResourceInput struct {
	KeyId string `json:",omitzero"` // key id or key ARN
	Tags  []Tag  `json:",omitzero" wire:"max=256"`
}

// UntagResourceInput is the request of UntagResource.
type UntagResourceInput struct {
	KeyId   string   `json:",omitzero"` // key id or key ARN
	TagKeys []string `json:",omitzero" wire:"max=256"`
}

// ListResourceTagsInput is the request of ListResourceTags.
type ListResourceTagsInput struct {
	KeyId  string `json:",omitzero"` // key id or key ARN
	Limit  *int32 `json:",omitzero"` // 1..50, default 50
	Marker string `json:",omitzero"`
}

// ListResourceTagsOutput is the response of ListResourceTags.
type ListResourceTagsOutput struct {
	Tags       []Tag  `json:",omitzero"`
	NextMarker string `json:",omitzero"`
	Truncated  bool
}
