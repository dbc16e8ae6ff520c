// Package ssm holds the pure rules of AWS Systems Manager Parameter Store as Sluice serves it: what a parameter
// name, a hierarchy path, a selector (name:3, name:label) and a label may be; the tiers and their value limits;
// types, data types and AllowedPattern; the 100 versions kept; the filters of DescribeParameters and
// GetParametersByPath; parameter ARNs; and every error with the exception name and message AWS answers. It does
// no I/O: package parameterstore keeps parameters in the store and encrypts SecureString values, and
// internal/api/ssmapi is the wire edge.
//
// # Records
//
// A Parameter is a parameter's current state (its latest version's fields, its labels and tags); a Version is one
// entry of its history. Values are kept as they are answered without decryption: a SecureString value is the
// ciphertext (base64), decrypted only for WithDecryption.
//
// # Messages
//
// Messages AWS was recorded answering are used as recorded; the others are worded after AWS's documentation of the
// exception (docs/compatibility.md says which).
package ssm
