package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// visFn is the function whose alias the visibility part moves: bench/deploy's function, versions 1 and 2 with
// different environments (so different pools), alias live.
const visFn = "vis"

func setupVisibility(ctx context.Context, c *lambda.Client, pkg []byte) error {
	if err := createFunction(ctx, c, visFn, pkg, map[string]string{"BUILD": "1"}); err != nil {
		return err
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(visFn)}); err != nil {
		return err
	}
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(visFn),
		Environment: envOf(map[string]string{"BUILD": "2"})}); err != nil {
		return err
	}
	if err := waitUpdated(ctx, c, visFn); err != nil {
		return err
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(visFn)}); err != nil {
		return err
	}
	_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(visFn), Name: aws.String("live"), FunctionVersion: aws.String("1")})
	return err
}

// warmVersions starts environments of versions on n for readers concurrent invokers.
func warmVersions(ctx context.Context, n *node, fn string, readers int, versions ...string) error {
	for _, v := range versions {
		var wg sync.WaitGroup
		errs := make([]error, readers)
		for r := range readers {
			wg.Go(func() {
				for range 5 {
					if _, err := invokeVersion(ctx, n.invoke, fn, v); err != nil {
						errs[r] = err
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("warming %s:%s on %s: %w", fn, v, n.name, err)
			}
		}
	}
	return nil
}

// invokeVersion invokes fn:qualifier and returns the version that ran it.
func invokeVersion(ctx context.Context, c *lambda.Client, fn, qualifier string) (string, error) {
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Qualifier: aws.String(qualifier), Payload: []byte("{}")})
	if err != nil {
		return "", err
	}
	if out.FunctionError != nil {
		return "", fmt.Errorf("function error: %s", out.Payload)
	}
	return aws.ToString(out.ExecutedVersion), nil
}

// observation is one reader invocation: when it started and ended, and which version ran it.
type observation struct {
	start, end time.Time
	version    string
}

// visResult is one visibility run: UpdateAlias through writer, readers invoking through reader.
type visResult struct {
	label      string
	flips      int
	update     []time.Duration // UpdateAlias, client-observed
	lagFirst   []time.Duration // UpdateAlias returned → the first reader invocation on the new version started
	staleAfter int             // reader invocations started after the return that ran the old version
	afterTotal int             // reader invocations started after a return and over before the next move began
	staleMax   time.Duration   // the latest start of such a stale invocation after its move's return
	missed     int             // flips whose new version no reader saw within 5 s
}

// measureVisibility moves alias live of visFn flips times through writer, alternating versions 1 and 2, while
// readers invoke it through reader non-stop. After each move it waits until a reader has run the new version
// (at most 5 s), then 20 ms, before the next move.
func measureVisibility(ctx context.Context, label string, writer, reader *node, flips, readers int) (visResult, error) {
	res := visResult{label: label, flips: flips}
	if _, err := writer.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(visFn), Name: aws.String("live"),
		FunctionVersion: aws.String("1")}); err != nil {
		return res, err
	}
	time.Sleep(200 * time.Millisecond)
	var (
		mu   sync.Mutex
		seen []observation
		last observation
		fail error
	)
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for rctx.Err() == nil {
				start := time.Now()
				v, err := invokeVersion(rctx, reader.invoke, visFn, "live")
				o := observation{start, time.Now(), v}
				mu.Lock()
				if err != nil && rctx.Err() == nil {
					fail = err
				} else if err == nil {
					seen = append(seen, o)
					if o.start.After(last.start) {
						last = o
					}
				}
				mu.Unlock()
			}
		})
	}
	type move struct {
		to         string
		begin, end time.Time
	}
	var moves []move
	for i := range flips {
		to := []string{"2", "1"}[i%2]
		begin := time.Now()
		if _, err := writer.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(visFn), Name: aws.String("live"),
			FunctionVersion: aws.String(to)}); err != nil {
			stop()
			wg.Wait()
			return res, err
		}
		end := time.Now()
		res.update = append(res.update, end.Sub(begin))
		moves = append(moves, move{to, begin, end})
		for deadline := end.Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Microsecond) {
			mu.Lock()
			ok := last.version == to && !last.start.Before(end)
			mu.Unlock()
			if ok {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if fail != nil {
		return res, fmt.Errorf("reader on %s: %w", reader.name, fail)
	}
	slices.SortFunc(seen, func(a, b observation) int { return a.start.Compare(b.start) })
	for i, m := range moves {
		until := time.Now().Add(time.Hour)
		if i+1 < len(moves) {
			until = moves[i+1].begin
		}
		found := false
		for _, o := range seen {
			// One still running when the next move began may have been routed by that one, which moves the alias
			// back to the version this one left: only invocations over before it count.
			if o.start.Before(m.end) || !o.end.Before(until) {
				continue
			}
			res.afterTotal++
			if o.version != m.to {
				res.staleAfter++
				res.staleMax = max(res.staleMax, o.start.Sub(m.end))
			} else if !found {
				res.lagFirst = append(res.lagFirst, o.start.Sub(m.end))
				found = true
			}
		}
		if !found {
			res.missed++
		}
	}
	return res, nil
}
