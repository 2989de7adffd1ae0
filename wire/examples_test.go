package wire

import (
	"time"

	"kmsd/wire/api"
)

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

func exampleMetadata() api.KeyMetadata {
	return api.KeyMetadata{
		AWSAccountId: "000000000000", KeyId: exKeyID, Arn: exKeyARN, CreationDate: exTime, Enabled: true,
		Description: "example", KeyUsage: api.KeyUsageEncryptDecrypt, KeyState: api.KeyStateEnabled, Origin: api.OriginKMS,
		KeyManager: api.KeyManagerCustomer, KeySpec: api.KeySpecSymmetric, CustomerMasterKeySpec: api.KeySpecSymmetric,
		EncryptionAlgorithms: []string{api.AlgSymmetricDefault}, CurrentKeyMaterialId: exMatID,
	}
}

func exampleInputs() map[string]api.Message {
	return map[string]api.Message{
		api.OpHello:                &api.HelloInput{ProtocolVersion: ProtocolVersion, Client: "example/1"},
		api.OpStatus:               &api.StatusInput{},
		api.OpCreateKey:            &api.CreateKeyInput{Description: "example", Tags: []api.Tag{{TagKey: "env", TagValue: "prod"}}},
		api.OpDescribeKey:          &api.DescribeKeyInput{KeyId: "alias/example"},
		api.OpListKeys:             &api.ListKeysInput{Limit: api.Int32(10), Marker: exKeyID},
		api.OpUpdateKeyDescription: &api.UpdateKeyDescriptionInput{KeyId: exKeyID, Description: "new"},
		api.OpEnableKey:            &api.KeyIDInput{KeyId: exKeyID},
		api.OpDisableKey:           &api.KeyIDInput{KeyId: exKeyARN},
		api.OpScheduleKeyDeletion:  &api.ScheduleKeyDeletionInput{KeyId: exKeyID, PendingWindowInDays: api.Int32(7)},
		api.OpCancelKeyDeletion:    &api.KeyIDInput{KeyId: exKeyID},
		api.OpCreateAlias:          &api.AliasInput{AliasName: "alias/example", TargetKeyId: exKeyID},
		api.OpUpdateAlias:          &api.AliasInput{AliasName: "alias/example", TargetKeyId: exKeyID},
		api.OpDeleteAlias:          &api.DeleteAliasInput{AliasName: "alias/example"},
		api.OpListAliases:          &api.ListAliasesInput{KeyId: exKeyID, Limit: api.Int32(50)},
		api.OpTagResource:          &api.TagResourceInput{KeyId: exKeyID, Tags: []api.Tag{{TagKey: "a", TagValue: "1"}, {TagKey: "b", TagValue: ""}}},
		api.OpUntagResource:        &api.UntagResourceInput{KeyId: exKeyID, TagKeys: []string{"a", "b"}},
		api.OpListResourceTags:     &api.ListResourceTagsInput{KeyId: exKeyID},
		api.OpEncrypt:              &api.EncryptInput{KeyId: "alias/example", Plaintext: []byte("hello, kms"), EncryptionContext: exEC},
		api.OpDecrypt:              &api.DecryptInput{CiphertextBlob: exBlob, EncryptionContext: exEC},
		api.OpReEncrypt: &api.ReEncryptInput{CiphertextBlob: exBlob, SourceEncryptionContext: exEC,
			DestinationKeyId: "alias/other", DestinationEncryptionContext: map[string]string{"purpose": "moved"}},
		api.OpGenerateDataKey:                     &api.GenerateDataKeyInput{KeyId: exKeyID, KeySpec: api.DataKeySpecAES256, EncryptionContext: exEC},
		api.OpGenerateDataKeyWithoutPlaintext:     &api.GenerateDataKeyInput{KeyId: exKeyID, NumberOfBytes: api.Int32(64)},
		api.OpGenerateRandom:                      &api.GenerateRandomInput{NumberOfBytes: api.Int32(16)},
		api.OpSign:                                &api.SignInput{KeyId: "alias/jwt", Message: []byte("header.payload"), MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256"},
		api.OpVerify:                              &api.VerifyInput{KeyId: "alias/jwt", Message: []byte("header.payload"), Signature: []byte{0x30, 6, 2, 1, 1, 2, 1, 1}, SigningAlgorithm: "ECDSA_SHA_256"},
		api.OpGetPublicKey:                        &api.GetPublicKeyInput{KeyId: "alias/jwt"},
		api.OpGenerateMac:                         &api.GenerateMacInput{KeyId: "alias/mac", Message: []byte("request"), MacAlgorithm: "HMAC_SHA_256"},
		api.OpVerifyMac:                           &api.VerifyMacInput{KeyId: "alias/mac", Message: []byte("request"), MacAlgorithm: "HMAC_SHA_256", Mac: []byte{1, 2, 3, 4}},
		api.OpDeriveSharedSecret:                  &api.DeriveSharedSecretInput{KeyId: "alias/ecdh", KeyAgreementAlgorithm: "ECDH", PublicKey: []byte{0x30, 0x59}},
		api.OpGenerateDataKeyPair:                 &api.GenerateDataKeyPairInput{KeyId: exKeyID, KeyPairSpec: "ECC_NIST_P256"},
		api.OpGenerateDataKeyPairWithoutPlaintext: &api.GenerateDataKeyPairInput{KeyId: exKeyID, KeyPairSpec: "RSA_2048", DryRun: true},
		api.OpEnableKeyRotation:                   &api.EnableKeyRotationInput{KeyId: exKeyID, RotationPeriodInDays: api.Int32(90)},
		api.OpDisableKeyRotation:                  &api.KeyIDInput{KeyId: exKeyID},
		api.OpGetKeyRotationStatus:                &api.KeyIDInput{KeyId: exKeyID},
		api.OpRotateKeyOnDemand:                   &api.KeyIDInput{KeyId: exKeyID},
		api.OpListKeyRotations:                    &api.ListKeyRotationsInput{KeyId: exKeyID, IncludeKeyMaterial: api.IncludeAllKeyMaterial, Limit: api.Int32(100)},
		api.OpPutKeyPolicy:                        &api.PutKeyPolicyInput{KeyId: exKeyID, PolicyName: "default", Policy: exPolicy},
		api.OpGetKeyPolicy:                        &api.GetKeyPolicyInput{KeyId: exKeyID, PolicyName: "default"},
		api.OpListKeyPolicies:                     &api.ListKeyPoliciesInput{KeyId: exKeyID},
		api.OpCreateGrant: &api.CreateGrantInput{KeyId: exKeyID, GranteePrincipal: "uid:1000", RetiringPrincipal: "uid:0",
			Operations: []string{"Encrypt", "Decrypt"}, Constraints: api.GrantConstraints{EncryptionContextSubset: map[string]string{"tenant": "a"}}, Name: "example"},
		api.OpListGrants:             &api.ListGrantsInput{KeyId: exKeyID, GranteePrincipal: "uid:1000"},
		api.OpListRetirableGrants:    &api.ListRetirableGrantsInput{RetiringPrincipal: "uid:0"},
		api.OpRetireGrant:            &api.RetireGrantInput{GrantToken: exToken},
		api.OpRevokeGrant:            &api.RevokeGrantInput{KeyId: exKeyID, GrantId: exGrantID},
		api.OpGetKeyLastUsage:        &api.KeyIDInput{KeyId: exKeyID},
		api.OpGetUsage:               &api.GetUsageInput{WindowMinutes: api.Int32(10)},
		api.OpCreateBackup:           &api.CreateBackupInput{},
		api.OpRotateRootKey:          &api.RotateRootKeyInput{},
		api.OpCreateAccessKey:        &api.CreateAccessKeyInput{Principal: "uid:1000"},
		api.OpGetParametersForImport: &api.GetParametersForImportInput{KeyId: exKeyID, WrappingAlgorithm: api.WrapOAEPSHA256, WrappingKeySpec: api.WrapRSA2048},
		api.OpImportKeyMaterial: &api.ImportKeyMaterialInput{KeyId: exKeyID, ImportToken: []byte("AQ...token"), EncryptedKeyMaterial: []byte("...256 bytes..."),
			ValidTo: &exLater, ExpirationModel: api.ExpirationExpires},
		api.OpDeleteImportedKeyMaterial: &api.DeleteImportedKeyMaterialInput{KeyId: exKeyID},
		api.OpCreateCustomKeyStore: &api.CreateCustomKeyStoreInput{CustomKeyStoreName: "hsm", Pkcs11Module: "/usr/lib/softhsm/libsofthsm2.so",
			TokenLabel: "kmsd", KeyStorePasswordFile: "/etc/kmsd/hsm-pin"},
		api.OpDescribeCustomKeyStores:  &api.DescribeCustomKeyStoresInput{CustomKeyStoreName: "hsm"},
		api.OpUpdateCustomKeyStore:     &api.UpdateCustomKeyStoreInput{CustomKeyStoreId: "cks-0123456789abcdef0", NewCustomKeyStoreName: "hsm2"},
		api.OpConnectCustomKeyStore:    &api.CustomKeyStoreIDInput{CustomKeyStoreId: "cks-0123456789abcdef0"},
		api.OpDisconnectCustomKeyStore: &api.CustomKeyStoreIDInput{CustomKeyStoreId: "cks-0123456789abcdef0"},
		api.OpDeleteCustomKeyStore:     &api.CustomKeyStoreIDInput{CustomKeyStoreId: "cks-0123456789abcdef0"},
		api.OpListAccessKeys:           &api.ListAccessKeysInput{},
		api.OpDeleteAccessKey:          &api.DeleteAccessKeyInput{AccessKeyId: "KMSDEXAMPLEEXAMPLE42"},
		api.OpGetBackupPart:            &api.GetBackupPartInput{BackupId: "5f0c0b1f9a3d4e6b8c7d2e1f0a9b8c7d", Offset: 1 << 20},
		api.OpVerifyAuditCheckpoints: &api.VerifyAuditCheckpointsInput{Checkpoints: []api.AuditCheckpoint{
			{Seq: 42, Prev: "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b", Mac: "b9f1a0c4d2e3f5061728394a5b6c7d8e9f00112233445566778899aabbccddee"}}},
	}
}

var exGrant = api.GrantListEntry{KeyId: exKeyARN, GrantId: exGrantID, Name: "example", CreationDate: exTime,
	GranteePrincipal: "uid:1000", RetiringPrincipal: "uid:0", IssuingAccount: "000000000000",
	Operations: []string{"Encrypt", "Decrypt"}, Constraints: api.GrantConstraints{EncryptionContextEquals: map[string]string{"tenant": "a"}}}

func exampleOutputs() map[string]api.Message {
	md := exampleMetadata()
	pending := md
	pending.KeyState, pending.Enabled, pending.DeletionDate, pending.PendingDeletionWindowInDays = api.KeyStatePendingDeletion, false, &exLater, api.Int32(30)
	return map[string]api.Message{
		api.OpHello: &api.HelloOutput{ProtocolVersion: ProtocolVersion, ServerVersion: "kmsd/1.0", Suite: "XAES-256-GCM",
			CPU:    api.CPUFeatures{AESNI: true, PCLMULQDQ: true, AVX2: true, PhysicalCores: 2},
			Limits: api.Limits{MaxFrame: MaxFrame, MaxBatchItems: MaxBatchItems, MaxInFlight: 256, MaxPlaintext: 4096, MaxCiphertextBlob: 6144}},
		api.OpStatus: &api.StatusOutput{ServerVersion: "kmsd/1.0", Suite: "XAES-256-GCM", CPU: api.CPUFeatures{AESNI: true, PhysicalCores: 2},
			StartTime: exTime, UptimeSeconds: 3600, KeyCount: 3, Connections: 1, Workers: 2, QueueDepth: 0, QueueCapacity: 4096},
		api.OpCreateKey:   &api.KeyMetadataOutput{KeyMetadata: md},
		api.OpDescribeKey: &api.KeyMetadataOutput{KeyMetadata: pending},
		api.OpListKeys: &api.ListKeysOutput{Keys: []api.KeyListEntry{{KeyId: exKeyID, KeyArn: exKeyARN}},
			NextMarker: exKeyID, Truncated: true},
		api.OpUpdateKeyDescription: &api.Empty{},
		api.OpEnableKey:            &api.Empty{},
		api.OpDisableKey:           &api.Empty{},
		api.OpScheduleKeyDeletion:  &api.ScheduleKeyDeletionOutput{KeyId: exKeyARN, DeletionDate: exLater, KeyState: api.KeyStatePendingDeletion, PendingWindowInDays: api.Int32(30)},
		api.OpCancelKeyDeletion:    &api.KeyIDOutput{KeyId: exKeyARN},
		api.OpCreateAlias:          &api.Empty{},
		api.OpUpdateAlias:          &api.Empty{},
		api.OpDeleteAlias:          &api.Empty{},
		api.OpListAliases: &api.ListAliasesOutput{Aliases: []api.AliasListEntry{{AliasName: "alias/example",
			AliasArn: "arn:kmsd:kms:local:000000000000:alias/example", TargetKeyId: exKeyID, CreationDate: exTime, LastUpdatedDate: exTime}}},
		api.OpTagResource:      &api.Empty{},
		api.OpUntagResource:    &api.Empty{},
		api.OpListResourceTags: &api.ListResourceTagsOutput{Tags: []api.Tag{{TagKey: "env", TagValue: "prod"}}},
		api.OpEncrypt:          &api.EncryptOutput{CiphertextBlob: exBlob, KeyId: exKeyARN, EncryptionAlgorithm: api.AlgSymmetricDefault, KeyMaterialId: exMatID},
		api.OpDecrypt:          &api.DecryptOutput{KeyId: exKeyARN, Plaintext: []byte("hello, kms"), EncryptionAlgorithm: api.AlgSymmetricDefault, KeyMaterialId: exMatID},
		api.OpReEncrypt: &api.ReEncryptOutput{CiphertextBlob: exBlob, SourceKeyId: exKeyARN, KeyId: exKeyARN,
			SourceEncryptionAlgorithm: api.AlgSymmetricDefault, DestinationEncryptionAlgorithm: api.AlgSymmetricDefault,
			SourceKeyMaterialId: exMatID, DestinationKeyMaterialId: exMatID},
		api.OpGenerateDataKey:                     &api.GenerateDataKeyOutput{CiphertextBlob: exBlob, Plaintext: make([]byte, 32), KeyId: exKeyARN, KeyMaterialId: exMatID},
		api.OpGenerateDataKeyWithoutPlaintext:     &api.GenerateDataKeyOutput{CiphertextBlob: exBlob, KeyId: exKeyARN, KeyMaterialId: exMatID},
		api.OpGenerateRandom:                      &api.GenerateRandomOutput{Plaintext: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
		api.OpSign:                                &api.SignOutput{KeyId: exKeyARN, Signature: []byte{0x30, 6, 2, 1, 1, 2, 1, 1}, SigningAlgorithm: "ECDSA_SHA_256"},
		api.OpVerify:                              &api.VerifyOutput{KeyId: exKeyARN, SignatureValid: true, SigningAlgorithm: "ECDSA_SHA_256"},
		api.OpGetPublicKey:                        &api.GetPublicKeyOutput{KeyId: exKeyARN, PublicKey: []byte{0x30, 0x59}, KeySpec: "ECC_NIST_P256", CustomerMasterKeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", SigningAlgorithms: []string{"ECDSA_SHA_256"}},
		api.OpGenerateMac:                         &api.GenerateMacOutput{KeyId: exKeyARN, Mac: []byte{1, 2, 3, 4}, MacAlgorithm: "HMAC_SHA_256"},
		api.OpVerifyMac:                           &api.VerifyMacOutput{KeyId: exKeyARN, MacValid: true, MacAlgorithm: "HMAC_SHA_256"},
		api.OpDeriveSharedSecret:                  &api.DeriveSharedSecretOutput{KeyId: exKeyARN, SharedSecret: []byte{9, 9}, KeyAgreementAlgorithm: "ECDH", KeyOrigin: "AWS_KMS"},
		api.OpGenerateDataKeyPair:                 &api.GenerateDataKeyPairOutput{KeyId: exKeyARN, KeyPairSpec: "ECC_NIST_P256", PrivateKeyCiphertextBlob: []byte{1}, PrivateKeyPlaintext: []byte{2}, PublicKey: []byte{3}},
		api.OpGenerateDataKeyPairWithoutPlaintext: &api.GenerateDataKeyPairOutput{KeyId: exKeyARN, KeyPairSpec: "RSA_2048", PrivateKeyCiphertextBlob: []byte{1}, PublicKey: []byte{3}},
		api.OpEnableKeyRotation:                   &api.Empty{},
		api.OpDisableKeyRotation:                  &api.Empty{},
		api.OpGetKeyRotationStatus: &api.GetKeyRotationStatusOutput{KeyId: exKeyARN, KeyRotationEnabled: true,
			RotationPeriodInDays: api.Int32(365), NextRotationDate: &exLater},
		api.OpRotateKeyOnDemand: &api.KeyIDOutput{KeyId: exKeyARN},
		api.OpListKeyRotations: &api.ListKeyRotationsOutput{Rotations: []api.RotationsListEntry{
			{KeyId: exKeyID, KeyMaterialId: exMatID, KeyMaterialState: "NON_CURRENT"},
			{KeyId: exKeyID, KeyMaterialId: exMatID, KeyMaterialState: "CURRENT", RotationDate: &exLater, RotationType: "ON_DEMAND"}}},
		api.OpPutKeyPolicy:        &api.Empty{},
		api.OpGetKeyPolicy:        &api.GetKeyPolicyOutput{Policy: exPolicy, PolicyName: "default"},
		api.OpListKeyPolicies:     &api.ListKeyPoliciesOutput{PolicyNames: []string{"default"}},
		api.OpCreateGrant:         &api.CreateGrantOutput{GrantToken: exToken, GrantId: exGrantID},
		api.OpListGrants:          &api.ListGrantsOutput{Grants: []api.GrantListEntry{exGrant}},
		api.OpListRetirableGrants: &api.ListGrantsOutput{Grants: []api.GrantListEntry{exGrant}, NextMarker: exGrantID, Truncated: true},
		api.OpRetireGrant:         &api.Empty{},
		api.OpRevokeGrant:         &api.Empty{},
		api.OpGetKeyLastUsage: &api.GetKeyLastUsageOutput{KeyId: exKeyARN, KeyLastUsage: api.KeyLastUsage{Operation: "Encrypt", Timestamp: exLater, EventId: "1234"},
			TrackingStartDate: exTime, KeyCreationDate: exTime},
		api.OpRotateRootKey: &api.RotateRootKeyOutput{RootKeyFile: "/var/lib/kmsd/root-key", OldRootKeyFile: "/var/lib/kmsd/root-key.old", Keys: 10002},
		api.OpCreateAccessKey: &api.CreateAccessKeyOutput{AccessKey: api.AccessKey{UserName: "uid:1000", AccessKeyId: "KMSDEXAMPLEEXAMPLE42",
			Status: "Active", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", CreateDate: exTime}},
		api.OpListAccessKeys: &api.ListAccessKeysOutput{AccessKeyMetadata: []api.AccessKeyMetadata{{UserName: "uid:1000",
			AccessKeyId: "KMSDEXAMPLEEXAMPLE42", Status: "Active", CreateDate: exTime}}},
		api.OpDeleteAccessKey: &api.Empty{},
		api.OpGetParametersForImport: &api.GetParametersForImportOutput{KeyId: exKeyARN, ImportToken: []byte("AQ...token"),
			PublicKey: []byte("0\x82\x01\x22..."), ParametersValidTo: exLater},
		api.OpImportKeyMaterial:    &api.ImportKeyMaterialOutput{KeyId: exKeyARN, KeyMaterialId: exMatID},
		api.OpCreateCustomKeyStore: &api.CreateCustomKeyStoreOutput{CustomKeyStoreId: "cks-0123456789abcdef0"},
		api.OpDescribeCustomKeyStores: &api.DescribeCustomKeyStoresOutput{CustomKeyStores: []api.CustomKeyStoresListEntry{{
			CustomKeyStoreId: "cks-0123456789abcdef0", CustomKeyStoreName: "hsm", CloudHsmClusterId: "e081472f1374dd2f",
			ConnectionState: api.ConnectionConnected, CreationDate: exTime, CustomKeyStoreType: api.CustomKeyStoreTypePKCS11,
			Pkcs11Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "kmsd", KeyStorePasswordFile: "/etc/kmsd/hsm-pin"}}},
		api.OpUpdateCustomKeyStore:      &api.Empty{},
		api.OpConnectCustomKeyStore:     &api.Empty{},
		api.OpDisconnectCustomKeyStore:  &api.Empty{},
		api.OpDeleteCustomKeyStore:      &api.Empty{},
		api.OpDeleteImportedKeyMaterial: &api.DeleteImportedKeyMaterialOutput{KeyId: exKeyARN, KeyMaterialId: exMatID},
		api.OpCreateBackup:              &api.CreateBackupOutput{BackupId: "5f0c0b1f9a3d4e6b8c7d2e1f0a9b8c7d", Size: 3 << 20, Records: 40211, Keys: 10002, Created: exTime},
		api.OpGetBackupPart:             &api.GetBackupPartOutput{Data: []byte("KMSDBAK1..."), Size: 3 << 20},
		api.OpGetUsage:                  &api.GetUsageOutput{Since: exTime, WindowMinutes: 10, Usage: []api.UsageEntry{{KeyId: exKeyID, Principal: "uid:1000", Requests: 7, Errors: 1}}},
		api.OpVerifyAuditCheckpoints: &api.VerifyAuditCheckpointsOutput{FirstInvalid: -1, HeadSeq: 42,
			HeadHash: "0c2a9f4e1b7d3a58e6f0c1b2a3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a", AuditDir: "/var/lib/kmsd/audit"},
	}
}
