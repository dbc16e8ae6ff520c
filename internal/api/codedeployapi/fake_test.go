package codedeployapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/internal/api/codedeployapi"
	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// call is one backend call as the fake recorded it.
type call struct {
	Op   string
	Args any
}

// Argument records of the calls whose methods take several arguments.
type (
	groupArgs       struct{ Application, Name string }
	updateGroupArgs struct {
		Current string
		Group   codedeploy.DeploymentGroup
	}
	listGroupsArgs struct{ Application, NextToken string }
	controlArgs    struct{ ID, Principal string }
	stopArgs       struct {
		ID                  string
		AutoRollbackEnabled *bool
	}
	hookArgs struct{ DeploymentID, ExecutionID, Status string }
)

// fake is an in-memory Backend at the true edge: it records every call and answers from canned records, with the
// domain's not-found faults for the rest.
type fake struct {
	mu       sync.Mutex
	calls    []call
	requests []int // indexes in calls where each request's calls start

	apps        map[string]codedeploy.Application
	groups      map[string]codedeploy.DeploymentGroup // by "app/name"
	configs     map[string]codedeploy.DeploymentConfig
	deployments map[string]codedeploy.Deployment
	// names and nextToken answer every List call.
	names     []string
	nextToken string
	// createdID is the ID CreateDeployment answers.
	createdID string
	// fail, when set, decides the error of a call from its arguments.
	fail func(op string, args any) error
}

func newFake() *fake {
	f := &fake{
		apps:        map[string]codedeploy.Application{},
		groups:      map[string]codedeploy.DeploymentGroup{},
		configs:     map[string]codedeploy.DeploymentConfig{},
		deployments: map[string]codedeploy.Deployment{},
		createdID:   idCreated,
	}
	a := ordersApp()
	f.apps[a.Name] = a
	g := ordersGroup()
	f.groups[g.ApplicationName+"/"+g.Name] = g
	for _, c := range codedeploy.PredefinedConfigs() {
		f.configs[c.Name] = c
	}
	c := customConfig()
	f.configs[c.Name] = c
	for _, d := range deployments() {
		f.deployments[d.ID] = d
	}
	return f
}

func (f *fake) record(op string, args any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{op, args})
	if f.fail != nil {
		return f.fail(op, args)
	}
	return nil
}

func (f *fake) startRequest() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, len(f.calls))
}

// callsByRequest returns the calls each request caused, in request order.
func (f *fake) callsByRequest() [][]call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([][]call, len(f.requests))
	for i, start := range f.requests {
		end := len(f.calls)
		if i+1 < len(f.requests) {
			end = f.requests[i+1]
		}
		out[i] = f.calls[start:end]
	}
	return out
}

// takeCalls returns the calls recorded so far and forgets them.
func (f *fake) takeCalls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls, f.requests = nil, nil
	return c
}

func (f *fake) CreateApplication(_ context.Context, app codedeploy.Application) (codedeploy.Application, error) {
	if err := f.record("CreateApplication", app); err != nil {
		return codedeploy.Application{}, err
	}
	app.ID, app.CreateTime = ordersApp().ID, tCreate
	return app, nil
}

func (f *fake) GetApplication(_ context.Context, name string) (codedeploy.Application, error) {
	if err := f.record("GetApplication", name); err != nil {
		return codedeploy.Application{}, err
	}
	a, ok := f.apps[name]
	if !ok {
		return codedeploy.Application{}, codedeploy.ApplicationDoesNotExist(name)
	}
	return a, nil
}

func (f *fake) ListApplications(_ context.Context, nextToken string) ([]string, string, error) {
	if err := f.record("ListApplications", nextToken); err != nil {
		return nil, "", err
	}
	return f.names, f.nextToken, nil
}

func (f *fake) DeleteApplication(_ context.Context, name string) error {
	return f.record("DeleteApplication", name)
}

func (f *fake) CreateDeploymentGroup(_ context.Context, g codedeploy.DeploymentGroup) (codedeploy.DeploymentGroup, error) {
	if err := f.record("CreateDeploymentGroup", g); err != nil {
		return codedeploy.DeploymentGroup{}, err
	}
	g.ID = ordersGroup().ID
	return g, nil
}

func (f *fake) GetDeploymentGroup(_ context.Context, application, name string) (codedeploy.DeploymentGroup, error) {
	if err := f.record("GetDeploymentGroup", groupArgs{application, name}); err != nil {
		return codedeploy.DeploymentGroup{}, err
	}
	if _, ok := f.apps[application]; !ok {
		return codedeploy.DeploymentGroup{}, codedeploy.ApplicationDoesNotExist(application)
	}
	g, ok := f.groups[application+"/"+name]
	if !ok {
		return codedeploy.DeploymentGroup{}, codedeploy.DeploymentGroupDoesNotExist(name)
	}
	return g, nil
}

func (f *fake) UpdateDeploymentGroup(_ context.Context, current string, g codedeploy.DeploymentGroup) error {
	return f.record("UpdateDeploymentGroup", updateGroupArgs{current, g})
}

func (f *fake) DeleteDeploymentGroup(_ context.Context, application, name string) error {
	return f.record("DeleteDeploymentGroup", groupArgs{application, name})
}

func (f *fake) ListDeploymentGroups(_ context.Context, application, nextToken string) ([]string, string, error) {
	if err := f.record("ListDeploymentGroups", listGroupsArgs{application, nextToken}); err != nil {
		return nil, "", err
	}
	return f.names, f.nextToken, nil
}

func (f *fake) CreateDeploymentConfig(_ context.Context, c codedeploy.DeploymentConfig) (codedeploy.DeploymentConfig, error) {
	if err := f.record("CreateDeploymentConfig", c); err != nil {
		return codedeploy.DeploymentConfig{}, err
	}
	c.ID, c.CreateTime = customConfig().ID, tCreate
	return c, nil
}

func (f *fake) GetDeploymentConfig(_ context.Context, name string) (codedeploy.DeploymentConfig, error) {
	if err := f.record("GetDeploymentConfig", name); err != nil {
		return codedeploy.DeploymentConfig{}, err
	}
	c, ok := f.configs[name]
	if !ok {
		return codedeploy.DeploymentConfig{}, codedeploy.DeploymentConfigDoesNotExist(name)
	}
	return c, nil
}

func (f *fake) DeleteDeploymentConfig(_ context.Context, name string) error {
	if err := f.record("DeleteDeploymentConfig", name); err != nil {
		return err
	}
	return codedeploy.CheckDeletable(name)
}

func (f *fake) ListDeploymentConfigs(_ context.Context, nextToken string) ([]string, string, error) {
	if err := f.record("ListDeploymentConfigs", nextToken); err != nil {
		return nil, "", err
	}
	return f.names, f.nextToken, nil
}

func (f *fake) CreateDeployment(_ context.Context, in codedeploy.CreateDeploymentInput) (string, error) {
	if err := f.record("CreateDeployment", in); err != nil {
		return "", err
	}
	if _, err := codedeploy.ParseRevision(in.Revision); err != nil {
		return "", err
	}
	return f.createdID, nil
}

func (f *fake) GetDeployment(_ context.Context, id string) (codedeploy.Deployment, error) {
	if err := f.record("GetDeployment", id); err != nil {
		return codedeploy.Deployment{}, err
	}
	d, ok := f.deployments[id]
	if !ok {
		return codedeploy.Deployment{}, codedeploy.DeploymentDoesNotExist(id)
	}
	return d, nil
}

func (f *fake) ListDeployments(_ context.Context, flt codedeploy.ListDeploymentsFilter) ([]string, string, error) {
	if err := f.record("ListDeployments", flt); err != nil {
		return nil, "", err
	}
	return f.names, f.nextToken, nil
}

func (f *fake) StopDeployment(_ context.Context, id string, autoRollbackEnabled *bool, _ string) (codedeploy.StopStatus, string, error) {
	if err := f.record("StopDeployment", stopArgs{id, autoRollbackEnabled}); err != nil {
		return "", "", err
	}
	d, ok := f.deployments[id]
	if !ok {
		return "", "", codedeploy.DeploymentDoesNotExist(id)
	}
	_, status, msg, err := codedeploy.RequestStop(d, autoRollbackEnabled, tNow)
	return status, msg, err
}

func (f *fake) ControlDeployment(_ context.Context, id string, kind codedeploy.ControlKind, principal string) error {
	if err := f.record(string(kind), controlArgs{id, principal}); err != nil {
		return err
	}
	d, ok := f.deployments[id]
	if !ok {
		return codedeploy.DeploymentDoesNotExist(id)
	}
	return codedeploy.CheckControl(d, nil, kind)
}

func (f *fake) PutLifecycleEventHookExecutionStatus(_ context.Context, deploymentID, executionID, status string) error {
	if err := f.record("PutLifecycleEventHookExecutionStatus", hookArgs{deploymentID, executionID, status}); err != nil {
		return err
	}
	d, ok := f.deployments[deploymentID]
	if !ok {
		return codedeploy.DeploymentDoesNotExist(deploymentID)
	}
	_, err := codedeploy.ReportHookStatus(d, executionID, status, tNow)
	return err
}

// server is the handler over a fake, behind an httptest server.
func (f *fake) NoteHookReportDenied(_ context.Context, deploymentID, executionID, message string) error {
	return f.record("NoteHookReportDenied", hookArgs{deploymentID, executionID, message})
}

type server struct {
	*httptest.Server
	fake *fake
	mu   sync.Mutex
	logs strings.Builder // what the handler logged
}

var acct = lambda.Account{Region: "us-east-1", ID: "123456789012"}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{fake: newFake()}
	log := slog.New(slog.NewTextHandler(lockedWriter{&s.mu, &s.logs}, nil))
	h := codedeployapi.New(s.fake, log, codedeployapi.WithAccount(acct))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fake.startRequest()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// logText returns what the handler has logged.
func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// failOn makes the fake answer op with err.
func failOn(op string, err error) func(string, any) error {
	return func(o string, _ any) error {
		if o == op {
			return err
		}
		return nil
	}
}

var _ codedeployapi.Backend = (*fake)(nil)
