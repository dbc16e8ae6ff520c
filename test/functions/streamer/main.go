// Command streamer is an aws-lambda-go function the tests build into a `bootstrap`: it streams a function URL
// response (events.LambdaFunctionURLStreamingResponse, which aws-lambda-go posts to the Runtime API as a chunked
// body without the streaming mode header): the HTTP integration prelude, "chunk 1\n", then — when the event names
// a gate — it waits for an HTTP GET of the gate to be answered, then "chunk 2\n", or fails the stream.
package main

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Event selects the behaviour.
type Event struct {
	Gate string `json:"gate,omitempty"` // wait for a GET of this URL after the first chunk
	Fail bool   `json:"fail,omitempty"` // break the body off with an error after the first chunk
}

func handler(_ context.Context, ev Event) (*events.LambdaFunctionURLStreamingResponse, error) {
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("chunk 1\n"))
		if ev.Gate != "" {
			resp, err := http.Get(ev.Gate)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if ev.Fail {
			pw.CloseWithError(errors.New("boom mid-stream"))
			return
		}
		pw.Write([]byte("chunk 2\n"))
		pw.Close()
	}()
	return &events.LambdaFunctionURLStreamingResponse{StatusCode: 201, Headers: map[string]string{"Content-Type": "text/plain"}, Body: pr}, nil
}

func main() { lambda.Start(handler) }
