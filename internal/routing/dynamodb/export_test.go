package dynamodb

// Encoders for tests that must write items the store would refuse to.
var (
	EncodeLOB  = encodeLOB
	EncodeUser = encodeUser
)
