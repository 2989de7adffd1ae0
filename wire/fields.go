package wire

// Field lists: the wire form of each message (see codec.go). The order
// here is the order of the encoding.

func (m *Tag) fields(l *fieldList) {
	l.add("TagKey", &m.TagKey)
	l.add("TagValue", &m.TagValue)
}

func (m *KeyMetadata) fields(l *fieldList) {
	l.add("AWSAccountId", &m.AWSAccountId)
	l.add("KeyId", &m.KeyId)
	l.add("Arn", &m.Arn)
	l.add("CreationDate", &m.CreationDate)
	l.add("Enabled", &m.Enabled)
	l.add("Description", &m.Description)
	l.add("KeyUsage", &m.KeyUsage)
	l.add("KeyState", &m.KeyState)
	l.add("DeletionDate", &m.DeletionDate)
	l.add("Origin", &m.Origin)
	l.add("KeyManager", &m.KeyManager)
	l.add("KeySpec", &m.KeySpec)
	l.add("CustomerMasterKeySpec", &m.CustomerMasterKeySpec)
	l.add("EncryptionAlgorithms", &m.EncryptionAlgorithms)
	l.add("MultiRegion", &m.MultiRegion)
	l.add("PendingDeletionWindowInDays", &m.PendingDeletionWindowInDays)
	l.add("CurrentKeyMaterialId", &m.CurrentKeyMaterialId)
}

func (m *CreateKeyInput) fields(l *fieldList) {
	l.add("Description", &m.Description)
	l.add("KeyUsage", &m.KeyUsage)
	l.add("KeySpec", &m.KeySpec)
	l.add("Origin", &m.Origin)
	l.add("MultiRegion", &m.MultiRegion)
	l.add("Tags", listOf(&m.Tags))
	l.add("Policy", &m.Policy)
	l.add("BypassPolicyLockoutSafetyCheck", &m.BypassPolicyLockoutSafetyCheck)
}

func (m *KeyIDInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
}

func (m *DescribeKeyInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("GrantTokens", &m.GrantTokens)
}

func (m *KeyMetadataOutput) fields(l *fieldList) {
	l.add("KeyMetadata", &m.KeyMetadata)
}

func (m *ListKeysInput) fields(l *fieldList) {
	l.add("Limit", &m.Limit)
	l.add("Marker", &m.Marker)
}

func (m *KeyListEntry) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("KeyArn", &m.KeyArn)
}

func (m *ListKeysOutput) fields(l *fieldList) {
	l.add("Keys", listOf(&m.Keys))
	l.add("NextMarker", &m.NextMarker)
	l.add("Truncated", &m.Truncated)
}

func (m *UpdateKeyDescriptionInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("Description", &m.Description)
}

func (m *ScheduleKeyDeletionInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("PendingWindowInDays", &m.PendingWindowInDays)
}

func (m *ScheduleKeyDeletionOutput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("DeletionDate", &m.DeletionDate)
	l.add("KeyState", &m.KeyState)
	l.add("PendingWindowInDays", &m.PendingWindowInDays)
}

func (m *KeyIDOutput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
}

func (m *AliasInput) fields(l *fieldList) {
	l.add("AliasName", &m.AliasName)
	l.add("TargetKeyId", &m.TargetKeyId)
}

func (m *DeleteAliasInput) fields(l *fieldList) {
	l.add("AliasName", &m.AliasName)
}

func (m *ListAliasesInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("Limit", &m.Limit)
	l.add("Marker", &m.Marker)
}

func (m *AliasListEntry) fields(l *fieldList) {
	l.add("AliasName", &m.AliasName)
	l.add("AliasArn", &m.AliasArn)
	l.add("TargetKeyId", &m.TargetKeyId)
	l.add("CreationDate", &m.CreationDate)
	l.add("LastUpdatedDate", &m.LastUpdatedDate)
}

func (m *ListAliasesOutput) fields(l *fieldList) {
	l.add("Aliases", listOf(&m.Aliases))
	l.add("NextMarker", &m.NextMarker)
	l.add("Truncated", &m.Truncated)
}

func (m *TagResourceInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("Tags", listOf(&m.Tags))
}

func (m *UntagResourceInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("TagKeys", &m.TagKeys)
}

func (m *ListResourceTagsInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("Limit", &m.Limit)
	l.add("Marker", &m.Marker)
}

func (m *ListResourceTagsOutput) fields(l *fieldList) {
	l.add("Tags", listOf(&m.Tags))
	l.add("NextMarker", &m.NextMarker)
	l.add("Truncated", &m.Truncated)
}

func (m *EncryptInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("Plaintext", &m.Plaintext)
	l.add("EncryptionContext", &m.EncryptionContext)
	l.add("GrantTokens", &m.GrantTokens)
	l.add("EncryptionAlgorithm", &m.EncryptionAlgorithm)
}

func (m *EncryptOutput) fields(l *fieldList) {
	l.add("CiphertextBlob", &m.CiphertextBlob)
	l.add("KeyId", &m.KeyId)
	l.add("EncryptionAlgorithm", &m.EncryptionAlgorithm)
	l.add("KeyMaterialId", &m.KeyMaterialId)
}

func (m *DecryptInput) fields(l *fieldList) {
	l.add("CiphertextBlob", &m.CiphertextBlob)
	l.add("EncryptionContext", &m.EncryptionContext)
	l.add("GrantTokens", &m.GrantTokens)
	l.add("KeyId", &m.KeyId)
	l.add("EncryptionAlgorithm", &m.EncryptionAlgorithm)
}

func (m *DecryptOutput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("Plaintext", &m.Plaintext)
	l.add("EncryptionAlgorithm", &m.EncryptionAlgorithm)
	l.add("KeyMaterialId", &m.KeyMaterialId)
}

func (m *ReEncryptInput) fields(l *fieldList) {
	l.add("CiphertextBlob", &m.CiphertextBlob)
	l.add("SourceEncryptionContext", &m.SourceEncryptionContext)
	l.add("SourceKeyId", &m.SourceKeyId)
	l.add("DestinationKeyId", &m.DestinationKeyId)
	l.add("DestinationEncryptionContext", &m.DestinationEncryptionContext)
	l.add("SourceEncryptionAlgorithm", &m.SourceEncryptionAlgorithm)
	l.add("DestinationEncryptionAlgorithm", &m.DestinationEncryptionAlgorithm)
	l.add("GrantTokens", &m.GrantTokens)
}

func (m *ReEncryptOutput) fields(l *fieldList) {
	l.add("CiphertextBlob", &m.CiphertextBlob)
	l.add("SourceKeyId", &m.SourceKeyId)
	l.add("KeyId", &m.KeyId)
	l.add("SourceEncryptionAlgorithm", &m.SourceEncryptionAlgorithm)
	l.add("DestinationEncryptionAlgorithm", &m.DestinationEncryptionAlgorithm)
	l.add("SourceKeyMaterialId", &m.SourceKeyMaterialId)
	l.add("DestinationKeyMaterialId", &m.DestinationKeyMaterialId)
}

func (m *GenerateDataKeyInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("KeySpec", &m.KeySpec)
	l.add("NumberOfBytes", &m.NumberOfBytes)
	l.add("EncryptionContext", &m.EncryptionContext)
	l.add("GrantTokens", &m.GrantTokens)
}

func (m *GenerateDataKeyOutput) fields(l *fieldList) {
	l.add("CiphertextBlob", &m.CiphertextBlob)
	l.add("Plaintext", &m.Plaintext)
	l.add("KeyId", &m.KeyId)
	l.add("KeyMaterialId", &m.KeyMaterialId)
}

func (m *GenerateRandomInput) fields(l *fieldList) {
	l.add("NumberOfBytes", &m.NumberOfBytes)
}

func (m *GenerateRandomOutput) fields(l *fieldList) {
	l.add("Plaintext", &m.Plaintext)
}

func (m *EnableKeyRotationInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("RotationPeriodInDays", &m.RotationPeriodInDays)
}

func (m *GetKeyRotationStatusOutput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("KeyRotationEnabled", &m.KeyRotationEnabled)
	l.add("RotationPeriodInDays", &m.RotationPeriodInDays)
	l.add("NextRotationDate", &m.NextRotationDate)
	l.add("OnDemandRotationStartDate", &m.OnDemandRotationStartDate)
}

func (m *ListKeyRotationsInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("IncludeKeyMaterial", &m.IncludeKeyMaterial)
	l.add("Limit", &m.Limit)
	l.add("Marker", &m.Marker)
}

func (m *RotationsListEntry) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("KeyMaterialId", &m.KeyMaterialId)
	l.add("KeyMaterialState", &m.KeyMaterialState)
	l.add("RotationDate", &m.RotationDate)
	l.add("RotationType", &m.RotationType)
}

func (m *ListKeyRotationsOutput) fields(l *fieldList) {
	l.add("Rotations", listOf(&m.Rotations))
	l.add("NextMarker", &m.NextMarker)
	l.add("Truncated", &m.Truncated)
}

func (m *PutKeyPolicyInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("PolicyName", &m.PolicyName)
	l.add("Policy", &m.Policy)
	l.add("BypassPolicyLockoutSafetyCheck", &m.BypassPolicyLockoutSafetyCheck)
}

func (m *GetKeyPolicyInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("PolicyName", &m.PolicyName)
}

func (m *GetKeyPolicyOutput) fields(l *fieldList) {
	l.add("Policy", &m.Policy)
	l.add("PolicyName", &m.PolicyName)
}

func (m *ListKeyPoliciesInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("Limit", &m.Limit)
	l.add("Marker", &m.Marker)
}

func (m *ListKeyPoliciesOutput) fields(l *fieldList) {
	l.add("PolicyNames", &m.PolicyNames)
	l.add("NextMarker", &m.NextMarker)
	l.add("Truncated", &m.Truncated)
}

func (m *GrantConstraints) fields(l *fieldList) {
	l.add("EncryptionContextSubset", &m.EncryptionContextSubset)
	l.add("EncryptionContextEquals", &m.EncryptionContextEquals)
}

func (m *CreateGrantInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("GranteePrincipal", &m.GranteePrincipal)
	l.add("RetiringPrincipal", &m.RetiringPrincipal)
	l.add("Operations", &m.Operations)
	l.add("Constraints", &m.Constraints)
	l.add("GrantTokens", &m.GrantTokens)
	l.add("Name", &m.Name)
}

func (m *CreateGrantOutput) fields(l *fieldList) {
	l.add("GrantToken", &m.GrantToken)
	l.add("GrantId", &m.GrantId)
}

func (m *ListGrantsInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("GrantId", &m.GrantId)
	l.add("GranteePrincipal", &m.GranteePrincipal)
	l.add("Limit", &m.Limit)
	l.add("Marker", &m.Marker)
}

func (m *GrantListEntry) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("GrantId", &m.GrantId)
	l.add("Name", &m.Name)
	l.add("CreationDate", &m.CreationDate)
	l.add("GranteePrincipal", &m.GranteePrincipal)
	l.add("RetiringPrincipal", &m.RetiringPrincipal)
	l.add("IssuingAccount", &m.IssuingAccount)
	l.add("Operations", &m.Operations)
	l.add("Constraints", &m.Constraints)
}

func (m *ListGrantsOutput) fields(l *fieldList) {
	l.add("Grants", listOf(&m.Grants))
	l.add("NextMarker", &m.NextMarker)
	l.add("Truncated", &m.Truncated)
}

func (m *ListRetirableGrantsInput) fields(l *fieldList) {
	l.add("RetiringPrincipal", &m.RetiringPrincipal)
	l.add("Limit", &m.Limit)
	l.add("Marker", &m.Marker)
}

func (m *RetireGrantInput) fields(l *fieldList) {
	l.add("GrantToken", &m.GrantToken)
	l.add("KeyId", &m.KeyId)
	l.add("GrantId", &m.GrantId)
}

func (m *RevokeGrantInput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("GrantId", &m.GrantId)
}

func (m *HelloInput) fields(l *fieldList) {
	l.add("ProtocolVersion", &m.ProtocolVersion)
	l.add("Client", &m.Client)
}

func (m *HelloOutput) fields(l *fieldList) {
	l.add("ProtocolVersion", &m.ProtocolVersion)
	l.add("ServerVersion", &m.ServerVersion)
	l.add("Suite", &m.Suite)
	l.add("CPU", &m.CPU)
	l.add("Limits", &m.Limits)
}

func (m *CPUFeatures) fields(l *fieldList) {
	l.add("AESNI", &m.AESNI)
	l.add("PCLMULQDQ", &m.PCLMULQDQ)
	l.add("AVX2", &m.AVX2)
	l.add("VAES", &m.VAES)
	l.add("PhysicalCores", &m.PhysicalCores)
}

func (m *Limits) fields(l *fieldList) {
	l.add("MaxFrame", &m.MaxFrame)
	l.add("MaxBatchItems", &m.MaxBatchItems)
	l.add("MaxInFlight", &m.MaxInFlight)
	l.add("MaxPlaintext", &m.MaxPlaintext)
	l.add("MaxCiphertextBlob", &m.MaxCiphertextBlob)
}

func (m *StatusInput) fields(l *fieldList) {
}

func (m *StatusOutput) fields(l *fieldList) {
	l.add("ServerVersion", &m.ServerVersion)
	l.add("Suite", &m.Suite)
	l.add("CPU", &m.CPU)
	l.add("StartTime", &m.StartTime)
	l.add("UptimeSeconds", &m.UptimeSeconds)
	l.add("KeyCount", &m.KeyCount)
	l.add("Connections", &m.Connections)
	l.add("Workers", &m.Workers)
	l.add("QueueDepth", &m.QueueDepth)
	l.add("QueueCapacity", &m.QueueCapacity)
	l.add("Requests", &m.Requests)
	l.add("BatchRequests", &m.BatchRequests)
	l.add("Throttled", &m.Throttled)
	l.add("Audit", &m.Audit)
}

func (m *GetKeyLastUsageOutput) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("KeyLastUsage", &m.KeyLastUsage)
	l.add("TrackingStartDate", &m.TrackingStartDate)
	l.add("KeyCreationDate", &m.KeyCreationDate)
}

func (m *KeyLastUsage) fields(l *fieldList) {
	l.add("Operation", &m.Operation)
	l.add("Timestamp", &m.Timestamp)
	l.add("EventId", &m.EventId)
}

func (m *GetUsageInput) fields(l *fieldList) {
	l.add("WindowMinutes", &m.WindowMinutes)
}

func (m *GetUsageOutput) fields(l *fieldList) {
	l.add("Since", &m.Since)
	l.add("WindowMinutes", &m.WindowMinutes)
	l.add("Usage", listOf(&m.Usage))
}

func (m *UsageEntry) fields(l *fieldList) {
	l.add("KeyId", &m.KeyId)
	l.add("Principal", &m.Principal)
	l.add("Requests", &m.Requests)
	l.add("Errors", &m.Errors)
}

func (m *VerifyAuditCheckpointsInput) fields(l *fieldList) {
	l.add("Checkpoints", listOf(&m.Checkpoints))
}

func (m *AuditCheckpoint) fields(l *fieldList) {
	l.add("Seq", &m.Seq)
	l.add("Prev", &m.Prev)
	l.add("Mac", &m.Mac)
}

func (m *VerifyAuditCheckpointsOutput) fields(l *fieldList) {
	l.add("FirstInvalid", &m.FirstInvalid)
	l.add("HeadSeq", &m.HeadSeq)
	l.add("HeadHash", &m.HeadHash)
	l.add("AuditDir", &m.AuditDir)
}

func (m *Error) fields(l *fieldList) {
	l.add("Code", &m.Code)
	l.add("Message", &m.Message)
}
