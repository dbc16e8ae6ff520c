package controller

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// TestGroupsRefuseARoleCodeDeployCannotAssume: CreateDeploymentGroup and UpdateDeploymentGroup check the service
// role up front, as AWS does, instead of letting the first hook of the first deployment find it useless.
func TestGroupsRefuseARoleCodeDeployCannotAssume(t *testing.T) {
	const (
		good    = "arn:aws:iam::000000000000:role/cd"
		missing = "arn:aws:iam::000000000000:role/nobody"
		lambda  = "arn:aws:iam::000000000000:role/fn"
	)
	for _, tc := range []struct {
		name   string
		create string // the role the group is created with
		update string // if set, the role an update then gives it
		want   string // the exception expected from the last call, "" for none
	}{
		{name: "create with an assumable role", create: good},
		{name: "create with a missing role", create: missing, want: "InvalidRoleException"},
		{name: "create with a role only Lambda may assume", create: lambda, want: "InvalidRoleException"},
		{name: "create without a role", create: "", want: "RoleRequiredException"},
		{name: "update to an assumable role", create: good, update: good},
		{name: "update to a missing role", create: good, update: missing, want: "InvalidRoleException"},
		{name: "update to a role only Lambda may assume", create: good, update: lambda, want: "InvalidRoleException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			w := &world{}
			c := New(Options{Store: db, Lambda: w, Hooks: AuthorizedHooks{Roles: serviceRoles()}, Alarms: w})
			ctx := context.Background()
			if _, err := c.CreateApplication(ctx, codedeploy.Application{Name: "app"}); err != nil {
				t.Fatal(err)
			}
			group := codedeploy.DeploymentGroup{ApplicationName: "app", Name: "grp", ServiceRoleARN: tc.create}
			_, err = c.CreateDeploymentGroup(ctx, group)
			if tc.update != "" {
				if err != nil {
					t.Fatal(err)
				}
				group.ServiceRoleARN = tc.update
				err = c.UpdateDeploymentGroup(ctx, "grp", group)
			}
			var f *fault.Error
			if tc.want == "" && err != nil || tc.want != "" && (!errors.As(err, &f) || f.Code != tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			got, err := c.GetDeploymentGroup(ctx, "app", "grp")
			switch {
			case tc.update == "" && tc.want != "":
				if err == nil {
					t.Fatalf("a refused group was stored: %+v", got)
				}
			case tc.update != "":
				want := tc.update
				if tc.want != "" {
					want = tc.create // a refused update leaves the group as it was
				}
				if err != nil || got.ServiceRoleARN != want {
					t.Fatalf("group role %q (%v), want %q", got.ServiceRoleARN, err, want)
				}
			}
		})
	}
}
