package stackdeploy

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/stack"
)

// publicURL is what SAM's FunctionUrlConfig {AuthType: NONE} gives the app's alias: the URL, the two statements a
// public URL needs, and the output that prints it. url and permissions replace parts of it (YAML indented by
// six, the properties).
type publicURL struct {
	url, invokeURL, invokeFunction string
}

func (p publicURL) extra() string {
	if p.url == "" {
		p.url = "TargetFunctionArn: !Ref Live\n      AuthType: NONE"
	}
	if p.invokeURL == "" {
		p.invokeURL = "FunctionName: !Ref Live\n      Action: lambda:InvokeFunctionUrl\n      Principal: \"*\"\n      FunctionUrlAuthType: NONE"
	}
	if p.invokeFunction == "" {
		p.invokeFunction = "FunctionName: !Ref Live\n      Action: lambda:InvokeFunction\n      Principal: \"*\"\n      InvokedViaFunctionUrl: true"
	}
	return `  FnUrl:
    Type: AWS::Lambda::Url
    Properties:
      ` + p.url + `
  FnUrlPublicPermissions:
    Type: AWS::Lambda::Permission
    Properties:
      ` + p.invokeURL + `
  FnURLInvokeAllowPublicAccess:
    Type: AWS::Lambda::Permission
    Properties:
      ` + p.invokeFunction + `
Outputs:
  Url:
    Value: !GetAtt FnUrl.FunctionUrl
  UrlArn:
    Value: !Ref FnUrl
`
}

// TestFunctionURLResources: AWS::Lambda::Url and AWS::Lambda::Permission through a stack's life, as CloudFormation
// handles them. The first deploy creates the URL on the alias after it, and both statements on the alias; a new
// version shifts traffic under the same URL, which nothing touches; AuthType, Cors and InvokeMode change in place
// (what leaves the template goes back to Lambda's defaults), a new target or qualifier is a new URL, any change to
// a permission a new statement — the old URL and statement go in the cleanup phase, after the shift; what leaves
// the template goes then too; an update that fails is rolled back: the URL gets its settings back, what the deploy
// created is removed.
func TestFunctionURLResources(t *testing.T) {
	v1 := app{release: "v1", version: "VersionA", extra: publicURL{}.extra()}
	with := func(release, version string, p publicURL) app {
		return app{release: release, version: version, extra: p.extra()}
	}
	const broken = `  Broken:
    Type: AWS::Lambda::Function
    DependsOn: FnUrl
    Properties: {FunctionName: broken, Role: arn:aws:iam::000000000000:role/orders, Runtime: nodejs22.x, Handler: index.handler, Code: {ZipFile: "x"}}
`
	withBroken := func(a app) app { a.extra = broken + a.extra; return a }
	for _, tc := range []struct {
		name    string
		second  app
		wantErr error
		failed  bool     // the deploy fails (and is rolled back)
		log     []string // entries of the second deploy's log, in this order
		absent  []string // prefixes no entry of the second deploy's log has
		sameURL bool     // the output names the same URL as after the first deploy
		urls    []string // function URLs after the deploy, by function:qualifier
		alias   []string // the statements of the alias's policy after the deploy
	}{
		{name: "a new version shifts under the same URL", second: with("v2", "VersionB", publicURL{}),
			log:     []string{"CreateDeployment d-1 orders:live 1→2", "Deployment d-1 Succeeded", "DeleteFunction orders:1"},
			absent:  []string{"CreateFunctionUrlConfig", "UpdateFunctionUrlConfig", "DeleteFunctionUrlConfig", "AddPermission", "RemovePermission"},
			sameURL: true, urls: []string{"orders:live"}, alias: []string{"lambda:InvokeFunction *", "lambda:InvokeFunctionUrl *"}},
		{name: "settings change in place", second: with("v1", "VersionA", publicURL{url: "TargetFunctionArn: !Ref Live\n      AuthType: AWS_IAM\n      InvokeMode: RESPONSE_STREAM\n      Cors: {AllowOrigins: [\"*\"]}"}),
			log:     []string{"UpdateFunctionUrlConfig orders:live AWS_IAM RESPONSE_STREAM cors=1"},
			absent:  []string{"CreateFunctionUrlConfig", "DeleteFunctionUrlConfig"},
			sameURL: true, urls: []string{"orders:live"}, alias: []string{"lambda:InvokeFunction *", "lambda:InvokeFunctionUrl *"}},
		{name: "a new qualifier is a new URL", second: with("v2", "VersionB", publicURL{url: "TargetFunctionArn: !Ref Fn\n      AuthType: NONE"}),
			log:  []string{"CreateDeployment d-1", "CreateFunctionUrlConfig orders: NONE", "Deployment d-1 Succeeded", "DeleteFunctionUrlConfig orders:live"},
			urls: []string{"orders:"}, alias: []string{"lambda:InvokeFunction *", "lambda:InvokeFunctionUrl *"}},
		{name: "a changed permission is a new statement", second: with("v1", "VersionA", publicURL{
			invokeFunction: "FunctionName: !Ref Live\n      Action: lambda:InvokeFunction\n      Principal: \"*\"\n      InvokedViaFunctionUrl: true\n      SourceAccount: \"000000000000\""}),
			log:     []string{"AddPermission orders:live lambda:InvokeFunction *", "RemovePermission orders:live orders-FnURLInvokeAllowPublicAccess-"},
			absent:  []string{"CreateFunctionUrlConfig", "UpdateFunctionUrlConfig", "DeleteFunctionUrlConfig"},
			sameURL: true, urls: []string{"orders:live"}, alias: []string{"lambda:InvokeFunction *", "lambda:InvokeFunctionUrl *"}},
		{name: "what leaves the template goes after the shift", second: app{release: "v2", version: "VersionB"},
			log: []string{"Deployment d-1 Succeeded", "RemovePermission orders:live orders-FnURLInvokeAllowPublicAccess-", "DeleteFunctionUrlConfig orders:live",
				"RemovePermission orders:live orders-FnUrlPublicPermissions-", "DeleteFunction orders:1"}},
		{name: "a failed update is rolled back", second: withBroken(with("v1", "VersionA", publicURL{url: "TargetFunctionArn: !Ref Live\n      AuthType: AWS_IAM"})), failed: true,
			log:     []string{"UpdateFunctionUrlConfig orders:live AWS_IAM BUFFERED cors=0", "UpdateFunctionUrlConfig orders:live NONE BUFFERED cors=0"},
			sameURL: true, urls: []string{"orders:live"}, alias: []string{"lambda:InvokeFunction *", "lambda:InvokeFunctionUrl *"}},
		{name: "a rolled-back deploy deletes the URL it made", second: withBroken(with("v1", "VersionA", publicURL{url: "TargetFunctionArn: !Ref Fn\n      AuthType: NONE"})), failed: true,
			log:  []string{"CreateFunctionUrlConfig orders: NONE", "DeleteFunctionUrlConfig orders:"},
			urls: []string{"orders:live"}, alias: []string{"lambda:InvokeFunction *", "lambda:InvokeFunctionUrl *"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			first := w.mustDeploy(v1)
			url := first.Outputs["Url"]
			if !strings.HasPrefix(url, "http://") || first.Outputs["UrlArn"] != versionARN+"live" {
				t.Fatalf("outputs of the first deploy: %v", first.Outputs)
			}
			log := w.aws.logged()
			if created, alias := at(log, "CreateFunctionUrlConfig orders:live NONE"), at(log, "CreateAlias orders:live"); created < alias || alias < 0 {
				t.Errorf("the URL was not created after its alias:\n%s", strings.Join(log, "\n"))
			}
			if got := w.aws.statements("orders:live"); !slices.Equal(got, []string{"lambda:InvokeFunction *", "lambda:InvokeFunctionUrl *"}) {
				t.Errorf("the alias's policy after the first deploy: %v", got)
			}
			rec := w.record()
			if fu := rec.Resources["FnUrl"]; fu.PhysicalID != versionARN+"live" || fu.Attributes["FunctionUrl"] != url || fu.Attributes["FunctionArn"] != versionARN+"live" {
				t.Errorf("the record of the URL: %+v", fu)
			}
			if p := rec.Resources["FnUrlPublicPermissions"]; !strings.HasPrefix(p.PhysicalID, "orders-FnUrlPublicPermissions-") || p.Attributes["Id"] != p.PhysicalID {
				t.Errorf("the record of a permission: %+v", p)
			}

			before := len(log)
			w.aws.fail = func(op, target string) string {
				if op == "CreateFunction" && target == "broken" {
					return "the broken function cannot be created"
				}
				return ""
			}
			res, err := w.deploy(tc.second)
			if tc.failed != (err != nil) || errors.Is(err, ErrRollbackFailed) {
				t.Fatalf("deploy: %v\n%s", err, strings.Join(w.events, "\n"))
			}
			if tc.failed && res.Status != stack.StatusUpdateRollbackComplete || !tc.failed && res.Status != stack.StatusUpdateComplete {
				t.Errorf("status %s", res.Status)
			}
			log = w.aws.logged()[before:]
			checkNothingDeletedUnderAnAlias(t, log)
			last := -1
			for _, e := range tc.log {
				i := at(log[last+1:], e)
				if i < 0 {
					t.Fatalf("%q is not in the log after entry %d:\n%s", e, last, strings.Join(log, "\n"))
				}
				last += 1 + i
			}
			for _, p := range tc.absent {
				if i := at(log, p); i >= 0 {
					t.Errorf("%s in the log:\n%s", log[i], strings.Join(log, "\n"))
				}
			}
			rec = w.record()
			if tc.sameURL && (rec.Outputs["Url"] != url || rec.Resources["FnUrl"].Attributes["FunctionUrl"] != url) {
				t.Errorf("the URL is now %q (recorded %q), was %q", rec.Outputs["Url"], rec.Resources["FnUrl"].Attributes["FunctionUrl"], url)
			}
			var urls []string
			for key := range w.aws.urls {
				urls = append(urls, key)
			}
			slices.Sort(urls)
			if !slices.Equal(urls, tc.urls) {
				t.Errorf("URLs %v, want %v", urls, tc.urls)
			}
			if got := w.aws.statements("orders:live"); !slices.Equal(got, tc.alias) {
				t.Errorf("the alias's policy: %v, want %v", got, tc.alias)
			}
			if len(rec.Superseded) != 0 {
				t.Errorf("superseded left: %+v", rec.Superseded)
			}
		})
	}
}

// TestDeleteStackRemovesURLFirst: deleting a stack deletes the URL and the statements before the alias they are on.
func TestDeleteStackRemovesURLFirst(t *testing.T) {
	w := newWorld(t)
	w.mustDeploy(app{release: "v1", version: "VersionA", extra: publicURL{}.extra()})
	if _, err := w.remove(); err != nil {
		t.Fatal(err)
	}
	log := w.aws.logged()
	alias := at(log, "DeleteAlias orders:live")
	for _, e := range []string{"DeleteFunctionUrlConfig orders:live", "RemovePermission orders:live orders-FnUrlPublicPermissions-",
		"RemovePermission orders:live orders-FnURLInvokeAllowPublicAccess-"} {
		if i := at(log, e); i < 0 || i > alias {
			t.Errorf("%q at %d, the alias deleted at %d:\n%s", e, i, alias, strings.Join(log, "\n"))
		}
	}
}

// TestURLAndPermissionChecks: what the two types refuse before anything is deployed.
func TestURLAndPermissionChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    publicURL
		want string
	}{
		{"URL without AuthType", publicURL{url: "TargetFunctionArn: !Ref Live"}, "FnUrl (AWS::Lambda::Url): property AuthType is required"},
		{"URL qualifiers disagree", publicURL{url: "TargetFunctionArn: orders:live\n      Qualifier: beta\n      AuthType: NONE"},
			"TargetFunctionArn is qualified by live and Qualifier is beta"},
		{"URL Cors", publicURL{url: "TargetFunctionArn: !Ref Live\n      AuthType: NONE\n      Cors: {AllowOrigin: [\"*\"]}"}, "Cors.AllowOrigin: unsupported property"},
		{"unknown URL property", publicURL{url: "TargetFunctionArn: !Ref Live\n      AuthType: NONE\n      Colour: blue"}, "property Colour is not supported"},
		{"permission without Principal", publicURL{invokeURL: "FunctionName: !Ref Live\n      Action: lambda:InvokeFunctionUrl"},
			"FnUrlPublicPermissions (AWS::Lambda::Permission): property Principal is required"},
		{"permission with a StatementId", publicURL{invokeURL: "FunctionName: !Ref Live\n      Action: lambda:InvokeFunctionUrl\n      Principal: \"*\"\n      StatementId: mine"},
			"property StatementId is not supported"},
		{"permission boolean", publicURL{invokeFunction: "FunctionName: !Ref Live\n      Action: lambda:InvokeFunction\n      Principal: \"*\"\n      InvokedViaFunctionUrl: maybe"},
			"InvokedViaFunctionUrl: expected a boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			_, err := w.deploy(app{release: "v1", version: "VersionA", extra: tc.p.extra()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("deploy: %v, want %q", err, tc.want)
			}
			if log := w.aws.logged(); len(log) != 0 {
				t.Errorf("a refused template changed things: %v", log)
			}
		})
	}
}

func TestSplitQualifier(t *testing.T) {
	for _, tc := range []struct{ in, fn, qualifier string }{
		{"orders", "orders", ""},
		{"orders:live", "orders", "live"},
		{"myfunction:live", "myfunction", "live"},
		{"arn:aws:lambda:us-east-1:000000000000:function:orders", "arn:aws:lambda:us-east-1:000000000000:function:orders", ""},
		{"arn:aws:lambda:us-east-1:000000000000:function:orders:live", "arn:aws:lambda:us-east-1:000000000000:function:orders", "live"},
		{"000000000000:function:orders:$LATEST", "000000000000:function:orders", "$LATEST"},
	} {
		if fn, q := splitQualifier(tc.in); fn != tc.fn || q != tc.qualifier {
			t.Errorf("splitQualifier(%q) = %q, %q; want %q, %q", tc.in, fn, q, tc.fn, tc.qualifier)
		}
	}
}
