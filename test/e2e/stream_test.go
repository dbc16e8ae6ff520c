package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// streamingIndex is index.js of a Node function package: its handler streams "chunk 1\n", then — when the event
// names a gate — waits for an HTTP GET of it to be answered, then streams "chunk 2\n"; with {"fail": true} it
// throws after the first chunk. The package's plain.js answers {"hello":"world"} without streaming.
const streamingIndex = `const http = require('http');
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.setContentType('text/plain');
  responseStream.write('chunk 1\n');
  if (event.fail) throw new Error('boom mid-stream');
  if (event.gate) {
    await new Promise((resolve, reject) => {
      http.get(event.gate, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
    });
  }
  responseStream.write('chunk 2\n');
  responseStream.end();
});
`

// gate is an HTTP endpoint a function waits on: its GET is answered only once the test opens the gate, so while
// the gate is closed the function is provably still running.
type gate struct {
	srv     *httptest.Server
	arrived chan struct{} // the function's GET came
	open    chan struct{}
	once    sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{arrived: make(chan struct{}), open: make(chan struct{})}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.once.Do(func() { close(g.arrived) })
		select {
		case <-g.open:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "go")
	}))
	t.Cleanup(func() {
		g.release()
		g.srv.Close()
	})
	return g
}

func (g *gate) release() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// createStreamingFunctions creates "streamer" (index.handler) and "buffered" (plain.handler) from that package.
func createStreamingFunctions(t *testing.T, c *lambda.Client) {
	t.Helper()
	zip := makeZip(t, zipFile{Name: "index.js", Body: streamingIndex},
		zipFile{Name: "plain.js", Body: "exports.handler = async () => ({ hello: 'world' });\n"})
	for name, handler := range map[string]string{"streamer": "index.handler", "buffered": "plain.handler"} {
		createFunction(t, c, name, func(in *lambda.CreateFunctionInput) {
			in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String(handler)
			in.Code.ZipFile = zip
		})
	}
}

// streamEvents reads an InvokeWithResponseStream answer's events one at a time.
type streamEvents struct {
	t      *testing.T
	stream *lambda.InvokeWithResponseStreamEventStream
}

// next is the next event: a PayloadChunk's bytes, or the InvokeComplete event.
func (s streamEvents) next() (chunk []byte, complete *types.InvokeWithResponseStreamCompleteEvent) {
	s.t.Helper()
	select {
	case ev, ok := <-s.stream.Events():
		if !ok {
			s.t.Fatalf("the event stream ended without InvokeComplete: %v", s.stream.Err())
		}
		switch v := ev.(type) {
		case *types.InvokeWithResponseStreamResponseEventMemberPayloadChunk:
			return v.Value.Payload, nil
		case *types.InvokeWithResponseStreamResponseEventMemberInvokeComplete:
			return nil, &v.Value
		default:
			s.t.Fatalf("unexpected event %T", ev)
		}
	case <-time.After(60 * time.Second):
		s.t.Fatal("no event within 60 s")
	}
	return nil, nil
}

// rest reads the events up to InvokeComplete, which must be the last.
func (s streamEvents) rest() (payload string, complete *types.InvokeWithResponseStreamCompleteEvent) {
	s.t.Helper()
	for {
		chunk, done := s.next()
		if done != nil {
			if _, more := <-s.stream.Events(); more {
				s.t.Error("events after InvokeComplete")
			}
			if err := s.stream.Err(); err != nil {
				s.t.Errorf("event stream: %v", err)
			}
			return payload, done
		}
		payload += string(chunk)
	}
}

// TestInvokeWithResponseStream: a Node function's streamed response reaches an aws-sdk-go-v2 client piece by
// piece — the first chunk while the function is still held at its gate — as an event stream of PayloadChunk
// events ended by InvokeComplete; a mid-stream error, a function that does not stream, a plain Invoke of the
// streaming function and DryRun; then the same through boto3.
func TestInvokeWithResponseStream(t *testing.T) {
	parallel(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	s := startServer(t)
	c := s.Lambda()
	createStreamingFunctions(t, c)
	ctx := t.Context()

	t.Run("first chunk before the function ends", func(t *testing.T) {
		g := newGate(t)
		out, err := c.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("streamer"),
			Payload: []byte(`{"gate":"` + g.srv.URL + `/gate"}`), LogType: types.LogTypeTail})
		if err != nil {
			t.Fatal(err)
		}
		stream := out.GetStream()
		defer stream.Close()
		if aws.ToString(out.ExecutedVersion) != "$LATEST" || aws.ToString(out.ResponseStreamContentType) != "application/vnd.amazon.eventstream" || out.StatusCode != 200 {
			t.Errorf("answer: status %d, executed version %q, content type %q", out.StatusCode, aws.ToString(out.ExecutedVersion), aws.ToString(out.ResponseStreamContentType))
		}
		ev := streamEvents{t, stream}
		chunk, done := ev.next()
		if done != nil || string(chunk) != "chunk 1\n" {
			t.Fatalf("first event: %q %+v, want the chunk \"chunk 1\\n\"", chunk, done)
		}
		// The client has the first chunk, and the function is still held: its GET is waiting at the gate (which
		// it reaches only after writing that chunk), and nothing lets it go on until the gate opens.
		select {
		case <-g.arrived:
		case <-time.After(60 * time.Second):
			t.Fatal("the function never reached its gate")
		}
		g.release()
		payload, complete := ev.rest()
		if payload != "chunk 2\n" || complete.ErrorCode != nil || complete.ErrorDetails != nil {
			t.Errorf("after the gate: %q, InvokeComplete %s/%s", payload, aws.ToString(complete.ErrorCode), aws.ToString(complete.ErrorDetails))
		}
		logs, err := base64.StdEncoding.DecodeString(aws.ToString(complete.LogResult))
		if err != nil || !strings.Contains(string(logs), "START RequestId:") || !strings.Contains(string(logs), "REPORT RequestId:") {
			t.Errorf("LogResult %q: %v", logs, err)
		}
	})

	for _, tc := range []struct {
		name, function, payload, wantPayload, wantCode, wantDetails string
	}{
		{name: "error mid-stream", function: "streamer", payload: `{"fail":true}`, wantPayload: "chunk 1\n", wantCode: "Error", wantDetails: "boom mid-stream"},
		{name: "function that does not stream", function: "buffered", payload: `{}`, wantPayload: `{"hello":"world"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String(tc.function), Payload: []byte(tc.payload)})
			if err != nil {
				t.Fatal(err)
			}
			stream := out.GetStream()
			defer stream.Close()
			payload, complete := streamEvents{t, stream}.rest()
			if payload != tc.wantPayload || aws.ToString(complete.ErrorCode) != tc.wantCode || aws.ToString(complete.ErrorDetails) != tc.wantDetails {
				t.Errorf("got %q and InvokeComplete %q/%q, want %q and %q/%q", payload, aws.ToString(complete.ErrorCode),
					aws.ToString(complete.ErrorDetails), tc.wantPayload, tc.wantCode, tc.wantDetails)
			}
			if complete.LogResult != nil {
				t.Errorf("LogResult without LogType Tail: %q", aws.ToString(complete.LogResult))
			}
		})
	}

	t.Run("timeout mid-stream", func(t *testing.T) {
		createFunction(t, c, "streamer-1s", func(in *lambda.CreateFunctionInput) {
			in.Runtime, in.Handler, in.Timeout = types.RuntimeNodejs20x, aws.String("index.handler"), aws.Int32(1)
			in.Code.ZipFile = makeZip(t, zipFile{Name: "index.js", Body: streamingIndex})
		})
		g := newGate(t) // never opened: the function is held until its timeout
		out, err := c.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("streamer-1s"),
			Payload: []byte(`{"gate":"` + g.srv.URL + `/gate"}`)})
		if err != nil {
			t.Fatal(err)
		}
		defer out.GetStream().Close()
		payload, complete := streamEvents{t, out.GetStream()}.rest()
		if payload != "chunk 1\n" || aws.ToString(complete.ErrorCode) != "Sandbox.Timedout" ||
			!strings.HasSuffix(aws.ToString(complete.ErrorDetails), "Task timed out after 1.00 seconds") {
			t.Errorf("got %q, InvokeComplete %q/%q", payload, aws.ToString(complete.ErrorCode), aws.ToString(complete.ErrorDetails))
		}
	})

	t.Run("plain invoke of the streaming function", func(t *testing.T) {
		out := invokeJSON(t, c, "streamer", "", `{}`)
		if out.FunctionError != nil || string(out.Payload) != "chunk 1\nchunk 2\n" {
			t.Errorf("Invoke: %q %s", aws.ToString(out.FunctionError), out.Payload)
		}
		out = invokeJSON(t, c, "streamer", "", `{"fail":true}`)
		var doc struct{ ErrorType, ErrorMessage string }
		json.Unmarshal(out.Payload, &doc)
		if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "Error" || doc.ErrorMessage != "boom mid-stream" {
			t.Errorf("Invoke failing mid-stream: %q %s", aws.ToString(out.FunctionError), out.Payload)
		}
	})

	t.Run("dry run", func(t *testing.T) {
		out, err := c.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("streamer"),
			InvocationType: types.ResponseStreamingInvocationTypeDryRun})
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != 204 {
			t.Errorf("DryRun status %d, want 204", out.StatusCode)
		}
		out.GetStream().Close()
	})

	for _, tc := range []struct {
		name string
		in   *lambda.InvokeWithResponseStreamInput
		want wantErr
	}{
		{"missing function", &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("nope")},
			wantErr{Status: 404, Code: "ResourceNotFoundException", Prefix: "Function not found: "}},
		{"Event invocation", &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("streamer"), InvocationType: "Event"},
			wantErr{Status: 400, Code: "ValidationException", Contains: "Member must satisfy enum value set: [RequestResponse, DryRun]"}},
		{"payload not JSON", &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("streamer"), Payload: []byte("{")},
			wantErr{Status: 400, Code: "InvalidRequestContentException", Prefix: "Could not parse request body into json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.InvokeWithResponseStream(ctx, tc.in)
			checkAPIError(t, "InvokeWithResponseStream", err, tc.want)
		})
	}

	// aws-lambda-go streams a function URL response without the mode header (a chunked body, the prelude first) and
	// fails it in the trailers: the same event stream.
	t.Run("aws-lambda-go streaming response", func(t *testing.T) {
		createFunction(t, c, "go-streamer", func(in *lambda.CreateFunctionInput) {
			in.Runtime, in.Handler = types.RuntimeProvidedal2023, aws.String("bootstrap")
			in.Code.ZipFile = goFunctionZip(t, "./test/functions/streamer")
		})
		prelude := `{"statusCode":201,"headers":{"Content-Type":"text/plain"}}` + strings.Repeat("\x00", 8)
		g := newGate(t)
		out, err := c.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("go-streamer"),
			Payload: []byte(`{"gate":"` + g.srv.URL + `/gate"}`)})
		if err != nil {
			t.Fatal(err)
		}
		stream := out.GetStream()
		defer stream.Close()
		ev := streamEvents{t, stream}
		var got string
		for got != prelude+"chunk 1\n" {
			chunk, done := ev.next()
			if done != nil || !strings.HasPrefix(prelude+"chunk 1\n", got+string(chunk)) {
				t.Fatalf("before the gate: %q then %q %+v, want %q", got, chunk, done, prelude+"chunk 1\n")
			}
			got += string(chunk)
		}
		select {
		case <-g.arrived:
		case <-time.After(60 * time.Second):
			t.Fatal("the function never reached its gate")
		}
		g.release()
		if payload, complete := ev.rest(); payload != "chunk 2\n" || complete.ErrorCode != nil {
			t.Errorf("after the gate: %q, InvokeComplete %s/%s", payload, aws.ToString(complete.ErrorCode), aws.ToString(complete.ErrorDetails))
		}

		out, err = c.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("go-streamer"), Payload: []byte(`{"fail":true}`)})
		if err != nil {
			t.Fatal(err)
		}
		defer out.GetStream().Close()
		payload, complete := streamEvents{t, out.GetStream()}.rest()
		if payload != prelude+"chunk 1\n" || aws.ToString(complete.ErrorCode) != "errorString" || aws.ToString(complete.ErrorDetails) != "boom mid-stream" {
			t.Errorf("failing mid-stream: %q, InvokeComplete %q/%q", payload, aws.ToString(complete.ErrorCode), aws.ToString(complete.ErrorDetails))
		}
	})

	t.Run("boto3", func(t *testing.T) {
		requireBoto3(t)
		script, err := filepath.Abs(filepath.Join("testdata", "stream_invoke.py"))
		if err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := run(t, s.Env(), filepath.Dir(script), "python3", script, "streamer", "buffered")
		if code != 0 {
			t.Fatalf("python3 stream_invoke.py: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		t.Log(strings.TrimSpace(stdout))
	})
}
