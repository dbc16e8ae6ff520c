package lambdaapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"

	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// Wire shapes of the Lambda 2015-03-31 REST-JSON protocol. Member names are the model's, exactly.

type environmentResponse struct {
	Variables map[string]string `json:"Variables"`
}

type deadLetterConfig struct {
	TargetArn string `json:"TargetArn,omitempty"`
}

type tracingConfig struct {
	Mode string `json:"Mode"`
}

type ephemeralStorage struct {
	Size int `json:"Size"`
}

type snapStartResponse struct {
	ApplyOn            string `json:"ApplyOn"`
	OptimizationStatus string `json:"OptimizationStatus"`
}

type loggingConfig struct {
	LogFormat           string `json:"LogFormat,omitempty"`
	ApplicationLogLevel string `json:"ApplicationLogLevel,omitempty"`
	SystemLogLevel      string `json:"SystemLogLevel,omitempty"`
	LogGroup            string `json:"LogGroup,omitempty"`
}

type runtimeVersionConfig struct {
	RuntimeVersionArn string `json:"RuntimeVersionArn"`
}

type functionConfiguration struct {
	FunctionName               string                `json:"FunctionName"`
	FunctionArn                string                `json:"FunctionArn"`
	Runtime                    string                `json:"Runtime,omitempty"`
	Role                       string                `json:"Role"`
	Handler                    string                `json:"Handler,omitempty"`
	CodeSize                   int64                 `json:"CodeSize"`
	Description                string                `json:"Description"`
	Timeout                    int                   `json:"Timeout"`
	MemorySize                 int                   `json:"MemorySize"`
	LastModified               string                `json:"LastModified"`
	CodeSha256                 string                `json:"CodeSha256"`
	Version                    string                `json:"Version"`
	Environment                environmentResponse   `json:"Environment"`
	DeadLetterConfig           *deadLetterConfig     `json:"DeadLetterConfig,omitempty"`
	KMSKeyArn                  string                `json:"KMSKeyArn,omitempty"`
	TracingConfig              tracingConfig         `json:"TracingConfig"`
	RevisionId                 string                `json:"RevisionId"`
	State                      string                `json:"State,omitempty"`
	StateReason                string                `json:"StateReason,omitempty"`
	StateReasonCode            string                `json:"StateReasonCode,omitempty"`
	LastUpdateStatus           string                `json:"LastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string                `json:"LastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string                `json:"LastUpdateStatusReasonCode,omitempty"`
	PackageType                string                `json:"PackageType"`
	Architectures              []string              `json:"Architectures"`
	EphemeralStorage           ephemeralStorage      `json:"EphemeralStorage"`
	SnapStart                  snapStartResponse     `json:"SnapStart"`
	RuntimeVersionConfig       *runtimeVersionConfig `json:"RuntimeVersionConfig,omitempty"`
	LoggingConfig              loggingConfig         `json:"LoggingConfig"`
}

// lastModifiedLayout is Lambda's LastModified string format: milliseconds and a colon-less +0000 offset.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

func formatLastModified(t time.Time) string { return t.UTC().Format(lastModifiedLayout) }

// encodeConfiguration renders a view; listed items omit the state fields and runtime version, as AWS does.
func (h *Handler) encodeConfiguration(v controlplane.FunctionView, listed bool) functionConfiguration {
	c := v.Config
	env := c.Environment
	if env == nil {
		env = map[string]string{}
	}
	out := functionConfiguration{
		FunctionName: v.Name, FunctionArn: v.ARN, Runtime: c.Runtime, Role: c.Role, Handler: c.Handler,
		CodeSize: c.CodeSize, Description: c.Description, Timeout: c.Timeout, MemorySize: c.MemorySize,
		LastModified: formatLastModified(v.LastModified), CodeSha256: c.CodeSha256, Version: v.Version,
		Environment: environmentResponse{Variables: env}, KMSKeyArn: c.KMSKeyARN,
		TracingConfig: tracingConfig{Mode: c.TracingMode}, RevisionId: v.RevisionID,
		PackageType: "Zip", Architectures: []string{c.Architecture},
		EphemeralStorage: ephemeralStorage{Size: c.EphemeralStorage},
		SnapStart:        snapStartResponse{ApplyOn: "None", OptimizationStatus: "Off"},
		LoggingConfig: loggingConfig{LogFormat: c.LogFormat, LogGroup: c.LogGroup,
			ApplicationLogLevel: c.ApplicationLogLevel, SystemLogLevel: c.SystemLogLevel},
	}
	if c.DeadLetterTargetARN != "" {
		out.DeadLetterConfig = &deadLetterConfig{TargetArn: c.DeadLetterTargetARN}
	}
	if !listed {
		s := v.Status
		out.State, out.StateReason, out.StateReasonCode = s.State, s.StateReason, s.StateReasonCode
		out.LastUpdateStatus, out.LastUpdateStatusReason, out.LastUpdateStatusReasonCode =
			s.LastUpdateStatus, s.LastUpdateStatusReason, s.LastUpdateStatusReasonCode
		out.RuntimeVersionConfig = &runtimeVersionConfig{RuntimeVersionArn: h.runtimeVersionARN(c.Runtime)}
	}
	return out
}

// runtimeVersionARN names the runtime build Sluice runs for a runtime identifier.
func (h *Handler) runtimeVersionARN(runtime string) string {
	return "arn:aws:lambda:" + h.svc.Account().Region + "::runtime:sluice-" + runtime
}

// Request shapes. Pointers mark members that may be absent.

type environment struct {
	Variables map[string]string `json:"Variables"`
	order     []string          // Variables' keys as sent: AWS's size error quotes them in this order
}

func (e *environment) UnmarshalJSON(b []byte) error {
	var raw struct {
		Variables json.RawMessage
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.Variables, e.order = nil, nil
	if len(raw.Variables) == 0 || string(raw.Variables) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw.Variables, &e.Variables); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw.Variables))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		if k, ok := key.(string); ok && !slices.Contains(e.order, k) {
			e.order = append(e.order, k)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

type functionCode struct {
	ZipFile         []byte `json:"ZipFile"`
	S3Bucket        string `json:"S3Bucket"`
	S3Key           string `json:"S3Key"`
	S3ObjectVersion string `json:"S3ObjectVersion"`
	ImageUri        string `json:"ImageUri"`
}

type configRequest struct {
	Runtime           *string           `json:"Runtime"`
	Role              *string           `json:"Role"`
	Handler           *string           `json:"Handler"`
	Description       *string           `json:"Description"`
	Timeout           *int              `json:"Timeout"`
	MemorySize        *int              `json:"MemorySize"`
	Environment       *environment      `json:"Environment"`
	DeadLetterConfig  *deadLetterConfig `json:"DeadLetterConfig"`
	TracingConfig     *tracingConfig    `json:"TracingConfig"`
	KMSKeyArn         *string           `json:"KMSKeyArn"`
	Layers            *[]string         `json:"Layers"`
	EphemeralStorage  *ephemeralStorage `json:"EphemeralStorage"`
	LoggingConfig     *loggingConfig    `json:"LoggingConfig"`
	FileSystemConfigs []json.RawMessage `json:"FileSystemConfigs"`
	ImageConfig       *json.RawMessage  `json:"ImageConfig"`
	RevisionId        string            `json:"RevisionId"`
}

func (r *configRequest) patch() lambda.ConfigPatch {
	p := lambda.ConfigPatch{
		Runtime: r.Runtime, Role: r.Role, Handler: r.Handler, Description: r.Description, Timeout: r.Timeout,
		MemorySize: r.MemorySize, KMSKeyARN: r.KMSKeyArn, Layers: r.Layers,
	}
	if r.Environment != nil {
		vars := r.Environment.Variables
		if vars == nil {
			vars = map[string]string{}
		}
		p.Environment = &vars
		p.EnvironmentOrder = r.Environment.order
	}
	if r.DeadLetterConfig != nil {
		p.DeadLetterTargetARN = &r.DeadLetterConfig.TargetArn
	}
	if r.TracingConfig != nil {
		p.TracingMode = &r.TracingConfig.Mode
	}
	if r.EphemeralStorage != nil {
		p.EphemeralStorage = &r.EphemeralStorage.Size
	}
	if l := r.LoggingConfig; l != nil {
		if l.LogFormat != "" {
			p.LogFormat = &l.LogFormat
		}
		p.LogGroup = &l.LogGroup
		p.ApplicationLogLevel, p.SystemLogLevel = &l.ApplicationLogLevel, &l.SystemLogLevel
	}
	return p
}

type createFunctionRequest struct {
	configRequest
	FunctionName  string            `json:"FunctionName"`
	Code          *functionCode     `json:"Code"`
	Publish       bool              `json:"Publish"`
	PackageType   string            `json:"PackageType"`
	Tags          map[string]string `json:"Tags"`
	Architectures *[]string         `json:"Architectures"`
}

type updateFunctionCodeRequest struct {
	functionCode
	Publish       bool      `json:"Publish"`
	DryRun        bool      `json:"DryRun"`
	RevisionId    string    `json:"RevisionId"`
	Architectures *[]string `json:"Architectures"`
}

type publishVersionRequest struct {
	CodeSha256  string `json:"CodeSha256"`
	Description string `json:"Description"`
	RevisionId  string `json:"RevisionId"`
}

type routingConfig struct {
	AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
}

type aliasConfiguration struct {
	AliasArn        string         `json:"AliasArn"`
	Name            string         `json:"Name"`
	FunctionVersion string         `json:"FunctionVersion"`
	Description     string         `json:"Description"`
	RoutingConfig   *routingConfig `json:"RoutingConfig,omitempty"`
	RevisionId      string         `json:"RevisionId"`
}

func encodeAlias(v controlplane.AliasView) aliasConfiguration {
	a := v.Alias
	out := aliasConfiguration{AliasArn: v.ARN, Name: a.Name, FunctionVersion: a.FunctionVersion,
		Description: a.Description, RevisionId: a.RevisionID}
	if a.Routing != nil && len(a.Routing.AdditionalVersionWeights) > 0 { // AWS omits an empty routing config
		out.RoutingConfig = &routingConfig{AdditionalVersionWeights: a.Routing.AdditionalVersionWeights}
	}
	return out
}

type createAliasRequest struct {
	Name            string         `json:"Name"`
	FunctionVersion string         `json:"FunctionVersion"`
	Description     string         `json:"Description"`
	RoutingConfig   *routingConfig `json:"RoutingConfig"`
}

type updateAliasRequest struct {
	FunctionVersion *string        `json:"FunctionVersion"`
	Description     *string        `json:"Description"`
	RoutingConfig   *routingConfig `json:"RoutingConfig"`
	RevisionId      string         `json:"RevisionId"`
}

func (r *routingConfig) domain() *lambda.Routing {
	if r == nil {
		return nil
	}
	w := r.AdditionalVersionWeights
	if w == nil {
		w = map[string]float64{}
	}
	return &lambda.Routing{AdditionalVersionWeights: w}
}
