package codedeploy

import (
	"github.com/sluice-dev/sluice/internal/fault"
)

// CodeDeploy exception names returned by this package (each a *fault.Error Code). The API edge maps every one of
// them to HTTP 400 with body {"__type": <name>, "message": ...}.
const (
	ErrApplicationDoesNotExist            = "ApplicationDoesNotExistException"
	ErrDeploymentGroupDoesNotExist        = "DeploymentGroupDoesNotExistException"
	ErrDeploymentDoesNotExist             = "DeploymentDoesNotExistException"
	ErrDeploymentConfigDoesNotExist       = "DeploymentConfigDoesNotExistException"
	ErrDeploymentConfigNameRequired       = "DeploymentConfigNameRequiredException"
	ErrInvalidDeploymentConfigName        = "InvalidDeploymentConfigNameException"
	ErrInvalidComputePlatform             = "InvalidComputePlatformException"
	ErrInvalidOperation                   = "InvalidOperationException"
	ErrInvalidTrafficRoutingConfiguration = "InvalidTrafficRoutingConfigurationException"
	ErrRevisionRequired                   = "RevisionRequiredException"
	ErrInvalidRevision                    = "InvalidRevisionException"
	ErrInvalidAutoRollbackConfig          = "InvalidAutoRollbackConfigException"
	ErrInvalidAlarmConfig                 = "InvalidAlarmConfigException"
	ErrAlarmsLimitExceeded                = "AlarmsLimitExceededException"
	ErrInvalidDeploymentID                = "InvalidDeploymentIdException"
	ErrDeploymentIDRequired               = "DeploymentIdRequiredException"
	ErrDeploymentAlreadyCompleted         = "DeploymentAlreadyCompletedException"
	ErrInvalidHookExecutionID             = "InvalidLifecycleEventHookExecutionIdException"
	ErrInvalidHookExecutionStatus         = "InvalidLifecycleEventHookExecutionStatusException"
	ErrLifecycleEventAlreadyCompleted     = "LifecycleEventAlreadyCompletedException"
)

// ApplicationDoesNotExist is CodeDeploy's answer for an unknown application name.
func ApplicationDoesNotExist(name string) *fault.Error {
	return fault.New(ErrApplicationDoesNotExist, "No application found for name: %s", name)
}

// DeploymentGroupDoesNotExist is CodeDeploy's answer for an unknown deployment group of an existing application.
func DeploymentGroupDoesNotExist(name string) *fault.Error {
	return fault.New(ErrDeploymentGroupDoesNotExist, "No Deployment Group found for name: %s", name)
}

// DeploymentDoesNotExist is the answer for a well-formed but unknown deployment ID.
func DeploymentDoesNotExist(id string) *fault.Error {
	return fault.New(ErrDeploymentDoesNotExist, "The deployment %s could not be found.", id)
}

// DeploymentConfigDoesNotExist is CodeDeploy's answer for an unknown deployment configuration name.
func DeploymentConfigDoesNotExist(name string) *fault.Error {
	return fault.New(ErrDeploymentConfigDoesNotExist, "No deployment configuration found for name: %s", name)
}

// CheckDeploymentID validates the shape of a deployment ID supplied by a client (GetDeployment, StopDeployment,
// PutLifecycleEventHookExecutionStatus): it must be present and look like "d-" + 9 upper-case alphanumerics.
func CheckDeploymentID(id string) error {
	if id == "" {
		return fault.New(ErrDeploymentIDRequired, "At least one deployment ID must be specified.")
	}
	if !ValidDeploymentID(id) {
		return fault.New(ErrInvalidDeploymentID, "Specified DeploymentId is not in the valid format: %s", id)
	}
	return nil
}
