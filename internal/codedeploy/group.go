package codedeploy

import (
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Application is a CodeDeploy application (computePlatform Lambda for Sluice).
type Application struct {
	Name            string            `json:"applicationName"`
	ID              string            `json:"applicationId"`
	ComputePlatform string            `json:"computePlatform"`
	CreateTime      time.Time         `json:"createTime"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// DeploymentStyle is a group's deployment style; Lambda groups are BLUE_GREEN with traffic control.
type DeploymentStyle struct {
	DeploymentType   string `json:"deploymentType"`
	DeploymentOption string `json:"deploymentOption"`
}

// DeploymentGroup says how an application's deployments run.
type DeploymentGroup struct {
	ApplicationName      string                    `json:"applicationName"`
	Name                 string                    `json:"deploymentGroupName"`
	ID                   string                    `json:"deploymentGroupId"`
	ServiceRoleARN       string                    `json:"serviceRoleArn"`
	DeploymentConfigName string                    `json:"deploymentConfigName"`
	Alarms               AlarmConfiguration        `json:"alarmConfiguration"`
	AutoRollback         AutoRollbackConfiguration `json:"autoRollbackConfiguration"`
	Style                DeploymentStyle           `json:"deploymentStyle"`
	Tags                 map[string]string         `json:"tags,omitempty"`
	// Triggers are the SNS topics told of the group's deployments (triggers.go).
	Triggers []TriggerConfig `json:"triggerConfigurations,omitempty"`
	// LastAttempted and LastSuccessful name the group's latest deployments ("" when none).
	LastAttempted  string `json:"lastAttemptedDeployment,omitempty"`
	LastSuccessful string `json:"lastSuccessfulDeployment,omitempty"`
}

// validName checks a CodeDeploy name: 1 to 100 of [A-Za-z0-9.-_+=,@]. (A regexp with {1,100} compiles to a
// program a hundred copies long, which every start of the binary — sandbox inits included — would pay for.)
func validName(name string) bool {
	if len(name) < 1 || len(name) > 100 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_+=,@", c) >= 0) {
			return false
		}
	}
	return true
}

// CheckApplication validates CreateApplication.
func CheckApplication(name, platform string) error {
	if name == "" {
		return fault.New("ApplicationNameRequiredException", "Application name is required")
	}
	if !validName(name) {
		return fault.New("InvalidApplicationNameException", "Application name %s is invalid", name)
	}
	if platform != "" && platform != ComputePlatformLambda {
		return fault.New("InvalidComputePlatformException", "Sluice deploys Lambda functions only: computePlatform %s is not supported", platform)
	}
	return nil
}

// CheckDeploymentGroup validates a group (Create or Update). The deployment config's existence is the caller's.
func CheckDeploymentGroup(g DeploymentGroup) error {
	if g.Name == "" {
		return fault.New("DeploymentGroupNameRequiredException", "Deployment group name is required")
	}
	if !validName(g.Name) {
		return fault.New("InvalidDeploymentGroupNameException", "Deployment group name %s is invalid", g.Name)
	}
	if g.ServiceRoleARN == "" {
		return fault.New("RoleRequiredException", "Role ARN is required")
	}
	if s := g.Style; s.DeploymentType != "" && (s.DeploymentType != "BLUE_GREEN" || s.DeploymentOption != "WITH_TRAFFIC_CONTROL") {
		return fault.New("InvalidDeploymentStyleException", "Lambda deployment groups must use deploymentType BLUE_GREEN with deploymentOption WITH_TRAFFIC_CONTROL")
	}
	if err := g.Alarms.Validate(); err != nil {
		return err
	}
	return g.AutoRollback.Validate()
}
