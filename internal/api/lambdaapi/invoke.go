package lambdaapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/asyncq"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// Invoker runs invocations (the execution layer).
type Invoker interface {
	Invoke(ctx context.Context, req invoke.Request) (invoke.Result, error)
	InvokeStream(ctx context.Context, req invoke.Request, w io.Writer) (invoke.Result, error)
	DeadLetters(ctx context.Context, function string) ([]asyncq.DeadLetter, error)
}

// DeadLettersPath is Sluice's own (SigV4-signed, service "lambda") endpoint listing a function's undeliverable
// asynchronous invocations: Lambda would send them to SQS or SNS, which Sluice does not have.
const DeadLettersPath = "/sluice/2026-11-26/functions/{FunctionName}/dead-letters"

type deadLetter struct {
	RequestId  string          `json:"RequestId"`
	EnqueuedAt string          `json:"EnqueuedAt"`
	FailedAt   string          `json:"FailedAt"`
	Condition  string          `json:"Condition"`
	Attempts   int             `json:"Attempts"`
	Error      string          `json:"Error"`
	Payload    json.RawMessage `json:"Payload"`
}

func (h *Handler) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	dead, err := h.invoker.DeadLetters(r.Context(), ref.Name)
	if err != nil {
		return err
	}
	out := struct {
		DeadLetters []deadLetter `json:"DeadLetters"`
	}{DeadLetters: make([]deadLetter, len(dead))}
	for i, d := range dead {
		payload := json.RawMessage(d.Event.Payload)
		if !json.Valid(payload) {
			payload, _ = json.Marshal(string(d.Event.Payload))
		}
		out.DeadLetters[i] = deadLetter{RequestId: d.Event.ID, EnqueuedAt: d.Event.EnqueuedAt.UTC().Format(time.RFC3339Nano),
			FailedAt: d.At.UTC().Format(time.RFC3339Nano), Condition: d.Condition, Attempts: d.Event.Attempts, Error: d.Error, Payload: payload}
	}
	awshttp.WriteJSON(w, http.StatusOK, out)
	return nil
}

// maxClientContext is the largest X-Amz-Client-Context AWS accepts (base64 text).
const maxClientContext = 3583

func (h *Handler) invoke(w http.ResponseWriter, r *http.Request) error {
	if h.invoker == nil {
		return fault.New("UnknownOperationException", "Invoke is not available on this server")
	}
	req, err := h.decodeInvoke(r, false)
	if err != nil {
		return err
	}
	res, err := h.invoker.Invoke(r.Context(), req)
	if err != nil {
		return err
	}
	hdr := w.Header()
	if res.ExecutedVersion != "" && req.Type == invoke.RequestResponse {
		hdr.Set("X-Amz-Executed-Version", res.ExecutedVersion)
	}
	if res.FunctionError != "" {
		hdr.Set("X-Amz-Function-Error", res.FunctionError)
	}
	if req.LogTail {
		hdr.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(res.LogTail))
	}
	if res.StatusCode == http.StatusOK {
		hdr.Set("Content-Type", "application/json")
	}
	w.WriteHeader(res.StatusCode)
	w.Write(res.Payload)
	return nil
}

// decodeInvoke reads an Invoke or InvokeWithResponseStream request: the function, the invocation and log types
// (InvokeWithResponseStream has no Event invocations), the client context and the payload.
func (h *Handler) decodeInvoke(r *http.Request, streaming bool) (invoke.Request, error) {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return invoke.Request{}, err
	}
	req := invoke.Request{Ref: ref, Type: r.Header.Get("X-Amz-Invocation-Type")}
	allowed := "[Event, RequestResponse, DryRun]"
	if streaming {
		allowed = "[RequestResponse, DryRun]"
	}
	switch {
	case req.Type == "":
		req.Type = invoke.RequestResponse
	case req.Type == invoke.RequestResponse, req.Type == invoke.DryRun, req.Type == invoke.Event && !streaming:
	default:
		return req, lambda.ValidationError(req.Type, "invocationType", "Member must satisfy enum value set: "+allowed)
	}
	switch lt := r.Header.Get("X-Amz-Log-Type"); lt {
	case "", "None":
	case "Tail":
		req.LogTail = req.Type == invoke.RequestResponse
	default:
		return req, lambda.ValidationError(lt, "logType", "Member must satisfy enum value set: [Tail, None]")
	}
	limit := invoke.MaxSyncPayload
	if req.Type == invoke.Event {
		limit = invoke.MaxAsyncPayload
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return req, err
	}
	if len(payload) > limit {
		return req, fault.New(fault.RequestTooLarge, "Request must be smaller than %d bytes for the InvokeFunction operation", limit)
	}
	if len(strings.TrimSpace(string(payload))) == 0 {
		payload = []byte("{}") // Lambda hands an empty invocation an empty JSON object
	} else if !json.Valid(payload) {
		var v any
		perr := json.Unmarshal(payload, &v)
		return req, fault.New(fault.InvalidRequestContent, "Could not parse request body into json: Could not parse payload into json: %s", perr)
	}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" && req.Type == invoke.RequestResponse {
		decoded, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || len(cc) > maxClientContext || !json.Valid(decoded) {
			return req, fault.New(fault.InvalidRequestContent, "Client context must be a valid Base64-encoded JSON object of at most %d bytes.", maxClientContext)
		}
		req.ClientContext = string(decoded)
	}
	req.Payload = payload
	return req, nil
}
