package lambda

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Permission is one AddPermission request: what becomes a statement of the resource-based policy of a function
// (its unqualified ARN), a version or an alias.
type Permission struct {
	StatementID           string
	Action                string // lambda:InvokeFunction, lambda:InvokeFunctionUrl, lambda:GetFunction, lambda:*, …
	Principal             string // a service principal, an account ID, an IAM/STS ARN, or "*"
	SourceARN             string
	SourceAccount         string
	EventSourceToken      string
	PrincipalOrgID        string
	FunctionURLAuthType   string // NONE or AWS_IAM; only with lambda:InvokeFunctionUrl
	InvokedViaFunctionURL bool   // only with lambda:InvokeFunction
}

// Condition keys the statements of a function's policy use, as AWS spells them.
const (
	KeySourceAccount         = "AWS:SourceAccount"
	KeySourceARN             = "AWS:SourceArn"
	KeyPrincipalOrgID        = "aws:PrincipalOrgID"
	KeyEventSourceToken      = "lambda:EventSourceToken"
	KeyFunctionURLAuthType   = "lambda:FunctionUrlAuthType"
	KeyInvokedViaFunctionURL = "lambda:InvokedViaFunctionUrl"
)

// Actions a function's policy names that AddPermission's optional fields depend on.
const (
	ActionInvokeFunction    = "lambda:InvokeFunction"
	ActionInvokeFunctionURL = "lambda:InvokeFunctionUrl"
)

// MaxPolicySize is the largest resource-based policy of a function, version or alias, in bytes of its JSON.
const MaxPolicySize = 20480

// Policy errors, with AWS's messages (recorded, except where noted).
var (
	errInvalidPrincipal = fault.InvalidParameter("The provided principal was invalid. Please check the principal and try again.")
	// AWS's answer as its users quote it.
	errAuthTypeAction = fault.InvalidParameter("FunctionUrlAuthType is only supported for lambda:InvokeFunctionUrl action")
	// Not observed: worded after the FunctionUrlAuthType answer.
	errInvokedViaAction = fault.InvalidParameter("InvokedViaFunctionUrl is only supported for lambda:InvokeFunction action")
	// ErrLatestPolicy answers AddPermission with the $LATEST qualifier.
	ErrLatestPolicy = fault.InvalidParameter("We currently do not support adding policies for $LATEST.")
	// ErrNoPolicy answers GetPolicy for a function, version or alias without a policy, or that does not exist.
	ErrNoPolicy = fault.NotFound("The resource you requested does not exist.")
	// ErrNoPolicyToRemove answers RemovePermission for a function, version or alias without a policy.
	ErrNoPolicyToRemove = fault.NotFound("No policy is associated with the given resource.")
)

// CheckPolicyRevision enforces AddPermission's and RemovePermission's optional RevisionId (the policy's). AWS words
// the answer for an alias's policy differently from a function's or a version's (both recorded).
func CheckPolicyRevision(given, current string, alias bool) error {
	if given == "" || given == current {
		return nil
	}
	if alias {
		return fault.New(fault.PreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id")
	}
	return CheckRevision(given, current)
}

// StatementExists is AddPermission's answer to a statement ID the policy already has.
func StatementExists(sid string) error {
	return fault.Conflict("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", sid)
}

// StatementNotFound is RemovePermission's answer to a statement ID the policy does not have.
func StatementNotFound(sid string) error {
	return fault.NotFound("Statement %s is not found in resource policy.", sid)
}

var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	// principalARNPattern: an IAM or STS principal (root, user, role, assumed-role session, federated user).
	principalARNPattern = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:[^\s]+$`)
	// servicePrincipalPattern: a service's domain-style name; Alexa's are under amazon.com.
	servicePrincipalPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.(amazonaws\.com(\.cn)?|amazon\.com)$`)
)

// Statement renders p as the statement AWS adds to the policy of resource (the function ARN, qualified when the
// policy is a version's or an alias's), in AWS's member order and compact form: Sid, Effect, Principal (a service
// as {"Service": …}, an account ID as {"AWS": "arn:aws:iam::<id>:root"}, an ARN as {"AWS": …}, or "*"), Action,
// Resource, then the Condition the optional fields make — StringEquals on AWS:SourceAccount,
// lambda:EventSourceToken, lambda:FunctionUrlAuthType and aws:PrincipalOrgID, ArnLike on AWS:SourceArn, Bool on
// lambda:InvokedViaFunctionUrl.
func (a Account) Statement(p Permission, resource string) (string, error) {
	principal, err := statementPrincipal(p.Principal)
	if err != nil {
		return "", err
	}
	if p.FunctionURLAuthType != "" && p.Action != ActionInvokeFunctionURL {
		return "", errAuthTypeAction
	}
	if p.InvokedViaFunctionURL && p.Action != ActionInvokeFunction {
		return "", errInvokedViaAction
	}
	var cond object
	var equals object
	equals.add(KeySourceAccount, p.SourceAccount)
	equals.add(KeyEventSourceToken, p.EventSourceToken)
	equals.add(KeyFunctionURLAuthType, p.FunctionURLAuthType)
	equals.add(KeyPrincipalOrgID, p.PrincipalOrgID)
	cond.add("StringEquals", equals)
	var like object
	like.add(KeySourceARN, p.SourceARN)
	cond.add("ArnLike", like)
	if p.InvokedViaFunctionURL {
		cond.add("Bool", object{{KeyInvokedViaFunctionURL, "true"}})
	}
	st := object{{"Sid", p.StatementID}, {"Effect", "Allow"}, {"Principal", principal}, {"Action", p.Action}, {"Resource", resource}}
	st.add("Condition", cond)
	var b strings.Builder
	st.write(&b)
	return b.String(), nil
}

// statementPrincipal is the Principal member a request's Principal becomes.
func statementPrincipal(p string) (any, error) {
	switch {
	case p == "*":
		return "*", nil
	case accountIDPattern.MatchString(p):
		return object{{"AWS", "arn:aws:iam::" + p + ":root"}}, nil
	case principalARNPattern.MatchString(p):
		return object{{"AWS", p}}, nil
	case servicePrincipalPattern.MatchString(p):
		return object{{"Service", p}}, nil
	}
	return nil, errInvalidPrincipal
}

// PolicyDocument is the policy GetPolicy returns, made of statements as Statement rendered them.
func PolicyDocument(statements []string) string {
	return `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(statements, ",") + `]}`
}

// CheckPolicySize refuses a policy document larger than MaxPolicySize.
func CheckPolicySize(doc string) error {
	if len(doc) > MaxPolicySize {
		return fault.New("PolicyLengthExceededException", "The final policy size (%d) is bigger than the limit (%d).", len(doc), MaxPolicySize)
	}
	return nil
}

// StatementSid reads the Sid of a statement Statement rendered.
func StatementSid(statement string) string {
	var st struct{ Sid string }
	_ = json.Unmarshal([]byte(statement), &st)
	return st.Sid
}

// object is a JSON object that keeps its members in order; members with an empty value (an empty string or
// object) are left out by add.
type object []member

type member struct {
	key   string
	value any // string, object
}

func (o *object) add(key string, value any) {
	switch v := value.(type) {
	case string:
		if v == "" {
			return
		}
	case object:
		if len(v) == 0 {
			return
		}
	}
	*o = append(*o, member{key, value})
}

func (o object) write(b *strings.Builder) {
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, m.key)
		b.WriteByte(':')
		switch v := m.value.(type) {
		case string:
			writeString(b, v)
		case object:
			v.write(b)
		}
	}
	b.WriteByte('}')
}

// writeString writes s as a JSON string the way AWS does: '<', '>' and '&' as they are.
func writeString(b *strings.Builder, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
