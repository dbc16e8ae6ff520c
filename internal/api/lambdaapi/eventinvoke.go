package lambdaapi

import (
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/controlplane"
)

type destination struct {
	Destination *string `json:"Destination,omitempty"`
}

type destinationConfig struct {
	OnSuccess *destination `json:"OnSuccess,omitempty"`
	OnFailure *destination `json:"OnFailure,omitempty"`
}

type eventInvokeConfigRequest struct {
	MaximumRetryAttempts     *int               `json:"MaximumRetryAttempts"`
	MaximumEventAgeInSeconds *int               `json:"MaximumEventAgeInSeconds"`
	DestinationConfig        *destinationConfig `json:"DestinationConfig"`
}

type functionEventInvokeConfig struct {
	LastModified             float64           `json:"LastModified"` // epoch seconds (rest-json timestamp)
	FunctionArn              string            `json:"FunctionArn"`
	MaximumRetryAttempts     *int              `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int              `json:"MaximumEventAgeInSeconds,omitempty"`
	DestinationConfig        destinationConfig `json:"DestinationConfig"`
}

func encodeEventInvoke(v controlplane.EventInvokeConfigView) functionEventInvokeConfig {
	c := v.Config
	out := functionEventInvokeConfig{LastModified: float64(c.LastModified.UnixMilli()) / 1000, FunctionArn: v.FunctionARN,
		MaximumRetryAttempts: c.MaximumRetryAttempts, MaximumEventAgeInSeconds: c.MaximumEventAgeInSeconds,
		DestinationConfig: destinationConfig{OnSuccess: &destination{}, OnFailure: &destination{}}}
	if c.OnSuccess != "" {
		out.DestinationConfig.OnSuccess.Destination = &c.OnSuccess
	}
	if c.OnFailure != "" {
		out.DestinationConfig.OnFailure.Destination = &c.OnFailure
	}
	return out
}

func (r *eventInvokeConfigRequest) patch() controlplane.EventInvokePatch {
	p := controlplane.EventInvokePatch{MaximumRetryAttempts: r.MaximumRetryAttempts, MaximumEventAgeInSeconds: r.MaximumEventAgeInSeconds}
	if d := r.DestinationConfig; d != nil {
		if d.OnSuccess != nil {
			p.OnSuccess = orEmpty(d.OnSuccess.Destination)
		}
		if d.OnFailure != nil {
			p.OnFailure = orEmpty(d.OnFailure.Destination)
		}
	}
	return p
}

func orEmpty(s *string) *string {
	if s == nil {
		e := ""
		return &e
	}
	return s
}

func (h *Handler) putEventInvokeConfig(merge bool) operation {
	return func(w http.ResponseWriter, r *http.Request) error {
		ref, err := h.functionRef(r, maxNamespacedFunctionName)
		if err != nil {
			return err
		}
		var req eventInvokeConfigRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		v, err := h.svc.PutFunctionEventInvokeConfig(r.Context(), ref, req.patch(), merge)
		if err != nil {
			return err
		}
		awshttp.WriteJSON(w, http.StatusOK, encodeEventInvoke(v))
		return nil
	}
}

func (h *Handler) getEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	v, err := h.svc.GetFunctionEventInvokeConfig(r.Context(), ref)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, encodeEventInvoke(v))
	return nil
}

func (h *Handler) deleteEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteFunctionEventInvokeConfig(r.Context(), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listEventInvokeConfigs(w http.ResponseWriter, r *http.Request) error {
	req, err := h.decodeList(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	views, next, err := h.svc.ListFunctionEventInvokeConfigs(r.Context(), req.ref, req.marker, req.max)
	if err != nil {
		return err
	}
	writeList(w, "FunctionEventInvokeConfigs", views, next, encodeEventInvoke)
	return nil
}
