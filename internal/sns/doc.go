// Package sns holds Amazon SNS's rules, pure: topic names and ARNs, subscription ARNs, the protocols Sluice
// delivers to (http, https, lambda) and the endpoints each accepts, topic and subscription attributes (which are
// settable, their checks, the default topic policy and the effective delivery policy), message checks (size,
// Subject, MessageStructure json, message attributes), the documents SNS delivers — the HTTP/S Notification and
// SubscriptionConfirmation JSON, the string each signature covers (SignatureVersion 1: SHA1withRSA, 2:
// SHA256withRSA), the Lambda event — and the retry schedule of a delivery policy. It does no I/O: package
// sns/topics applies these rules to the store and delivers, package snsapi puts them on the wire.
package sns
