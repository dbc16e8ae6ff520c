// Package policy owns the IAM policy language: parsing AWS IAM JSON policy
// documents with IAM's validation rules and MalformedPolicyDocument messages,
// and evaluating them against a request the way IAM does.
//
// Three grammars are supported, selected by [Kind]:
//
//   - [Identity]: a role's inline permissions policy (PutRolePolicy). It names
//     actions and resources and must not name a principal.
//   - [Trust]: a role's AssumeRolePolicyDocument (CreateRole,
//     UpdateAssumeRolePolicy). It names principals and STS actions and must
//     not name a resource.
//   - [Resource]: a resource-based policy (a Lambda function's, which
//     AddPermission writes). It names principals, any actions and resources.
//
// The package is pure: it does not know which roles, accounts or identity
// providers exist, does no I/O and keeps no state. Callers resolve the
// caller's identity into a [Principal] and the request's condition keys into
// a [Context] before calling [Evaluate].
//
// # Evaluation
//
// [Evaluate] applies IAM's logic across every statement of every document: a
// matching Deny statement wins ([ExplicitDeny]); otherwise a matching Allow
// statement grants ([Allow]); otherwise the request is denied by default
// ([ImplicitDeny]). A statement matches when its action, resource, principal
// and condition tests all hold:
//
//   - Action/NotAction patterns compare case-insensitively, with '*' (any run,
//     possibly empty) and '?' (exactly one character).
//   - Resource/NotResource patterns compare case-sensitively over the whole
//     ARN, so '*' may span ':'. A statement without either (a trust
//     statement) matches every resource.
//   - Principal/NotPrincipal is matched against the caller only when present,
//     which Parse allows only in trust and resource documents. "*" (or
//     {"AWS": "*"}) matches every caller, an anonymous one (a [Principal]
//     with no identifiers) included; nothing else matches an anonymous one.
//   - An account principal (a bare account ID or "arn:aws:iam::<id>:root")
//     matches every identity of that account in a trust document, but in a
//     resource document only the account root itself: naming the account in
//     a resource-based policy delegates to it, and its users and roles still
//     need an identity-based policy that allows the request, as in IAM for a
//     same-account caller. Sluice serves one account, so the cross-account
//     case does not arise.
//   - Condition blocks AND their operators and keys and OR the values listed
//     for one key; see [Condition] for the operator semantics.
//
// # Choices where IAM's behaviour is not pinned down
//
//   - Duplicate JSON keys at any level are a syntax error rather than
//     last-wins, so what a reviewer reads is what is evaluated.
//   - Element and operator names are case-sensitive ("effect" is an unknown
//     field); condition key names are case-insensitive, as in IAM.
//   - Statement IDs must be unique, and in identity and trust documents match
//     [0-9A-Za-z]*; a resource document's are the owning service's business
//     (Lambda's AddPermission allows [a-zA-Z0-9-_]).
//   - NotPrincipal is accepted in trust documents only with Effect Deny (IAM
//     documents it as unsupported with Allow and in role trust policies). As
//     IAM documents for NotPrincipal, each of the caller's identities is
//     checked separately, so excluding a role without its account root still
//     denies the role.
//   - Trust statements may only name STS actions that a role's trust policy
//     controls (sts:AssumeRole*, sts:TagSession, sts:SetSourceIdentity,
//     sts:SetContext), or patterns that cover one of them.
//   - Principal values are checked for form only (account ID, IAM/STS ARN,
//     "*"); IAM's check that the named role or account exists is the caller's
//     business. CanonicalUser principals are refused in trust and resource
//     documents.
//   - Resource ARNs are checked only for an "arn:partition:service:" prefix.
//   - Date condition values are validated at parse time (IAM's "The policy
//     failed legacy parsing"); numeric, Bool and IP values are not, and a
//     value that does not parse never matches.
//   - A context key with no values counts as absent. NullIfExists is refused.
//   - ArnEquals and ArnLike both accept wildcards and compare the six ARN
//     components separately; a policy value with fewer than six components
//     is compared as a whole-string pattern.
//   - Policy variables such as ${aws:username} are not substituted: they are
//     compared literally. The escapes ${*}, ${?} and ${$} stand for a literal
//     '*', '?' and '$' in Resource elements and String/Arn condition values,
//     and only under Version 2012-10-17, since IAM treats variables as plain
//     text in older documents.
package policy
