package codedeployapi

import (
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
)

// CodeDeploy exception names the edge raises itself (the domain's are in internal/codedeploy).
const (
	codeApplicationNameRequired      = "ApplicationNameRequiredException"
	codeInvalidApplicationName       = "InvalidApplicationNameException"
	codeDeploymentGroupNameRequired  = "DeploymentGroupNameRequiredException"
	codeInvalidDeploymentGroupName   = "InvalidDeploymentGroupNameException"
	codeRoleRequired                 = "RoleRequiredException"
	codeBatchLimitExceeded           = "BatchLimitExceededException"
	codeInvalidDeploymentStatus      = "InvalidDeploymentStatusException"
	codeInvalidTimeRange             = "InvalidTimeRangeException"
	codeInvalidNextToken             = "InvalidNextTokenException"
	codeInvalidDeploymentWaitType    = "InvalidDeploymentWaitTypeException"
	codeDeploymentIsNotInReadyState  = "DeploymentIsNotInReadyStateException"
	codeDeploymentNotStarted         = "DeploymentNotStartedException"
	codeDeploymentTargetIDRequired   = "DeploymentTargetIdRequiredException"
	codeDeploymentTargetDoesNotExist = "DeploymentTargetDoesNotExistException"
	codeDeploymentTargetListSize     = "DeploymentTargetListSizeExceededException"
	codeInvalidTargetFilterName      = "InvalidTargetFilterNameException"
	codeInvalidInstanceStatus        = "InvalidInstanceStatusException"
	codeApplicationAlreadyExists     = "ApplicationAlreadyExistsException"
	codeInvalidOperation             = codedeploy.ErrInvalidOperation
	codeDeploymentConfigNameRequired = codedeploy.ErrDeploymentConfigNameRequired
	codeInvalidDeploymentConfigName  = codedeploy.ErrInvalidDeploymentConfigName
	codeRevisionRequired             = codedeploy.ErrRevisionRequired
	codeDeploymentAlreadyCompleted   = codedeploy.ErrDeploymentAlreadyCompleted
	codeDeploymentGroupDoesNotExist  = codedeploy.ErrDeploymentGroupDoesNotExist
	codeDeploymentDoesNotExist       = codedeploy.ErrDeploymentDoesNotExist
)

// Limits the model or the operation documentation sets.
const (
	maxNameLength       = 100 // ApplicationName, DeploymentGroupName, DeploymentConfigName: 1..100
	maxBatchNames       = 100 // BatchGetApplications, BatchGetDeploymentGroups
	maxBatchDeployments = 25  // BatchGetDeployments
)

// The messages of the required-member exceptions. The application, group and role ones are the domain's
// (deploy.CheckApplication, CheckDeploymentGroup), so a missing member reads the same whichever layer sees it.
const (
	msgApplicationNameRequired = "Application name is required"
	msgGroupNameRequired       = "Deployment group name is required"
	msgRoleRequired            = "Role ARN is required"
	msgConfigNameRequired      = "Deployment configuration name must be specified."
	msgRevisionRequired        = "RevisionLocation must be specified"
	msgTargetIDRequired        = "A deployment target ID must be specified."
)

// applicationName validates a required applicationName member: absent or "" is ApplicationNameRequired, more than
// 100 characters InvalidApplicationName.
func applicationName(v *string) (string, error) {
	if v == nil || *v == "" {
		return "", fault.New(codeApplicationNameRequired, msgApplicationNameRequired)
	}
	return *v, checkApplicationName(*v)
}

func checkApplicationName(v string) error {
	if utf8.RuneCountInString(v) > maxNameLength {
		return fault.New(codeInvalidApplicationName, "Application name %s is longer than %d characters.", v, maxNameLength)
	}
	return nil
}

// groupName validates a required deployment group name member.
func groupName(v *string) (string, error) {
	if v == nil || *v == "" {
		return "", fault.New(codeDeploymentGroupNameRequired, msgGroupNameRequired)
	}
	return *v, checkGroupName(*v)
}

func checkGroupName(v string) error {
	if utf8.RuneCountInString(v) > maxNameLength {
		return fault.New(codeInvalidDeploymentGroupName, "Deployment group name %s is longer than %d characters.", v, maxNameLength)
	}
	return nil
}

// configName validates a required deploymentConfigName member.
func configName(v *string) (string, error) {
	if v == nil || *v == "" {
		return "", fault.New(codeDeploymentConfigNameRequired, msgConfigNameRequired)
	}
	return *v, checkConfigName(*v)
}

func checkConfigName(v string) error {
	if utf8.RuneCountInString(v) > maxNameLength {
		return fault.New(codeInvalidDeploymentConfigName, "Deployment configuration name %s is longer than %d characters.", v, maxNameLength)
	}
	return nil
}

// optional returns an optional string member ("" when absent).
func optional(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

// deploymentID validates a deployment ID member with the domain's rule (present, "d-" + 9 upper-case
// alphanumerics): DeploymentIdRequiredException or InvalidDeploymentIdException.
func deploymentID(v *string) (string, error) {
	id := optional(v)
	return id, codedeploy.CheckDeploymentID(id)
}

// batchLimit refuses a batch of more than max names or IDs.
func batchLimit(n, max int) error {
	if n > max {
		return fault.New(codeBatchLimitExceeded, "The maximum number of names or IDs allowed for this request (%d) was exceeded.", max)
	}
	return nil
}

// deploymentStatuses are the values of the DeploymentStatus enum.
var deploymentStatuses = map[codedeploy.Status]bool{
	codedeploy.StatusCreated: true, codedeploy.StatusQueued: true, codedeploy.StatusInProgress: true, "Baking": true,
	codedeploy.StatusSucceeded: true, codedeploy.StatusFailed: true, codedeploy.StatusStopped: true, "Ready": true,
}

// targetStatuses are the values of the TargetStatus enum.
var targetStatuses = map[codedeploy.EventStatus]bool{
	codedeploy.EventPending: true, codedeploy.EventInProgress: true, codedeploy.EventSucceeded: true, codedeploy.EventFailed: true,
	codedeploy.EventSkipped: true, "Unknown": true, "Ready": true,
}

// dedupe drops repeated names, keeping the first occurrence's order.
func dedupe(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
