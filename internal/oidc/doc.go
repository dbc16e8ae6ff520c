// Package oidc owns verification of OpenID Connect ID tokens presented to STS
// AssumeRoleWithWebIdentity, such as the tokens GitHub Actions mints for
// "aws-actions/configure-aws-credentials".
//
// The caller looks up the registered IAM OIDC provider for a token (using
// [PeekIssuer] to read the unverified issuer), then asks a [Verifier] to
// check the token against that [Provider]. Verify either returns the token's
// [Claims] or an [*Error] carrying the STS error code, HTTP status and
// message to put on the wire. Deciding whether the claims satisfy a role's
// trust policy is the caller's job; [Claims.StringValues] gives the values
// for its condition keys.
//
// # What is checked
//
//   - The token is a compact JWS with exactly one signature, alg RS256 or
//     ES256. Everything else (none, HS*, PS*, ...) is refused before any key
//     is looked at, which rules out the "HMAC keyed with the public key"
//     confusion attack.
//   - "iss" equals the provider's issuer URL byte for byte, and that URL is
//     https (or http on a loopback host, for tests and local set-ups).
//   - The signature verifies with a key from the issuer's JWKS, found
//     through OpenID discovery ("<issuer>/.well-known/openid-configuration",
//     whose "issuer" must match too). Only public signing keys that fit the
//     token's alg are used: RSA of 2048 to 8192 bits for RS256, EC P-256 for
//     ES256, matching kid. A token without kid may use the issuer's only
//     fitting key.
//   - "aud" contains one of the provider's client ids.
//   - "exp" is present and has not passed; "nbf" and "iat", if present, are
//     not in the future. Each allows [DefaultLeeway] of clock skew unless the
//     Verifier says otherwise.
//
// # Key fetching
//
// Key sets are cached per issuer for [Verifier.KeyTTL]. A token whose key id
// is not in the cached set causes one refetch, at most once per issuer every
// [MinRefetchInterval], so that a flood of made-up key ids cannot turn the
// server into a load generator against the IdP. The consequence is that a
// key rotated in less than MinRefetchInterval after the previous fetch is
// refused until the interval has passed. Concurrent verifications share one
// fetch; a failed fetch is not cached, so the next verification tries again. Fetches happen only after "iss" has matched a registered provider,
// so a token can never choose the URL the server connects to.
//
// # Errors
//
// Messages never contain the token, its encoded parts or its signature; the
// few values they quote from it (alg, kid, iss) are cut short. Failures reaching the IdP
// (network, HTTP status, unparsable documents) are IDPCommunicationError,
// which clients treat as retryable.
package oidc
