package stackdeploy

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluice-dev/sluice/internal/stack"
)

// fakeAWS is the part of Lambda, CodeDeploy and STS a deploy of the tests' templates calls, over HTTP as the SDK
// speaks it, with Lambda's rule that matters here: a version an alias routes to cannot be deleted. A CodeDeploy
// deployment puts 10% of its alias on the new version when it is created and ends, after a few polls, as the
// test scripted it. Every call that changes something is logged, in order.
type fakeAWS struct {
	mu        sync.Mutex
	url       string
	functions map[string]*fakeFunction
	deploys   map[string]*fakeDeployment
	groups    map[string]bool // application/group
	eics      map[string]bool // function:qualifier
	urls      map[string]*fakeURL
	// policies are the statements of each resource-based policy, by function:qualifier and statement id.
	policies map[string]map[string]map[string]any
	log      []string
	// outcome is how the next deployments end: "Succeeded" (default) or "Failed" (an alarm rolled it back);
	// outcomes overrides it for some functions.
	outcome  string
	outcomes map[string]string
	// polls is how many GetDeployment calls see a deployment in progress before it ends.
	polls int
	// polled is told of every GetDeployment that sees a deployment in progress (a test interrupts a deploy there).
	polled func()
	// fail, when it returns a message, makes an operation on a target fail with InvalidParameterValueException.
	fail func(op, target string) string
}

type fakeFunction struct {
	name     string
	zip      []byte
	sha      string
	memory   int
	versions map[string]fakeVersion
	next     int
	aliases  map[string]*fakeAlias
}

type fakeVersion struct {
	sha string
}

// fakeURL is a function URL, by function:qualifier ("orders:" for $LATEST's).
type fakeURL struct {
	id         string
	authType   string
	invokeMode string
	cors       map[string]any
}

type fakeAlias struct {
	version string
	weights map[string]float64
}

type fakeDeployment struct {
	function, alias, from, to string
	group, description        string
	polls                     int
	outcome                   string
	status                    string
}

func newFakeAWS(t *testing.T) *fakeAWS {
	f := &fakeAWS{functions: map[string]*fakeFunction{}, deploys: map[string]*fakeDeployment{}, groups: map[string]bool{},
		eics: map[string]bool{}, urls: map[string]*fakeURL{}, policies: map[string]map[string]map[string]any{}, outcome: "Succeeded", polls: 2}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// config is an SDK config aimed at the fake: no retries, so that a refusal is seen once.
func (f *fakeAWS) config() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1}
}

func (f *fakeAWS) record(format string, args ...any) {
	f.log = append(f.log, fmt.Sprintf(format, args...))
}

// logged returns the log so far.
func (f *fakeAWS) logged() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// versions lists a function's published versions.
func (f *fakeAWS) versions(fn string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	if ff := f.functions[fn]; ff != nil {
		for v := range ff.versions {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		f.codeDeploy(w, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "CodeDeploy_20141006."), body)
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
			`<Arn>arn:aws:iam::000000000000:root</Arn><UserId>000000000000</UserId><Account>000000000000</Account>`+
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	default:
		f.lambda(w, r, body)
	}
}

func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg, "Type": "User"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// functionName takes a function name or ARN (qualified or not) from a path.
func functionName(s string) string {
	if _, after, ok := strings.Cut(s, ":function:"); ok {
		s = after
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

func (f *fakeAWS) configuration(fn *fakeFunction, version string) map[string]any {
	arn := "arn:aws:lambda:us-east-1:000000000000:function:" + fn.name
	sha := fn.sha
	if version != "$LATEST" {
		arn += ":" + version
		sha = fn.versions[version].sha
	}
	return map[string]any{"FunctionName": fn.name, "FunctionArn": arn, "Version": version, "CodeSha256": sha, "MemorySize": fn.memory,
		"State": "Active", "LastUpdateStatus": "Successful"}
}

func (f *fakeAWS) lambda(w http.ResponseWriter, r *http.Request, body []byte) {
	var parts []string
	for _, p := range strings.Split(r.URL.EscapedPath(), "/")[1:] {
		u, _ := url.PathUnescape(p)
		parts = append(parts, u)
	}
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	if len(parts) < 2 || parts[1] != "functions" {
		lambdaError(w, 404, "UnknownOperationException", r.Method+" "+r.URL.Path)
		return
	}
	if len(parts) == 2 || len(parts) == 3 && parts[2] == "" {
		parts = parts[:2]
	}
	if len(parts) == 2 && r.Method == http.MethodPost { // CreateFunction
		name, _ := in["FunctionName"].(string)
		if msg := f.failure("CreateFunction", name); msg != "" {
			lambdaError(w, 400, "InvalidParameterValueException", msg)
			return
		}
		zip := decodeZip(in)
		fn := &fakeFunction{name: name, zip: zip, sha: shaOf(zip), memory: intOf(in["MemorySize"], 128), versions: map[string]fakeVersion{},
			aliases: map[string]*fakeAlias{}}
		f.functions[name] = fn
		f.record("CreateFunction %s%s", name, fromS3(zip))
		writeJSON(w, 201, f.configuration(fn, "$LATEST"))
		return
	}
	fn := f.functions[functionName(parts[2])]
	if fn == nil {
		lambdaError(w, 404, "ResourceNotFoundException", "Function not found: "+parts[2])
		return
	}
	qualifier := r.URL.Query().Get("Qualifier")
	if _, q, ok := strings.Cut(strings.TrimPrefix(parts[2], "arn:aws:lambda:us-east-1:000000000000:function:"), ":"); ok {
		qualifier = q
	}
	switch rest := strings.Join(parts[3:], "/"); {
	case parts[0] == "2021-10-31" && rest == "url":
		f.functionURL(w, r, fn, qualifier, in)
	case parts[0] == "2015-03-31" && (rest == "policy" || strings.HasPrefix(rest, "policy/")):
		f.permission(w, r, fn, qualifier, strings.TrimPrefix(strings.TrimPrefix(rest, "policy"), "/"), in)
	case parts[0] == "2017-10-31" && rest == "concurrency":
		w.WriteHeader(204)
	case parts[0] == "2019-09-25" && rest == "event-invoke-config":
		key := fn.name + ":" + qualifier
		if r.Method == http.MethodDelete {
			delete(f.eics, key)
			f.record("DeleteFunctionEventInvokeConfig %s", key)
			w.WriteHeader(204)
			return
		}
		f.eics[key] = true
		f.record("PutFunctionEventInvokeConfig %s", key)
		writeJSON(w, 200, map[string]any{"FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:" + key})
	case rest == "" && r.Method == http.MethodDelete: // DeleteFunction
		if qualifier == "" {
			delete(f.functions, fn.name)
			for key := range f.urls {
				if strings.HasPrefix(key, fn.name+":") {
					delete(f.urls, key)
				}
			}
			for key := range f.policies {
				if strings.HasPrefix(key, fn.name+":") {
					delete(f.policies, key)
				}
			}
			f.record("DeleteFunction %s", fn.name)
			w.WriteHeader(204)
			return
		}
		if _, ok := fn.versions[qualifier]; !ok {
			lambdaError(w, 404, "ResourceNotFoundException", "Function not found: "+fn.name+":"+qualifier)
			return
		}
		var refs []string
		for name, a := range fn.aliases {
			if _, weighted := a.weights[qualifier]; a.version == qualifier || weighted {
				refs = append(refs, name)
			}
		}
		if len(refs) > 0 {
			slices.Sort(refs)
			f.record("DeleteFunction %s:%s refused", fn.name, qualifier)
			lambdaError(w, 409, "ResourceConflictException", "Unable to delete version because the following aliases reference it: ["+strings.Join(refs, ", ")+"]")
			return
		}
		delete(fn.versions, qualifier)
		f.record("DeleteFunction %s:%s", fn.name, qualifier)
		w.WriteHeader(204)
	case rest == "configuration" && r.Method == http.MethodGet:
		writeJSON(w, 200, f.configuration(fn, "$LATEST"))
	case rest == "configuration": // UpdateFunctionConfiguration
		if msg := f.failure("UpdateFunctionConfiguration", fn.name); msg != "" {
			lambdaError(w, 400, "InvalidParameterValueException", msg)
			return
		}
		fn.memory = intOf(in["MemorySize"], fn.memory)
		f.record("UpdateFunctionConfiguration %s MemorySize=%d", fn.name, fn.memory)
		writeJSON(w, 200, f.configuration(fn, "$LATEST"))
	case rest == "code": // UpdateFunctionCode
		fn.zip = decodeZip(in)
		fn.sha = shaOf(fn.zip)
		f.record("UpdateFunctionCode %s%s", fn.name, fromS3(fn.zip))
		writeJSON(w, 200, f.configuration(fn, "$LATEST"))
	case rest == "versions" && r.Method == http.MethodPost: // PublishVersion
		fn.next++
		v := strconv.Itoa(fn.next)
		fn.versions[v] = fakeVersion{sha: fn.sha}
		f.record("PublishVersion %s:%s", fn.name, v)
		writeJSON(w, 201, f.configuration(fn, v))
	case rest == "aliases": // CreateAlias
		name, _ := in["Name"].(string)
		version, _ := in["FunctionVersion"].(string)
		fn.aliases[name] = &fakeAlias{version: version}
		f.record("CreateAlias %s:%s → %s", fn.name, name, version)
		writeJSON(w, 201, aliasJSON(fn, name, fn.aliases[name]))
	case len(parts) == 5 && parts[3] == "aliases":
		a := fn.aliases[parts[4]]
		if a == nil {
			lambdaError(w, 404, "ResourceNotFoundException", "Alias not found: "+parts[4])
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, aliasJSON(fn, parts[4], a))
		case http.MethodPut:
			a.version, _ = in["FunctionVersion"].(string)
			a.weights = nil
			f.record("UpdateAlias %s:%s → %s", fn.name, parts[4], a.version)
			writeJSON(w, 200, aliasJSON(fn, parts[4], a))
		case http.MethodDelete:
			delete(fn.aliases, parts[4])
			delete(f.urls, fn.name+":"+parts[4])
			delete(f.policies, fn.name+":"+parts[4])
			f.record("DeleteAlias %s:%s", fn.name, parts[4])
			w.WriteHeader(204)
		}
	default:
		lambdaError(w, 404, "UnknownOperationException", r.Method+" "+r.URL.Path)
	}
}

// functionURL is Create/Update/DeleteFunctionUrlConfig on $LATEST or an alias.
func (f *fakeAWS) functionURL(w http.ResponseWriter, r *http.Request, fn *fakeFunction, qualifier string, in map[string]any) {
	key := fn.name + ":" + qualifier
	if qualifier != "" && fn.aliases[qualifier] == nil {
		lambdaError(w, 404, "ResourceNotFoundException", "Function does not exist")
		return
	}
	u := f.urls[key]
	answer := func(status int) {
		arn := "arn:aws:lambda:us-east-1:000000000000:function:" + strings.TrimSuffix(key, ":")
		out := map[string]any{"FunctionArn": arn, "FunctionUrl": "http://" + u.id + ".lambda-url.us-east-1.localhost/",
			"AuthType": u.authType, "InvokeMode": u.invokeMode, "CreationTime": "2026-11-26T09:00:00.000000Z"}
		if len(u.cors) > 0 {
			out["Cors"] = u.cors
		}
		writeJSON(w, status, out)
	}
	settings := func() {
		u.authType, _ = in["AuthType"].(string)
		if m, ok := in["InvokeMode"].(string); ok {
			u.invokeMode = m
		}
		if c, ok := in["Cors"].(map[string]any); ok {
			u.cors = c
		}
	}
	switch {
	case r.Method == http.MethodPost:
		if u != nil {
			lambdaError(w, 409, "ResourceConflictException", "FunctionUrlConfig exists for this Lambda function")
			return
		}
		u = &fakeURL{id: fmt.Sprintf("url%d", len(f.log)), invokeMode: "BUFFERED"}
		settings()
		f.urls[key] = u
		f.record("CreateFunctionUrlConfig %s %s", key, u.authType)
		answer(201)
	case u == nil:
		lambdaError(w, 404, "ResourceNotFoundException", "The resource you requested does not exist.")
	case r.Method == http.MethodPut:
		settings()
		f.record("UpdateFunctionUrlConfig %s %s %s cors=%d", key, u.authType, u.invokeMode, len(u.cors))
		answer(200)
	case r.Method == http.MethodDelete:
		delete(f.urls, key)
		f.record("DeleteFunctionUrlConfig %s", key)
		w.WriteHeader(204)
	default:
		answer(200)
	}
}

// permission is AddPermission and RemovePermission on a function, version or alias.
func (f *fakeAWS) permission(w http.ResponseWriter, r *http.Request, fn *fakeFunction, qualifier, sid string, in map[string]any) {
	key := fn.name + ":" + qualifier
	if _, isVersion := fn.versions[qualifier]; qualifier != "" && fn.aliases[qualifier] == nil && !isVersion {
		lambdaError(w, 404, "ResourceNotFoundException", "Function not found: "+key)
		return
	}
	switch r.Method {
	case http.MethodPost:
		sid, _ = in["StatementId"].(string)
		if msg := f.failure("AddPermission", sid); msg != "" {
			lambdaError(w, 400, "InvalidParameterValueException", msg)
			return
		}
		if f.policies[key] == nil {
			f.policies[key] = map[string]map[string]any{}
		}
		if _, ok := f.policies[key][sid]; ok {
			lambdaError(w, 409, "ResourceConflictException", "The statement id ("+sid+") provided already exists. Please provide a new statement id, or remove the existing statement.")
			return
		}
		f.policies[key][sid] = in
		f.record("AddPermission %s %v %v", key, in["Action"], in["Principal"])
		writeJSON(w, 201, map[string]any{"Statement": "{}"})
	case http.MethodDelete:
		if _, ok := f.policies[key][sid]; !ok {
			lambdaError(w, 404, "ResourceNotFoundException", "No policy is associated with the given resource.")
			return
		}
		delete(f.policies[key], sid)
		f.record("RemovePermission %s %v", key, sid)
		w.WriteHeader(204)
	default:
		lambdaError(w, 404, "UnknownOperationException", r.Method+" "+r.URL.Path)
	}
}

// statements lists the statements of a resource's policy (function:qualifier) as "Action Principal" lines.
func (f *fakeAWS) statements(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.policies[key] {
		out = append(out, fmt.Sprintf("%v %v", s["Action"], s["Principal"]))
	}
	slices.Sort(out)
	return out
}

func (f *fakeAWS) failure(op, target string) string {
	if f.fail == nil {
		return ""
	}
	return f.fail(op, target)
}

func aliasJSON(fn *fakeFunction, name string, a *fakeAlias) map[string]any {
	out := map[string]any{"Name": name, "FunctionVersion": a.version,
		"AliasArn": "arn:aws:lambda:us-east-1:000000000000:function:" + fn.name + ":" + name}
	if len(a.weights) > 0 {
		out["RoutingConfig"] = map[string]any{"AdditionalVersionWeights": a.weights}
	}
	return out
}

func decodeZip(in map[string]any) []byte {
	var s string
	code, ok := in["Code"].(map[string]any)
	if !ok {
		code = in
	}
	s, _ = code["ZipFile"].(string)
	if bucket, _ := code["S3Bucket"].(string); bucket != "" {
		// Code in S3: the fake's package is the object's name, so a new key is new code.
		key, _ := code["S3Key"].(string)
		version, _ := code["S3ObjectVersion"].(string)
		return []byte("s3://" + bucket + "/" + key + "?" + version)
	}
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

func shaOf(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func intOf(v any, def int) int {
	if n, ok := v.(float64); ok {
		return int(n)
	}
	return def
}

var appSpecField = regexp.MustCompile(`(Name|Alias|CurrentVersion|TargetVersion): "([^"]*)"`)

func (f *fakeAWS) codeDeploy(w http.ResponseWriter, op string, body []byte) {
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	s := func(k string) string { v, _ := in[k].(string); return v }
	switch op {
	case "CreateApplication":
		f.record("CreateApplication %s", s("applicationName"))
		writeJSON(w, 200, map[string]any{"applicationId": "app-1"})
	case "CreateDeploymentGroup", "UpdateDeploymentGroup":
		name := s("deploymentGroupName")
		if op == "UpdateDeploymentGroup" {
			name = s("currentDeploymentGroupName")
		}
		f.groups[s("applicationName")+"/"+name] = true
		f.record("%s %s/%s", op, s("applicationName"), name)
		writeJSON(w, 200, map[string]any{"deploymentGroupId": "dg-1"})
	case "GetDeploymentGroup":
		writeJSON(w, 200, map[string]any{"deploymentGroupInfo": map[string]any{"applicationName": s("applicationName"),
			"deploymentGroupName": s("deploymentGroupName"), "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes"}})
	case "CreateDeployment":
		rev, _ := in["revision"].(map[string]any)
		spec, _ := rev["appSpecContent"].(map[string]any)
		content, _ := spec["content"].(string)
		d := &fakeDeployment{status: "InProgress", group: s("applicationName") + "/" + s("deploymentGroupName"), description: s("description")}
		for _, m := range appSpecField.FindAllStringSubmatch(content, -1) {
			switch m[1] {
			case "Name":
				d.function = m[2]
			case "Alias":
				d.alias = m[2]
			case "CurrentVersion":
				d.from = m[2]
			case "TargetVersion":
				d.to = m[2]
			}
		}
		d.outcome = f.outcome
		if o, ok := f.outcomes[d.function]; ok {
			d.outcome = o
		}
		id := fmt.Sprintf("d-%d", len(f.deploys)+1)
		f.deploys[id] = d
		f.functions[d.function].aliases[d.alias].weights = map[string]float64{d.to: 0.1}
		f.record("CreateDeployment %s %s:%s %s→%s", id, d.function, d.alias, d.from, d.to)
		writeJSON(w, 200, map[string]any{"deploymentId": id})
	case "GetDeployment":
		id := s("deploymentId")
		d := f.deploys[id]
		if d.status == "InProgress" {
			if f.polled != nil {
				f.polled()
			}
			if d.polls++; d.polls > f.polls {
				f.end(id)
			}
		}
		info := map[string]any{"status": d.status, "description": d.description}
		if d.status == "Failed" || d.status == "Stopped" {
			info["errorInformation"] = map[string]any{"code": "ALARM_ACTIVE", "message": "an alarm went off"}
		}
		writeJSON(w, 200, map[string]any{"deploymentInfo": info})
	case "ListDeployments":
		want := map[string]bool{}
		for _, st := range in["includeOnlyStatuses"].([]any) {
			want[st.(string)] = true
		}
		ids := []string{}
		for id, d := range f.deploys {
			if d.group == s("applicationName")+"/"+s("deploymentGroupName") && (len(want) == 0 || want[d.status]) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		writeJSON(w, 200, map[string]any{"deployments": ids})
	case "StopDeployment":
		d := f.deploys[s("deploymentId")]
		d.outcome = "Stopped"
		f.record("StopDeployment %s", s("deploymentId"))
		writeJSON(w, 200, map[string]any{"status": "Pending"})
	case "DeleteDeploymentGroup":
		delete(f.groups, s("applicationName")+"/"+s("deploymentGroupName"))
		f.record("DeleteDeploymentGroup %s/%s", s("applicationName"), s("deploymentGroupName"))
		writeJSON(w, 200, map[string]any{"hooksNotCleanedUp": []any{}})
	case "DeleteApplication":
		f.record("DeleteApplication %s", s("applicationName"))
		writeJSON(w, 200, map[string]any{})
	default:
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException", "message": op})
	}
}

// end ends a deployment as scripted, moving its alias.
func (f *fakeAWS) end(id string) {
	d := f.deploys[id]
	a := f.functions[d.function].aliases[d.alias]
	a.weights, d.status = nil, d.outcome
	if d.outcome == "Succeeded" {
		a.version = d.to
	}
	f.record("Deployment %s %s", id, d.status)
}

// finish ends a deployment nobody watches any more (it goes on after its deploy was interrupted).
func (f *fakeAWS) finish(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.end(id)
}

// memStacks is a stack.Store in memory that remembers every status it was given, in order.
type memStacks struct {
	mu       sync.Mutex
	stacks   map[string]stack.Stack
	statuses []stack.Status
}

func newMemStacks() *memStacks { return &memStacks{stacks: map[string]stack.Stack{}} }

func (m *memStacks) Get(_ context.Context, name string) (stack.Stack, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.stacks[name]
	if !ok {
		return stack.Stack{}, stack.ErrNotFound
	}
	return roundTrip(s), nil
}

func (m *memStacks) Put(_ context.Context, s stack.Stack) (stack.Stack, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stacks[s.Name].Revision != s.Revision {
		return stack.Stack{}, stack.ErrConflict
	}
	s.Revision++
	s.Updated = time.Now()
	s = roundTrip(s)
	m.stacks[s.Name] = s
	if n := len(m.statuses); n == 0 || m.statuses[n-1] != s.Status {
		m.statuses = append(m.statuses, s.Status)
	}
	return s, nil
}

func (m *memStacks) Delete(_ context.Context, name string, _ int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.stacks, name)
	return nil
}

func (m *memStacks) List(context.Context) ([]stack.Summary, error) { return nil, nil }

// roundTrip gives a record as the server would give it back (through JSON).
func roundTrip(s stack.Stack) stack.Stack {
	b, _ := json.Marshal(s)
	var out stack.Stack
	_ = json.Unmarshal(b, &out)
	return out
}

// fakeClock advances by whatever a deploy waits for, at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// fromS3 names the object a package came from, in the log.
func fromS3(zip []byte) string {
	if s := string(zip); strings.HasPrefix(s, "s3://") {
		return " from " + s
	}
	return ""
}

// deployments lists the deployments created so far.
func (f *fakeAWS) deployments() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := range f.deploys {
		out = append(out, id)
	}
	return out
}

// setPolls sets how many polls see a deployment in progress.
func (f *fakeAWS) setPolls(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls = n
}

// onPoll sets what is told of every poll of a deployment in progress (nil: nothing).
func (f *fakeAWS) onPoll(polled func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polled = polled
}
