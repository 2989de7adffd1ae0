package wire

import "time"

// Example bodies for every operation: the testdata frames, the fuzz seeds
// and the examples of docs/wire-protocol.md are made from these.

var (
	exKeyID   = "1234abcd-12ab-44cd-96ef-1234567890ab"
	exKeyARN  = "arn:kmsd:kms:local:000000000000:key/" + exKeyID
	exTime    = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	exLater   = exTime.Add(30 * 24 * time.Hour)
	exEC      = map[string]string{"purpose": "example", "tenant": "a"}
	exBlob    = []byte{0x01, 0x01, 0x12, 0x34, 0xab, 0xcd, 0x12, 0xab, 0x44, 0xcd, 0x96, 0xef, 0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0, 0, 0, 1}
	exPolicy  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Kmsd":"uid:0"},"Action":"kms:*","Resource":"*"}]}`
	exGrantID = "0c2a9f4e1b7d3a58e6f0c1b2a3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a"
	exToken   = "kmsdgt1_AQIDBAUGBwgJCgsMDQ4PEAwqn04bfTpY5vDBsqPU5fYHGCk6S1xtfo-aCxwtPk9aERERERERERERERERERERERE"
	exMatID   = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

func exampleMetadata() KeyMetadata {
	return KeyMetadata{
		AWSAccountId: "000000000000", KeyId: exKeyID, Arn: exKeyARN, CreationDate: exTime, Enabled: true,
		Description: "example", KeyUsage: KeyUsageEncryptDecrypt, KeyState: KeyStateEnabled, Origin: OriginKMS,
		KeyManager: KeyManagerCustomer, KeySpec: KeySpecSymmetric, CustomerMasterKeySpec: KeySpecSymmetric,
		EncryptionAlgorithms: []string{AlgSymmetricDefault}, CurrentKeyMaterialId: exMatID,
	}
}

func exampleInputs() map[string]Message {
	return map[string]Message{
		OpHello:                &HelloInput{ProtocolVersion: ProtocolVersion, Client: "example/1"},
		OpStatus:               &StatusInput{},
		OpCreateKey:            &CreateKeyInput{Description: "example", Tags: []Tag{{TagKey: "env", TagValue: "prod"}}},
		OpDescribeKey:          &DescribeKeyInput{KeyId: "alias/example"},
		OpListKeys:             &ListKeysInput{Limit: 10, Marker: exKeyID},
		OpUpdateKeyDescription: &UpdateKeyDescriptionInput{KeyId: exKeyID, Description: "new"},
		OpEnableKey:            &KeyIDInput{KeyId: exKeyID},
		OpDisableKey:           &KeyIDInput{KeyId: exKeyARN},
		OpScheduleKeyDeletion:  &ScheduleKeyDeletionInput{KeyId: exKeyID, PendingWindowInDays: 7},
		OpCancelKeyDeletion:    &KeyIDInput{KeyId: exKeyID},
		OpCreateAlias:          &AliasInput{AliasName: "alias/example", TargetKeyId: exKeyID},
		OpUpdateAlias:          &AliasInput{AliasName: "alias/example", TargetKeyId: exKeyID},
		OpDeleteAlias:          &DeleteAliasInput{AliasName: "alias/example"},
		OpListAliases:          &ListAliasesInput{KeyId: exKeyID, Limit: 50},
		OpTagResource:          &TagResourceInput{KeyId: exKeyID, Tags: []Tag{{TagKey: "a", TagValue: "1"}, {TagKey: "b", TagValue: ""}}},
		OpUntagResource:        &UntagResourceInput{KeyId: exKeyID, TagKeys: []string{"a", "b"}},
		OpListResourceTags:     &ListResourceTagsInput{KeyId: exKeyID},
		OpEncrypt:              &EncryptInput{KeyId: "alias/example", Plaintext: []byte("hello, kms"), EncryptionContext: exEC},
		OpDecrypt:              &DecryptInput{CiphertextBlob: exBlob, EncryptionContext: exEC},
		OpReEncrypt: &ReEncryptInput{CiphertextBlob: exBlob, SourceEncryptionContext: exEC,
			DestinationKeyId: "alias/other", DestinationEncryptionContext: map[string]string{"purpose": "moved"}},
		OpGenerateDataKey:                 &GenerateDataKeyInput{KeyId: exKeyID, KeySpec: DataKeySpecAES256, EncryptionContext: exEC},
		OpGenerateDataKeyWithoutPlaintext: &GenerateDataKeyInput{KeyId: exKeyID, NumberOfBytes: 64},
		OpGenerateRandom:                  &GenerateRandomInput{NumberOfBytes: 16},
		OpEnableKeyRotation:               &EnableKeyRotationInput{KeyId: exKeyID, RotationPeriodInDays: 90},
		OpDisableKeyRotation:              &KeyIDInput{KeyId: exKeyID},
		OpGetKeyRotationStatus:            &KeyIDInput{KeyId: exKeyID},
		OpRotateKeyOnDemand:               &KeyIDInput{KeyId: exKeyID},
		OpListKeyRotations:                &ListKeyRotationsInput{KeyId: exKeyID, IncludeKeyMaterial: IncludeAllKeyMaterial, Limit: 100},
		OpPutKeyPolicy:                    &PutKeyPolicyInput{KeyId: exKeyID, PolicyName: "default", Policy: exPolicy},
		OpGetKeyPolicy:                    &GetKeyPolicyInput{KeyId: exKeyID, PolicyName: "default"},
		OpListKeyPolicies:                 &ListKeyPoliciesInput{KeyId: exKeyID},
		OpCreateGrant: &CreateGrantInput{KeyId: exKeyID, GranteePrincipal: "uid:1000", RetiringPrincipal: "uid:0",
			Operations: []string{"Encrypt", "Decrypt"}, Constraints: GrantConstraints{EncryptionContextSubset: map[string]string{"tenant": "a"}}, Name: "example"},
		OpListGrants:          &ListGrantsInput{KeyId: exKeyID, GranteePrincipal: "uid:1000"},
		OpListRetirableGrants: &ListRetirableGrantsInput{RetiringPrincipal: "uid:0"},
		OpRetireGrant:         &RetireGrantInput{GrantToken: exToken},
		OpRevokeGrant:         &RevokeGrantInput{KeyId: exKeyID, GrantId: exGrantID},
		OpGetKeyLastUsage:     &KeyIDInput{KeyId: exKeyID},
		OpGetUsage:            &GetUsageInput{WindowMinutes: 10},
		OpVerifyAuditCheckpoints: &VerifyAuditCheckpointsInput{Checkpoints: []AuditCheckpoint{
			{Seq: 42, Prev: "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b", Mac: "b9f1a0c4d2e3f5061728394a5b6c7d8e9f00112233445566778899aabbccddee"}}},
	}
}

var exGrant = GrantListEntry{KeyId: exKeyARN, GrantId: exGrantID, Name: "example", CreationDate: exTime,
	GranteePrincipal: "uid:1000", RetiringPrincipal: "uid:0", IssuingAccount: "000000000000",
	Operations: []string{"Encrypt", "Decrypt"}, Constraints: GrantConstraints{EncryptionContextEquals: map[string]string{"tenant": "a"}}}

func exampleOutputs() map[string]Message {
	md := exampleMetadata()
	pending := md
	pending.KeyState, pending.Enabled, pending.DeletionDate, pending.PendingDeletionWindowInDays = KeyStatePendingDeletion, false, &exLater, 30
	return map[string]Message{
		OpHello: &HelloOutput{ProtocolVersion: ProtocolVersion, ServerVersion: "kmsd/1.0", Suite: "XAES-256-GCM",
			CPU:    CPUFeatures{AESNI: true, PCLMULQDQ: true, AVX2: true, PhysicalCores: 2},
			Limits: Limits{MaxFrame: MaxFrame, MaxBatchItems: MaxBatchItems, MaxInFlight: 256, MaxPlaintext: 4096, MaxCiphertextBlob: 6144}},
		OpStatus: &StatusOutput{ServerVersion: "kmsd/1.0", Suite: "XAES-256-GCM", CPU: CPUFeatures{AESNI: true, PhysicalCores: 2},
			StartTime: exTime, UptimeSeconds: 3600, KeyCount: 3, Connections: 1, Workers: 2, QueueDepth: 0, QueueCapacity: 4096},
		OpCreateKey:   &KeyMetadataOutput{KeyMetadata: md},
		OpDescribeKey: &KeyMetadataOutput{KeyMetadata: pending},
		OpListKeys: &ListKeysOutput{Keys: []KeyListEntry{{KeyId: exKeyID, KeyArn: exKeyARN}},
			NextMarker: exKeyID, Truncated: true},
		OpUpdateKeyDescription: &Empty{},
		OpEnableKey:            &Empty{},
		OpDisableKey:           &Empty{},
		OpScheduleKeyDeletion:  &ScheduleKeyDeletionOutput{KeyId: exKeyARN, DeletionDate: exLater, KeyState: KeyStatePendingDeletion, PendingWindowInDays: 30},
		OpCancelKeyDeletion:    &KeyIDOutput{KeyId: exKeyARN},
		OpCreateAlias:          &Empty{},
		OpUpdateAlias:          &Empty{},
		OpDeleteAlias:          &Empty{},
		OpListAliases: &ListAliasesOutput{Aliases: []AliasListEntry{{AliasName: "alias/example",
			AliasArn: "arn:kmsd:kms:local:000000000000:alias/example", TargetKeyId: exKeyID, CreationDate: exTime, LastUpdatedDate: exTime}}},
		OpTagResource:      &Empty{},
		OpUntagResource:    &Empty{},
		OpListResourceTags: &ListResourceTagsOutput{Tags: []Tag{{TagKey: "env", TagValue: "prod"}}},
		OpEncrypt:          &EncryptOutput{CiphertextBlob: exBlob, KeyId: exKeyARN, EncryptionAlgorithm: AlgSymmetricDefault, KeyMaterialId: exMatID},
		OpDecrypt:          &DecryptOutput{KeyId: exKeyARN, Plaintext: []byte("hello, kms"), EncryptionAlgorithm: AlgSymmetricDefault, KeyMaterialId: exMatID},
		OpReEncrypt: &ReEncryptOutput{CiphertextBlob: exBlob, SourceKeyId: exKeyARN, KeyId: exKeyARN,
			SourceEncryptionAlgorithm: AlgSymmetricDefault, DestinationEncryptionAlgorithm: AlgSymmetricDefault,
			SourceKeyMaterialId: exMatID, DestinationKeyMaterialId: exMatID},
		OpGenerateDataKey:                 &GenerateDataKeyOutput{CiphertextBlob: exBlob, Plaintext: make([]byte, 32), KeyId: exKeyARN, KeyMaterialId: exMatID},
		OpGenerateDataKeyWithoutPlaintext: &GenerateDataKeyOutput{CiphertextBlob: exBlob, KeyId: exKeyARN, KeyMaterialId: exMatID},
		OpGenerateRandom:                  &GenerateRandomOutput{Plaintext: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
		OpEnableKeyRotation:               &Empty{},
		OpDisableKeyRotation:              &Empty{},
		OpGetKeyRotationStatus: &GetKeyRotationStatusOutput{KeyId: exKeyARN, KeyRotationEnabled: true,
			RotationPeriodInDays: 365, NextRotationDate: &exLater},
		OpRotateKeyOnDemand: &KeyIDOutput{KeyId: exKeyARN},
		OpListKeyRotations: &ListKeyRotationsOutput{Rotations: []RotationsListEntry{
			{KeyId: exKeyID, KeyMaterialId: exMatID, KeyMaterialState: "NON_CURRENT"},
			{KeyId: exKeyID, KeyMaterialId: exMatID, KeyMaterialState: "CURRENT", RotationDate: &exLater, RotationType: "ON_DEMAND"}}},
		OpPutKeyPolicy:        &Empty{},
		OpGetKeyPolicy:        &GetKeyPolicyOutput{Policy: exPolicy, PolicyName: "default"},
		OpListKeyPolicies:     &ListKeyPoliciesOutput{PolicyNames: []string{"default"}},
		OpCreateGrant:         &CreateGrantOutput{GrantToken: exToken, GrantId: exGrantID},
		OpListGrants:          &ListGrantsOutput{Grants: []GrantListEntry{exGrant}},
		OpListRetirableGrants: &ListGrantsOutput{Grants: []GrantListEntry{exGrant}, NextMarker: exGrantID, Truncated: true},
		OpRetireGrant:         &Empty{},
		OpRevokeGrant:         &Empty{},
		OpGetKeyLastUsage: &GetKeyLastUsageOutput{KeyId: exKeyARN, KeyLastUsage: KeyLastUsage{Operation: "Encrypt", Timestamp: exLater, EventId: "1234"},
			TrackingStartDate: exTime, KeyCreationDate: exTime},
		OpGetUsage: &GetUsageOutput{Since: exTime, WindowMinutes: 10, Usage: []UsageEntry{{KeyId: exKeyID, Principal: "uid:1000", Requests: 7, Errors: 1}}},
		OpVerifyAuditCheckpoints: &VerifyAuditCheckpointsOutput{FirstInvalid: -1, HeadSeq: 42,
			HeadHash: "0c2a9f4e1b7d3a58e6f0c1b2a3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a", AuditDir: "/var/lib/kmsd/audit"},
	}
}
