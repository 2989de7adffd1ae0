package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far a request's time may be from the server's.
const MaxSkew = 5 * time.Minute

// Error codes, as AWS answers them.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
)

// Error is a refusal: an AWS error code and a message for the caller.
type Error struct{ Code, Message string }

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Credential is what the Authorization header's Credential names.
type Credential struct {
	AccessKeyID, Date, Region, Service string
}

// Secrets returns the secret of an access key, or false if it knows none.
type Secrets func(accessKeyID string) (secret []byte, ok bool)

// CheckHeader checks what of r's signature can be checked before its body
// is read: an Authorization header of Signature Version 4, scoped to
// service and to the request's date, within MaxSkew of now, signing host
// and x-amz-date, no session token, and an access key known says it
// knows. It returns the credential the request claims; only Verify, with
// the body, proves it.
func CheckHeader(r *http.Request, service string, now time.Time, known func(accessKeyID string) bool) (*Credential, *Error) {
	c, err := checkHeader(r, service, now)
	if err != nil {
		return nil, err
	}
	if !known(c.cred.AccessKeyID) {
		return nil, &Error{CodeUnrecognizedClient, "The security token included in the request is invalid."}
	}
	return c.cred, nil
}

// claim is what a request's headers say of its signature.
type claim struct {
	cred    *Credential
	signed  []string
	sig     string
	amzDate string
}

func checkHeader(r *http.Request, service string, now time.Time) (*claim, *Error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return nil, &Error{CodeMissingAuthenticationToken, "Missing Authentication Token"}
	}
	cred, signed, sig, err := parseAuthorization(auth)
	if err != nil {
		return nil, err
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, perr := time.Parse("20060102T150405Z", amzDate)
	if perr != nil {
		return nil, &Error{CodeIncompleteSignature, "the request has no valid X-Amz-Date header (YYYYMMDDTHHMMSSZ)"}
	}
	if cred.Date != amzDate[:8] {
		return nil, &Error{CodeInvalidSignature, "the Credential's date " + strconv.Quote(cred.Date) + " is not the request's (" + amzDate[:8] + ")"}
	}
	if cred.Service != service {
		return nil, &Error{CodeInvalidSignature, "Credential should be scoped to correct service: '" + service + "'"}
	}
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return nil, &Error{CodeInvalidSignature, "Signature expired: " + amzDate + " is not within " + MaxSkew.String() + " of the server's time (" + now.UTC().Format("20060102T150405Z") + ")"}
	}
	if !slices.Contains(signed, "host") || !slices.Contains(signed, "x-amz-date") {
		return nil, &Error{CodeIncompleteSignature, "SignedHeaders must include host and x-amz-date"}
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		return nil, &Error{CodeUnrecognizedClient, "kmsd issues no session tokens: sign with an access key and its secret alone"}
	}
	return &claim{cred: cred, signed: signed, sig: sig, amzDate: amzDate}, nil
}

// Verify checks the signature of r, whose body is body, against the
// secret secrets gives for its access key, at the time now. service is
// the signing name the request must be scoped to ("kms"). It returns the
// credential the request was signed with.
func Verify(r *http.Request, body []byte, service string, now time.Time, secrets Secrets) (*Credential, *Error) {
	c, err := checkHeader(r, service, now)
	if err != nil {
		return nil, err
	}
	payload := hashHex(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payload {
		return nil, &Error{CodeInvalidSignature, "X-Amz-Content-Sha256 is not the hash of the body"}
	}
	secret, ok := secrets(c.cred.AccessKeyID)
	if !ok {
		return nil, &Error{CodeUnrecognizedClient, "The security token included in the request is invalid."}
	}
	want := Sign(secret, c.cred, StringToSign(c.amzDate, c.cred, CanonicalRequest(r, c.signed, payload)))
	got, herr := hex.DecodeString(c.sig)
	if herr != nil || !hmac.Equal(got, want) {
		return nil, &Error{CodeInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	return c.cred, nil
}

// SignRequest signs r, whose body is body, with an access key: it sets
// X-Amz-Date (now) and Authorization, signing host, x-amz-date and every
// X-Amz- and Content-Type header r has. For tests and for clients without
// an AWS SDK.
func SignRequest(r *http.Request, body []byte, accessKeyID string, secret []byte, region, service string, now time.Time) {
	amzDate := now.UTC().Format("20060102T150405Z")
	r.Header.Set("X-Amz-Date", amzDate)
	signed := []string{"host"}
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-") || l == "content-type" {
			signed = append(signed, l)
		}
	}
	slices.Sort(signed)
	cred := &Credential{AccessKeyID: accessKeyID, Date: amzDate[:8], Region: region, Service: service}
	sig := Sign(secret, cred, StringToSign(amzDate, cred, CanonicalRequest(r, signed, hashHex(body))))
	r.Header.Set("Authorization", Algorithm+" Credential="+accessKeyID+"/"+cred.Date+"/"+region+"/"+service+"/aws4_request, SignedHeaders="+
		strings.Join(signed, ";")+", Signature="+hex.EncodeToString(sig))
}

// RequireSigned checks that r's signature covers headers, beyond the
// host and x-amz-date every signature must (a service may require more:
// kmsd's AWS endpoint, the operation's header).
func RequireSigned(r *http.Request, headers ...string) *Error {
	_, signed, _, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	for _, h := range headers {
		if !slices.Contains(signed, h) {
			return &Error{CodeIncompleteSignature, "SignedHeaders must include " + strings.Join(headers, ", ")}
		}
	}
	return nil
}

// SignatureOf is the signature r's Authorization header carries ("" if
// none): what makes a signed request the one it is.
func SignatureOf(r *http.Request) string {
	_, sig, ok := strings.Cut(r.Header.Get("Authorization"), "Signature=")
	if !ok {
		return ""
	}
	return sig
}

// parseAuthorization splits "AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/
// SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX".
func parseAuthorization(h string) (cred *Credential, signed []string, sig string, err *Error) {
	alg, rest, _ := strings.Cut(h, " ")
	if alg != Algorithm {
		return nil, nil, "", &Error{CodeIncompleteSignature, "Authorization must use " + Algorithm}
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, nil, "", &Error{CodeIncompleteSignature, "Authorization header is malformed: " + strconv.Quote(part)}
		}
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[0] == "" {
		return nil, nil, "", &Error{CodeIncompleteSignature, "Authorization's Credential must be ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request"}
	}
	if fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return nil, nil, "", &Error{CodeIncompleteSignature, "Authorization must have SignedHeaders and Signature"}
	}
	signed = strings.Split(fields["SignedHeaders"], ";")
	if !slices.IsSorted(signed) {
		return nil, nil, "", &Error{CodeIncompleteSignature, "SignedHeaders must be sorted"}
	}
	return &Credential{AccessKeyID: scope[0], Date: scope[1], Region: scope[2], Service: scope[3]}, signed, fields["Signature"], nil
}

// CanonicalRequest is r's canonical request over the signed headers, with
// the payload's hash.
func CanonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.Query()))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// headerValue is a header's canonical value: its values joined by commas,
// each trimmed, runs of spaces made one.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values(name)
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalQuery sorts and encodes the query's parameters.
func canonicalQuery(q url.Values) string {
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, escape(k)+"="+escape(v))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "&")
}

// escape is RFC 3986 percent-encoding of all but the unreserved set.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// StringToSign is the string a request's signature is the HMAC of.
func StringToSign(amzDate string, c *Credential, canonical string) string {
	return Algorithm + "\n" + amzDate + "\n" + c.Date + "/" + c.Region + "/" + c.Service + "/aws4_request\n" + hashHex([]byte(canonical))
}

// Sign returns the signature of sts with secret for the credential's scope.
func Sign(secret []byte, c *Credential, sts string) []byte {
	k := mac(append([]byte("AWS4"), secret...), c.Date)
	k = mac(k, c.Region)
	k = mac(k, c.Service)
	k = mac(k, "aws4_request")
	return mac(k, sts)
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
