package stackdeploy

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluice-dev/sluice/internal/api/ssmapi"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/parameterstore"
	"github.com/sluice-dev/sluice/internal/ssm"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// ssmWorld is the fake AWS of the other tests with Sluice's real Parameter Store edge and service (over bbolt)
// answering the AmazonSSM calls.
type ssmWorld struct {
	t      *testing.T
	params *parameterstore.Service
	cfg    aws.Config
	stacks *memStacks
}

func newSSMWorld(t *testing.T) *ssmWorld {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	params, err := parameterstore.New(parameterstore.Options{Store: db, Key: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	edge := ssmapi.New(params, lambda.Account{Region: "us-east-1", ID: "000000000000"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	fake := newFakeAWS(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), ssmapi.TargetPrefix) {
			edge.ServeHTTP(w, r)
			return
		}
		fake.serve(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := fake.config()
	cfg.BaseEndpoint = aws.String(srv.URL)
	return &ssmWorld{t: t, params: params, cfg: cfg, stacks: newMemStacks()}
}

func (w *ssmWorld) put(name, value, typ string) {
	w.t.Helper()
	if _, err := w.params.Put(context.Background(), ssm.PutRequest{Name: name, Value: value, Type: &typ, Overwrite: true}, "test"); err != nil {
		w.t.Fatal(err)
	}
}

func (w *ssmWorld) get(name string) (parameterstore.Value, error) {
	return w.params.Get(context.Background(), name, false)
}

func (w *ssmWorld) deploy(template string) (*Result, error) {
	w.t.Helper()
	return operate(w.t, Options{TemplateBody: []byte(template), Config: w.cfg, Stacks: w.stacks, Poll: time.Millisecond})
}

const ssmTemplate = `Parameters:
  Version:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /cfg/version
  Zones:
    Type: AWS::SSM::Parameter::Value<List<String>>
    Default: /cfg/zones
  BootstrapVersion:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /cdk-bootstrap/hnb659fds/version
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: NAME
      Type: String
      Value: !Join ["-", [!Ref Version, !Select [1, !Ref Zones]]]
      Description: the setting
      Tags: TAGS
  Generated:
    Type: AWS::SSM::Parameter
    Properties: {Type: StringList, Value: "x,y"}
Outputs:
  SettingName:
    Value: !Ref Setting
  SettingValue:
    Value: !GetAtt Setting.Value
  GeneratedType:
    Value: !GetAtt Generated.Type
`

func ssmApp(name, tags string) string {
	return strings.NewReplacer("NAME", name, "TAGS", tags).Replace(ssmTemplate)
}

// TestSSMParameterResources: SSM-typed template parameters are read from Parameter Store before anything is
// created (their values recorded as CloudFormation's ResolvedValue), AWS::SSM::Parameter is created, overwritten
// when what it is made of changes, replaced when its name changes (the old one deleted in the cleanup), and
// deleted with the stack.
func TestSSMParameterResources(t *testing.T) {
	w := newSSMWorld(t)
	w.put("/cfg/version", "21", ssm.TypeString)
	w.put("/cfg/zones", "a,b", ssm.TypeStringList)
	w.put("/cdk-bootstrap/hnb659fds/version", "29", ssm.TypeString)

	res, err := w.deploy(ssmApp("/app/setting", "{team: core}"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["SettingName"] != "/app/setting" || res.Outputs["SettingValue"] != "21-b" || res.Outputs["GeneratedType"] != "StringList" {
		t.Errorf("outputs %v", res.Outputs)
	}
	if want := map[string]string{"Version": "21", "Zones": "a,b", "BootstrapVersion": "29"}; !equalMaps(res.Resolved, want) || !equalMaps(w.stacks.stacks["orders"].ResolvedParameters, want) {
		t.Errorf("resolved %v, recorded %v", res.Resolved, w.stacks.stacks["orders"].ResolvedParameters)
	}
	v, err := w.get("/app/setting")
	if err != nil || v.Value != "21-b" || v.Version != 1 {
		t.Fatalf("/app/setting: %+v %v", v, err)
	}
	if tags, _ := w.params.ListTags(t.Context(), "/app/setting"); len(tags) != 1 || tags[0] != (ssm.Tag{Key: "team", Value: "core"}) {
		t.Errorf("tags %v", tags)
	}
	generated := w.stacks.stacks["orders"].Resources["Generated"].PhysicalID
	if !strings.HasPrefix(generated, "orders-Generated-") {
		t.Errorf("generated name %q", generated)
	}

	// The SSM parameter the template reads changed: the resource is overwritten, a new version.
	w.put("/cfg/version", "22", ssm.TypeString)
	if _, err := w.deploy(ssmApp("/app/setting", "{team: edge, tier: gold}")); err != nil {
		t.Fatal(err)
	}
	if v, _ := w.get("/app/setting"); v.Value != "22-b" || v.Version != 2 {
		t.Errorf("after the update: %+v", v)
	}
	if tags, _ := w.params.ListTags(t.Context(), "/app/setting"); len(tags) != 2 || tags[0].Value != "edge" {
		t.Errorf("tags after the update %v", tags)
	}

	// A new name is a new parameter; the old one goes in the cleanup.
	res, err = w.deploy(ssmApp("/app/renamed", "{team: edge}"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.get("/app/setting"); err == nil {
		t.Error("the replaced parameter is still there")
	}
	if v, _ := w.get("/app/renamed"); v.Value != "22-b" || res.Outputs["SettingName"] != "/app/renamed" {
		t.Errorf("renamed: %+v %v", v, res.Outputs)
	}

	if _, err := operate(t, Options{Config: w.cfg, Stacks: w.stacks}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/app/renamed", generated} {
		if _, err := w.get(n); err == nil {
			t.Errorf("%s outlived its stack", n)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSSMParameterRefusals: what CloudFormation refuses before it creates anything.
func TestSSMParameterRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, template, want string
	}{
		{"a referenced SSM parameter that does not exist", `Parameters:
  V: {Type: "AWS::SSM::Parameter::Value<String>", Default: /nope}
Resources:
  P: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: !Ref V}}
`, "Unable to fetch parameters [/nope] from parameter store for this account."},
		{"a SecureString", `Parameters:
  V: {Type: "AWS::SSM::Parameter::Value<String>", Default: /secret}
Resources:
  P: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: !Ref V}}
`, "Parameters [/secret] referenced by template have types not supported by CloudFormation."},
		{"a SecureString resource", `Resources:
  P: {Type: AWS::SSM::Parameter, Properties: {Type: SecureString, Value: x}}
`, "SSM Parameters of type SecureString cannot be created using CloudFormation"},
		{"tags as a list", `Resources:
  P: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: x, Tags: [{Key: a, Value: b}]}}
`, "Tags: expected an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newSSMWorld(t)
			w.put("/secret", "s", ssm.TypeSecureString)
			_, err := w.deploy(tc.template)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if st, ok := w.stacks.stacks["orders"]; ok && len(st.Resources) > 0 {
				t.Errorf("something was created: %+v", st.Resources)
			}
		})
	}
}

var _ stack.Store = (*memStacks)(nil)

// TestSSMParameterMissingThoughUnused: a missing SSM parameter fails the deploy even when only the Rules read it —
// as on AWS, where CDK's BootstrapVersion must exist (`cdk bootstrap` makes it).
func TestSSMParameterMissingThoughUnused(t *testing.T) {
	w := newSSMWorld(t)
	w.put("/cfg/version", "21", ssm.TypeString)
	w.put("/cfg/zones", "a,b", ssm.TypeStringList)
	res, err := w.deploy(ssmApp("/app/setting", "{team: core}"))
	if err == nil || !strings.Contains(err.Error(), "Unable to fetch parameters [/cdk-bootstrap/hnb659fds/version] from parameter store for this account.") {
		t.Fatalf("err = %v (%+v), want the missing BootstrapVersion parameter's failure", err, res)
	}
	if _, err := w.get("/app/setting"); err == nil {
		t.Error("a resource was made although a parameter was missing")
	}
}
