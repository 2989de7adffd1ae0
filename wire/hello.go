package wire

import "time"

// ProtocolVersion is the version of the protocol this package speaks.
const ProtocolVersion = 1

// HelloInput opens every connection: the first frame a client sends.
type HelloInput struct {
	ProtocolVersion int32
	Client          string // free text, e.g. "kmsctl/1.0"
}

// HelloOutput is the server's answer to Hello.
type HelloOutput struct {
	ProtocolVersion int32
	ServerVersion   string
	Suite           string // the AEAD of new ciphertexts
	CPU             CPUFeatures
	Limits          Limits
}

// CPUFeatures are the CPU flags that choose the suite, as the server's
// CPU reports them.
type CPUFeatures struct {
	AESNI         bool
	PCLMULQDQ     bool
	AVX2          bool
	VAES          bool
	PhysicalCores int32
}

// Limits are the server's limits; a client must stay within them.
type Limits struct {
	MaxFrame          int32
	MaxBatchItems     int32
	MaxInFlight       int32 // requests outstanding on one connection
	MaxPlaintext      int32
	MaxCiphertextBlob int32
}

// StatusInput is the request of Status (kmsctl status).
type StatusInput struct{}

// StatusOutput describes the running daemon.
type StatusOutput struct {
	ServerVersion string
	Suite         string
	CPU           CPUFeatures
	StartTime     time.Time
	UptimeSeconds int64
	KeyCount      int64
	Connections   int64
	Workers       int32
	QueueDepth    int32
	QueueCapacity int32
	Requests      int64 // requests served since start, batch items counted one by one
	BatchRequests int64 // batch frames among them
	Throttled     int64 // requests answered ThrottlingException
}
