package lambda

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Limits and defaults (reference §3.8).
const (
	DefaultTimeout          = 3
	MaxTimeout              = 900
	DefaultMemorySize       = 128
	MinMemorySize           = 128
	MaxMemorySize           = 10240
	DefaultEphemeralStorage = 512
	MaxEnvironmentBytes     = 4096
	MaxDescription          = 256
	MaxLayers               = 5
)

// Runtimes Sluice accepts in CreateFunction/UpdateFunctionConfiguration: those AWS accepts for new functions, in
// the order AWS's message lists them (recorded from the live service; the model's enum also names deprecated
// runtimes AWS refuses). Which of them Sluice can execute is the execution layer's concern; the control plane
// stores any of them, as AWS does.
var Runtimes = []string{
	"nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x", "nodejs22.x", "java25",
	"python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4", "ruby3.2", "python3.8", "python3.9", "java17",
	"nodejs16.x", "dotnet10", "dotnet8", "java11", "dotnet6", "nodejs18.x", "provided.al2", "java8.al2",
}

var (
	roleARNPattern = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	envNamePattern = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
	handlerPattern = regexp.MustCompile(`^[^\s]+$`)
)

// reservedEnvironmentKeys may not be set by users (the runtime sets them).
var reservedEnvironmentKeys = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

// Config is the version-specific configuration of a function: what PublishVersion snapshots. Function-level
// settings (tags, reserved concurrency) live on Function instead.
type Config struct {
	Runtime             string            `json:"runtime,omitempty"`
	Role                string            `json:"role"`
	Handler             string            `json:"handler,omitempty"`
	Description         string            `json:"description,omitempty"`
	Timeout             int               `json:"timeout"`
	MemorySize          int               `json:"memorySize"`
	Environment         map[string]string `json:"environment,omitempty"`
	DeadLetterTargetARN string            `json:"deadLetterTargetArn,omitempty"`
	TracingMode         string            `json:"tracingMode"`
	Architecture        string            `json:"architecture"`
	EphemeralStorage    int               `json:"ephemeralStorage"`
	Layers              []string          `json:"layers,omitempty"`
	KMSKeyARN           string            `json:"kmsKeyArn,omitempty"`
	LogFormat           string            `json:"logFormat"`
	LogGroup            string            `json:"logGroup,omitempty"`
	ApplicationLogLevel string            `json:"applicationLogLevel,omitempty"`
	SystemLogLevel      string            `json:"systemLogLevel,omitempty"`

	CodeSha256 string `json:"codeSha256"`
	CodeSize   int64  `json:"codeSize"`
}

// ConfigPatch is a partial configuration: nil fields are left as they are. CreateFunction and
// UpdateFunctionConfiguration both arrive as patches (Create's applied to an empty Config).
type ConfigPatch struct {
	Runtime, Role, Handler, Description *string
	Timeout, MemorySize                 *int
	Environment                         *map[string]string
	EnvironmentOrder                    []string // Environment's keys as the request listed them (for messages)
	DeadLetterTargetARN                 *string
	TracingMode                         *string
	Architectures                       *[]string
	EphemeralStorage                    *int
	Layers                              *[]string
	KMSKeyARN                           *string
	LogFormat, LogGroup                 *string
	ApplicationLogLevel, SystemLogLevel *string
}

// NewConfig returns the defaults of a new function.
func NewConfig(functionName string) Config {
	return Config{
		Timeout:          DefaultTimeout,
		MemorySize:       DefaultMemorySize,
		TracingMode:      "PassThrough",
		Architecture:     "x86_64",
		EphemeralStorage: DefaultEphemeralStorage,
		LogFormat:        "Text",
		LogGroup:         "/aws/lambda/" + functionName,
	}
}

// Apply validates p and returns c with p applied.
func (c Config) Apply(p ConfigPatch) (Config, error) {
	if p.Role != nil {
		if !roleARNPattern.MatchString(*p.Role) {
			return c, ValidationError(*p.Role, "role", `Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`)
		}
		c.Role = *p.Role
	}
	if p.Runtime != nil {
		if !slices.Contains(Runtimes, *p.Runtime) {
			return c, fault.InvalidParameter("Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [%s] or be a valid ARN", *p.Runtime, strings.Join(Runtimes, ", "))
		}
		c.Runtime = *p.Runtime
	}
	if p.Handler != nil {
		if len(*p.Handler) > 128 {
			return c, ValidationError(*p.Handler, "handler", "Member must have length less than or equal to 128")
		}
		if *p.Handler != "" && !handlerPattern.MatchString(*p.Handler) {
			return c, ValidationError(*p.Handler, "handler", `Member must satisfy regular expression pattern: [^\s]+`)
		}
		c.Handler = *p.Handler
	}
	if p.Description != nil {
		if len(*p.Description) > MaxDescription {
			return c, ValidationError(*p.Description, "description", "Member must have length less than or equal to 256")
		}
		c.Description = *p.Description
	}
	if p.Timeout != nil {
		switch t := *p.Timeout; {
		case t < 1:
			return c, ValidationError(strconv.Itoa(t), "timeout", "Member must have value greater than or equal to 1")
		case t > MaxTimeout:
			return c, ValidationError(strconv.Itoa(t), "timeout", "Member must have value less than or equal to 900")
		}
		c.Timeout = *p.Timeout
	}
	if p.MemorySize != nil {
		switch m := *p.MemorySize; {
		case m < MinMemorySize:
			return c, ValidationError(strconv.Itoa(m), "memorySize", "Member must have value greater than or equal to 128")
		case m > MaxMemorySize:
			return c, ValidationError(strconv.Itoa(m), "memorySize", "Member must have value less than or equal to 10240")
		}
		c.MemorySize = *p.MemorySize
	}
	if p.Environment != nil {
		if err := validEnvironment(*p.Environment, p.EnvironmentOrder); err != nil {
			return c, err
		}
		c.Environment = *p.Environment
		if len(c.Environment) == 0 {
			c.Environment = nil
		}
	}
	if p.DeadLetterTargetARN != nil {
		c.DeadLetterTargetARN = *p.DeadLetterTargetARN
	}
	if p.TracingMode != nil {
		if *p.TracingMode != "Active" && *p.TracingMode != "PassThrough" {
			return c, ValidationError(*p.TracingMode, "tracingConfig.mode", "Member must satisfy enum value set: [Active, PassThrough]")
		}
		c.TracingMode = *p.TracingMode
	}
	if p.Architectures != nil {
		a := *p.Architectures
		if len(a) != 1 {
			return c, ValidationError("["+strings.Join(a, ", ")+"]", "architectures", "Member must have length less than or equal to 1")
		}
		if a[0] != "x86_64" && a[0] != "arm64" {
			return c, ValidationError("["+strings.Join(a, ", ")+"]", "architectures", "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
		}
		c.Architecture = a[0]
	}
	if p.EphemeralStorage != nil {
		if s := *p.EphemeralStorage; s < 512 || s > 10240 {
			return c, ValidationError(strconv.Itoa(s), "ephemeralStorage.size", "Member must have value between 512 and 10240")
		}
		c.EphemeralStorage = *p.EphemeralStorage
	}
	if p.Layers != nil {
		if len(*p.Layers) > MaxLayers {
			return c, fault.InvalidParameter("Cannot reference more than %d layers.", MaxLayers)
		}
		c.Layers = *p.Layers
	}
	if p.KMSKeyARN != nil {
		c.KMSKeyARN = *p.KMSKeyARN
	}
	if p.LogFormat != nil {
		if *p.LogFormat != "Text" && *p.LogFormat != "JSON" {
			return c, ValidationError(*p.LogFormat, "loggingConfig.logFormat", "Member must satisfy enum value set: [JSON, Text]")
		}
		c.LogFormat = *p.LogFormat
	}
	if p.LogGroup != nil && *p.LogGroup != "" {
		c.LogGroup = *p.LogGroup
	}
	if p.ApplicationLogLevel != nil {
		c.ApplicationLogLevel = *p.ApplicationLogLevel
	}
	if p.SystemLogLevel != nil {
		c.SystemLogLevel = *p.SystemLogLevel
	}
	return c, nil
}

// CheckZipPackage enforces what a Zip-packaged function must name.
func (c Config) CheckZipPackage() error {
	if c.Runtime == "" || c.Handler == "" {
		return fault.InvalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	return nil
}

// validEnvironment checks variable names, reserved keys and the 4 KB limit, measured (and quoted) as AWS does:
// the variables as compact JSON, in the order the request listed them (order; the rest sorted).
func validEnvironment(env map[string]string, order []string) error {
	var reserved []string
	for k := range env {
		if !envNamePattern.MatchString(k) {
			return ValidationError(k, "environment.variables", "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+")
		}
		if slices.Contains(reservedEnvironmentKeys, k) {
			reserved = append(reserved, k)
		}
	}
	if len(reserved) > 0 {
		sort.Strings(reserved)
		return fault.InvalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ","))
	}
	b := measuredEnvironment(env, order)
	if len(b) > MaxEnvironmentBytes {
		return fault.InvalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", b)
	}
	return nil
}

func measuredEnvironment(env map[string]string, order []string) []byte {
	keys := slices.DeleteFunc(slices.Clone(order), func(k string) bool { _, ok := env[k]; return !ok })
	var rest []string
	for k := range env {
		if !slices.Contains(keys, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range append(keys, rest...) {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(env[k])
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// SameForPublish reports whether two configurations are equal for publish idempotence: same code and same
// version-specific configuration, description included.
func (c Config) SameForPublish(o Config) bool {
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(o)
	return string(a) == string(b)
}

// MemoryPerVCPU is the memory size at which Lambda gives a function the equivalent of one vCPU; CPU power grows
// in proportion to memory, up to 6 vCPUs at the maximum size.
const MemoryPerVCPU = 1769

// VCPUs is how many whole CPUs an execution environment of memorySize megabytes gets: Lambda's share rounded
// up, so every function has at least one. The sandbox pins the environment to that many CPUs.
func VCPUs(memorySize int) int {
	return max(1, (memorySize+MemoryPerVCPU-1)/MemoryPerVCPU)
}
