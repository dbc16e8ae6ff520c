package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// ---- Smithy RPC v2 CBOR ----

var (
	// cborDecode reads what botocore and the Go SDK send: definite or indefinite lengths, string-keyed maps,
	// timestamps as tag 1 (integer or float seconds), which decode to time.Time.
	cborDecode = must(cbor.DecOptions{
		DefaultMapType:    reflect.TypeFor[map[string]any](),
		TimeTag:           cbor.DecTagOptional,
		TimeTagToAny:      cbor.TimeTagToTime,
		IndefLength:       cbor.IndefLengthAllowed,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	}.DecMode())
	// cborEncode writes timestamps as tag 1 with integer seconds, or float seconds when there is a fraction, and
	// sorts map keys so that responses are deterministic.
	cborEncode = must(cbor.EncOptions{
		Time:    cbor.TimeUnixDynamic,
		TimeTag: cbor.EncTagRequired,
		Sort:    cbor.SortBytewiseLexical,
	}.EncMode())
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

type cborProtocol struct{ svc *Service }

func (*cborProtocol) Name() string { return "rpcv2Cbor" }

func (p *cborProtocol) Operation(r *http.Request, _ []byte) (string, *Error) {
	op, ok := strings.CutPrefix(r.URL.Path, "/service/"+p.svc.TargetPrefix+"/operation/")
	if !ok || op == "" || strings.Contains(op, "/") || r.Method != http.MethodPost {
		return "", p.UnknownOperation(r.Method + " " + r.URL.Path)
	}
	return op, nil
}

func (*cborProtocol) UnknownOperation(op string) *Error {
	return &Error{Code: "UnknownOperationException", Status: http.StatusNotFound, Message: "Unknown operation " + op}
}

func (*cborProtocol) Decode(_ *http.Request, body []byte, in any) *Error {
	var v any = map[string]any{}
	if len(body) > 0 {
		v = nil
		if err := cborDecode.Unmarshal(body, &v); err != nil {
			return serializationError("Request body is not valid CBOR: %s", err)
		}
	}
	return bindBody(v, in)
}

// bindBody binds a decoded JSON or CBOR body, which must be a structure (or null, meaning no members).
func bindBody(v any, in any) *Error {
	if v == nil {
		return nil
	}
	if _, ok := v.(map[string]any); !ok {
		return serializationError("Request body must be a structure, got %s", describe(v))
	}
	if err := bind(v, in, native); err != nil {
		var be *BindError
		if errors.As(err, &be) {
			return serializationError("Cannot deserialize value of %s: expected %s, got %s", be.Path, be.Want, describe(be.Got))
		}
		return serializationError("%s", err)
	}
	return nil
}

func (p *cborProtocol) Encode(w http.ResponseWriter, _ string, out any, _ string) error {
	var body []byte
	if out != nil {
		t, _ := tree(reflect.ValueOf(out), func(t time.Time) any { return t }, func(f float64) any { return f })
		var err error
		if body, err = cborEncode.Marshal(t); err != nil {
			return err
		}
	}
	h := w.Header()
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	if len(body) > 0 {
		h.Set("Content-Type", "application/cbor")
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

func (p *cborProtocol) EncodeError(w http.ResponseWriter, e *Error, _ string) {
	body, err := cborEncode.Marshal(p.svc.errorBody(e))
	if err != nil { // a map of strings always encodes
		panic(err)
	}
	h := w.Header()
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	h.Set("Content-Type", "application/cbor")
	h.Set("X-Amzn-Query-Error", queryErrorHeader(e))
	w.WriteHeader(e.Status)
	w.Write(body)
}

// ---- AWS JSON 1.0 ----

const jsonContentType = "application/x-amz-json-1.0"

type jsonProtocol struct{ svc *Service }

func (*jsonProtocol) Name() string { return "awsJson1_0" }

func (p *jsonProtocol) Operation(r *http.Request, _ []byte) (string, *Error) {
	target := r.Header.Get("X-Amz-Target")
	prefix, op, ok := strings.Cut(target, ".")
	if !ok || prefix != p.svc.TargetPrefix || op == "" || r.Method != http.MethodPost {
		if target == "" {
			target = r.Method + " " + r.URL.Path
		}
		return "", p.UnknownOperation(target)
	}
	return op, nil
}

func (*jsonProtocol) UnknownOperation(op string) *Error {
	return &Error{Code: "UnknownOperationException", Status: http.StatusBadRequest, Message: "Unknown operation " + op}
}

func (*jsonProtocol) Decode(_ *http.Request, body []byte, in any) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return serializationError("Request body is not valid JSON: %s", err)
	}
	if dec.More() {
		return serializationError("Request body is not valid JSON: data after the top-level value")
	}
	return bindBody(v, in)
}

// jsonTime is a timestamp in the JSON protocol: epoch seconds, with the milliseconds as a fraction.
func jsonTime(t time.Time) any {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
}

// jsonDouble spells non-finite doubles as the JSON protocols do.
func jsonDouble(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return formatDouble(f)
	}
	return f
}

func (p *jsonProtocol) Encode(w http.ResponseWriter, _ string, out any, _ string) error {
	body := []byte("{}")
	if out != nil {
		t, _ := tree(reflect.ValueOf(out), jsonTime, jsonDouble)
		var err error
		if body, err = json.Marshal(t); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

func (p *jsonProtocol) EncodeError(w http.ResponseWriter, e *Error, _ string) {
	body, err := json.Marshal(p.svc.errorBody(e))
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("X-Amzn-Query-Error", queryErrorHeader(e))
	w.WriteHeader(e.Status)
	w.Write(body)
}

// ---- AWS query ----

type queryProtocol struct{ svc *Service }

func (*queryProtocol) Name() string { return "awsQuery" }

// params are the request's parameters: the URL's query string and, for a form POST, the body.
func (p *queryProtocol) params(r *http.Request, body []byte) (url.Values, *Error) {
	params, err := QueryParams(r, body)
	if err != nil {
		return nil, malformed(err)
	}
	return params, nil
}

// QueryParams are a query-protocol request's parameters: its URL's query string and, for a form POST, its body.
func QueryParams(r *http.Request, body []byte) (url.Values, error) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if r.Method == http.MethodPost && (mediaType(r) == "application/x-www-form-urlencoded" || mediaType(r) == "") {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	return params, nil
}

func malformed(err error) *Error {
	return &Error{Code: "MalformedQueryString", Status: http.StatusNotFound, Message: "The query string is malformed: " + err.Error()}
}

func (p *queryProtocol) Operation(r *http.Request, body []byte) (string, *Error) {
	params, qerr := p.params(r, body)
	if qerr != nil {
		return "", qerr
	}
	op := params.Get("Action")
	if op == "" {
		return "", &Error{Code: "MissingAction", Status: http.StatusBadRequest, Message: "The request must contain the parameter Action."}
	}
	if v := params.Get("Version"); v != "" && v != p.svc.Version {
		return "", &Error{Code: "InvalidAction", Status: http.StatusBadRequest,
			Message: "Could not find operation " + op + " for version " + v}
	}
	return op, nil
}

func (p *queryProtocol) UnknownOperation(op string) *Error {
	return &Error{Code: "InvalidAction", Status: http.StatusBadRequest,
		Message: "Could not find operation " + op + " for version " + p.svc.Version}
}

func (p *queryProtocol) Decode(r *http.Request, body []byte, in any) *Error {
	params, qerr := p.params(r, body)
	if qerr != nil {
		return qerr
	}
	if err := bind(formTree(params), in, textual); err != nil {
		var be *BindError
		if errors.As(err, &be) {
			got := describe(be.Got)
			if s, ok := be.Got.(string); ok {
				got = s
			}
			return &Error{Code: "InvalidParameterValue", Status: http.StatusBadRequest,
				Message: "Value (" + got + ") for parameter " + be.Path + " is invalid. Expected " + be.Want + "."}
		}
		return &Error{Code: "InvalidParameterValue", Status: http.StatusBadRequest, Message: err.Error()}
	}
	return nil
}

// formTree turns flattened query parameters (A.member.1.B=x) into a value tree ({"A": {"member": {"1": {"B":
// "x"}}}}). A parameter that is both a value and a prefix of others (the empty-list marker "A=" next to
// "A.member.1=…") keeps the nested members.
func formTree(params url.Values) map[string]any {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Action" && k != "Version" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	root := map[string]any{}
	for _, k := range keys {
		vs := params[k]
		parts := strings.Split(k, ".")
		node := root
		for _, part := range parts[:len(parts)-1] {
			child, ok := node[part].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[part] = child
			}
			node = child
		}
		last := parts[len(parts)-1]
		if _, nested := node[last].(map[string]any); !nested {
			node[last] = vs[len(vs)-1]
		}
	}
	return root
}

func (p *queryProtocol) Encode(w http.ResponseWriter, op string, out any, requestID string) error {
	body := queryResponse(op, p.svc.XMLNamespace, requestID, out)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

func (p *queryProtocol) EncodeError(w http.ResponseWriter, e *Error, requestID string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	w.Write(queryError(e, requestID))
}
