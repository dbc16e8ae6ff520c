package awshttp

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
)

// CodeSerialization is the JSON protocols' error for a body that does not fit the operation's input.
const CodeSerialization = "SerializationException"

// FieldError is an error a type's UnmarshalJSON returns with the exact message clients should see.
type FieldError struct{ Msg string }

func (e *FieldError) Error() string { return e.Msg }

// DecodeJSONBody decodes a JSON 1.x request body into v (an empty body leaves v as it is); a body that does not
// fit is a SerializationException fault saying where.
func DecodeJSONBody(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	var fe *FieldError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fault.New(CodeSerialization, "Cannot deserialize value of %s: expected %s, got %s", te.Field, te.Type, te.Value)
	case errors.As(err, &fe):
		return fault.New(CodeSerialization, "%s", fe.Msg)
	}
	return fault.New(CodeSerialization, "Request body is not valid JSON: %s", err)
}
