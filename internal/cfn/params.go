package cfn

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

type paramKind int

const (
	kindString paramKind = iota
	kindNumber
	kindNumberList
	kindList
	kindSSM // AWS::SSM::Parameter::Value<…>: the value is an SSM parameter's name, resolved by the caller
)

// awsTypes are the AWS-specific parameter types. AWS validates them against the account; Sluice treats them as
// strings.
var awsTypes = []string{
	"AWS::EC2::AvailabilityZone::Name", "AWS::EC2::Image::Id", "AWS::EC2::Instance::Id", "AWS::EC2::KeyPair::KeyName",
	"AWS::EC2::SecurityGroup::GroupName", "AWS::EC2::SecurityGroup::Id", "AWS::EC2::Subnet::Id", "AWS::EC2::Volume::Id",
	"AWS::EC2::VPC::Id", "AWS::Route53::HostedZone::Id",
}

func kindOf(typ string) (paramKind, bool) {
	switch typ {
	case "String", "AWS::SSM::Parameter::Name":
		return kindString, true
	case "Number":
		return kindNumber, true
	case "List<Number>":
		return kindNumberList, true
	case "CommaDelimitedList":
		return kindList, true
	}
	if slices.Contains(awsTypes, typ) {
		return kindString, true
	}
	if inner, ok := strings.CutPrefix(typ, "List<"); ok && strings.HasSuffix(inner, ">") &&
		slices.Contains(awsTypes, strings.TrimSuffix(inner, ">")) {
		return kindList, true
	}
	if strings.HasPrefix(typ, "AWS::SSM::Parameter::Value<") && strings.HasSuffix(typ, ">") {
		return kindSSM, true
	}
	return 0, false
}

// ssmValueKind is how the value of an AWS::SSM::Parameter::Value<T> parameter is read: a string for
// Value<String> (and Value<AWS::EC2::Image::Id> and the like), a comma-delimited list for Value<List<…>> and
// Value<CommaDelimitedList>.
func ssmValueKind(typ string) paramKind {
	inner := strings.TrimSuffix(strings.TrimPrefix(typ, "AWS::SSM::Parameter::Value<"), ">")
	if inner == "CommaDelimitedList" || strings.HasPrefix(inner, "List<") {
		return kindList
	}
	return kindString
}

// SSMParameter is a template parameter of an AWS::SSM::Parameter::Value<…> type: its value (the override, else the
// Default) names the SSM parameter whose value the template gets, as CloudFormation resolves it.
type SSMParameter struct {
	Parameter string // the template's parameter
	Type      string // its type
	Name      string // the SSM parameter it names
	// Referenced reports whether a resource, an output or a condition refers to it (CDK's BootstrapVersion is only
	// checked by the Rules, which Sluice does not evaluate).
	Referenced bool
}

// SSMParameters lists, by parameter name, the template's SSM-typed parameters and the SSM parameters they name,
// for the caller to read before NewEvaluatorWith. A parameter with neither an override nor a Default is left out
// (NewEvaluatorWith then reports it missing).
func SSMParameters(t *Template, overrides map[string]string) []SSMParameter {
	used := referencedParameters(t)
	var out []SSMParameter
	for _, name := range slices.Sorted(maps.Keys(t.Parameters)) {
		p := t.Parameters[name]
		if kind, _ := kindOf(p.Type); kind != kindSSM {
			continue
		}
		text, ok := overrides[name]
		if !ok && p.Default != nil {
			text, ok = scalarString(p.Default)
		}
		if ok {
			out = append(out, SSMParameter{Parameter: name, Type: p.Type, Name: text, Referenced: used[name]})
		}
	}
	return out
}

// param is a resolved parameter value.
type param struct {
	value any // what Parameter returns: string, float64 or []string
	ref   any // what Ref returns: the text as given, or the list as []any of strings
}

// resolveParam validates a parameter's text as CloudFormation does before it creates anything.
func resolveParam(name string, p Parameter, kind paramKind, text string) (param, error) {
	check := constraints{name: name, p: p}
	switch kind {
	case kindNumber:
		f, err := number(name, text)
		if err != nil {
			return param{}, err
		}
		if err := check.number(text, f); err != nil {
			return param{}, err
		}
		return param{value: f, ref: text}, nil
	case kindNumberList, kindList:
		items := strings.Split(text, ",")
		ref := make([]any, len(items))
		for i := range items {
			// Members are space-trimmed, as CloudFormation documents for CommaDelimitedList.
			items[i] = strings.TrimSpace(items[i])
			ref[i] = items[i]
			var err error
			if kind == kindNumberList {
				var f float64
				if f, err = number(name, items[i]); err == nil {
					err = check.number(items[i], f)
				}
			} else {
				err = check.text(items[i])
			}
			if err != nil {
				return param{}, err
			}
		}
		return param{value: items, ref: ref}, nil
	}
	if err := check.text(text); err != nil {
		return param{}, err
	}
	return param{value: text, ref: text}, nil
}

func number(name, text string) (float64, error) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errorf("Parameter '%s' must be a number", name)
	}
	return f, nil
}

type constraints struct {
	name string
	p    Parameter
}

// fail words a violated constraint the way CloudFormation does, preferring the template's ConstraintDescription.
func (c constraints) fail(format string, args ...any) error {
	if c.p.ConstraintDescription != "" {
		return errorf("Parameter '%s' failed to satisfy constraint: %s", c.name, c.p.ConstraintDescription)
	}
	return errorf("Parameter '%s' %s", c.name, fmt.Sprintf(format, args...))
}

func (c constraints) text(s string) error {
	if len(c.p.AllowedValues) > 0 && !slices.ContainsFunc(c.p.AllowedValues, func(a any) bool {
		as, _ := scalarString(a)
		return as == s
	}) {
		return c.fail("must be one of AllowedValues")
	}
	if c.p.AllowedPattern != "" {
		re, err := regexp.Compile(`^(?:` + c.p.AllowedPattern + `)$`)
		if err != nil {
			return errorf("Parameter '%s' has an AllowedPattern Go cannot use: %v", c.name, err)
		}
		if !re.MatchString(s) {
			return c.fail("must match pattern %s", c.p.AllowedPattern)
		}
	}
	n := utf8.RuneCountInString(s)
	if c.p.MinLength != nil && n < *c.p.MinLength {
		return c.fail("must contain at least %d characters", *c.p.MinLength)
	}
	if c.p.MaxLength != nil && n > *c.p.MaxLength {
		return c.fail("cannot exceed %d characters", *c.p.MaxLength)
	}
	return nil
}

func (c constraints) number(text string, f float64) error {
	if len(c.p.AllowedValues) > 0 && !slices.ContainsFunc(c.p.AllowedValues, func(a any) bool {
		as, _ := scalarString(a)
		af, err := strconv.ParseFloat(as, 64)
		return as == text || err == nil && af == f
	}) {
		return c.fail("must be one of AllowedValues")
	}
	if c.p.MinValue != nil && f < *c.p.MinValue {
		return c.fail("must be a number not less than %s", strconv.FormatFloat(*c.p.MinValue, 'f', -1, 64))
	}
	if c.p.MaxValue != nil && f > *c.p.MaxValue {
		return c.fail("must be a number not greater than %s", strconv.FormatFloat(*c.p.MaxValue, 'f', -1, 64))
	}
	return nil
}
