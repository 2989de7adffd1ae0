package api

import "time"

// Custom key stores: keys kept in a PKCS#11 token (kmsd's equivalent of
// AWS's CloudHSM key stores). A store names a PKCS#11 module, a token
// (label or serial) and a file holding the token's PIN: the PIN is read
// when the store connects, never sent, stored or logged.

// CustomKeyStoreTypePKCS11 is kmsd's custom key store type.
const CustomKeyStoreTypePKCS11 = "PKCS11"

// Connection states and error codes, as AWS names them.
const (
	ConnectionConnected     = "CONNECTED"
	ConnectionConnecting    = "CONNECTING"
	ConnectionDisconnected  = "DISCONNECTED"
	ConnectionFailed        = "FAILED"
	ConnectionDisconnecting = "DISCONNECTING"

	ConnectionErrInvalidCredentials = "INVALID_CREDENTIALS"
	ConnectionErrNotFound           = "CLUSTER_NOT_FOUND"
	ConnectionErrInternal           = "INTERNAL_ERROR"
)

// OriginHSM is the origin of a key kept in a custom key store (AWS's name).
const OriginHSM = "AWS_CLOUDHSM"

// CreateCustomKeyStoreInput is the request of CreateCustomKeyStore.
type CreateCustomKeyStoreInput struct {
	CustomKeyStoreName   string `json:",omitzero"` // a name, unique among the stores
	CustomKeyStoreType   string `json:",omitzero"` // PKCS11 (the default)
	Pkcs11Module         string `json:",omitzero"` // the module's path
	TokenLabel           string `json:",omitzero"` // the token's label
	TokenSerial          string `json:",omitzero"` // the token's serial (instead of, or beside, its label)
	KeyStorePasswordFile string `json:",omitzero"` // a file kmsd reads the PIN from
}

// CreateCustomKeyStoreOutput names the new store.
type CreateCustomKeyStoreOutput struct {
	CustomKeyStoreId string `json:",omitzero"`
}

// CustomKeyStoreIDInput is the request of the operations that take only a
// store: Connect, Disconnect and Delete.
type CustomKeyStoreIDInput struct {
	CustomKeyStoreId string `json:",omitzero"` // the store
}

// DescribeCustomKeyStoresInput is the request of DescribeCustomKeyStores:
// one store by id or name, or all of them, a page at a time.
type DescribeCustomKeyStoresInput struct {
	CustomKeyStoreId   string `json:",omitzero"` // only this store
	CustomKeyStoreName string `json:",omitzero"` // only the store of this name
	Limit              *int32 `json:",omitzero"`
	Marker             string `json:",omitzero"`
}

// CustomKeyStoresListEntry describes a store. CloudHsmClusterId is the
// token's serial: kmsd's equivalent of the CloudHSM cluster.
type CustomKeyStoresListEntry struct {
	CustomKeyStoreId    string `json:",omitzero"`
	CustomKeyStoreName  string `json:",omitzero"`
	CloudHsmClusterId   string `json:",omitzero"`
	ConnectionState     string `json:",omitzero"`
	ConnectionErrorCode string `json:",omitzero"`
	// ConnectionErrorReason is kmsd's own: why the last connection
	// failed, in words (the module's or the PIN file's trouble; never the
	// PIN).
	ConnectionErrorReason string    `json:",omitzero"`
	CreationDate          time.Time `json:",omitzero"`
	CustomKeyStoreType    string    `json:",omitzero"`
	Pkcs11Module          string    `json:",omitzero"`
	TokenLabel            string    `json:",omitzero"`
	TokenSerial           string    `json:",omitzero"`
	KeyStorePasswordFile  string    `json:",omitzero"`
}

// DescribeCustomKeyStoresOutput is the response of DescribeCustomKeyStores.
type DescribeCustomKeyStoresOutput struct {
	CustomKeyStores []CustomKeyStoresListEntry `json:",omitzero" wire:"max=1000"`
	NextMarker      string                     `json:",omitzero"`
	Truncated       bool
}

// UpdateCustomKeyStoreInput is the request of UpdateCustomKeyStore: a new
// name at any time; the rest only while the store is disconnected.
type UpdateCustomKeyStoreInput struct {
	CustomKeyStoreId      string `json:",omitzero"` // the store to change
	NewCustomKeyStoreName string `json:",omitzero"` // a new name
	Pkcs11Module          string `json:",omitzero"` // another module (disconnected stores only)
	TokenLabel            string `json:",omitzero"` // another token, by label (disconnected stores only)
	TokenSerial           string `json:",omitzero"` // another token, by serial (disconnected stores only)
	KeyStorePasswordFile  string `json:",omitzero"` // another PIN file (disconnected stores only)
}
