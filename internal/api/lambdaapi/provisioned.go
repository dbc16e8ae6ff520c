package lambdaapi

import (
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/lambda"
)

type provisionedConfig struct {
	FunctionArn                              string `json:"FunctionArn,omitempty"`
	RequestedProvisionedConcurrentExecutions int    `json:"RequestedProvisionedConcurrentExecutions"`
	AvailableProvisionedConcurrentExecutions int    `json:"AvailableProvisionedConcurrentExecutions"`
	AllocatedProvisionedConcurrentExecutions int    `json:"AllocatedProvisionedConcurrentExecutions"`
	Status                                   string `json:"Status"`
	StatusReason                             string `json:"StatusReason,omitempty"`
	LastModified                             string `json:"LastModified"`
}

func encodeProvisioned(v controlplane.ProvisionedView, withARN bool) provisionedConfig {
	out := provisionedConfig{
		RequestedProvisionedConcurrentExecutions: v.Config.Requested,
		AvailableProvisionedConcurrentExecutions: v.State.Available,
		AllocatedProvisionedConcurrentExecutions: v.State.Allocated,
		Status:                                   v.State.Status, StatusReason: v.State.Reason,
		LastModified: formatLastModified(v.Config.LastModified),
	}
	if withARN {
		out.FunctionArn = v.FunctionARN
	}
	return out
}

// provisionedRef parses the FunctionName label and the required Qualifier.
func (h *Handler) provisionedRef(r *http.Request) (lambda.Ref, error) {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return ref, err
	}
	if ref.Qualifier == "" {
		return ref, lambda.ValidationError("null", "qualifier", "Member must not be null")
	}
	return ref, nil
}

func (h *Handler) putProvisioned(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.provisionedRef(r)
	if err != nil {
		return err
	}
	var req struct {
		ProvisionedConcurrentExecutions *int `json:"ProvisionedConcurrentExecutions"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.ProvisionedConcurrentExecutions == nil {
		return lambda.ValidationError("null", "provisionedConcurrentExecutions", "Member must not be null")
	}
	v, err := h.svc.PutProvisionedConcurrencyConfig(r.Context(), ref, *req.ProvisionedConcurrentExecutions)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusAccepted, encodeProvisioned(v, false))
	return nil
}

func (h *Handler) getProvisioned(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("List") == "ALL" {
		return h.listProvisioned(w, r)
	}
	ref, err := h.provisionedRef(r)
	if err != nil {
		return err
	}
	v, err := h.svc.GetProvisionedConcurrencyConfig(r.Context(), ref)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, encodeProvisioned(v, false))
	return nil
}

func (h *Handler) deleteProvisioned(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.provisionedRef(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteProvisionedConcurrencyConfig(r.Context(), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listProvisioned(w http.ResponseWriter, r *http.Request) error {
	req, err := h.decodeList(r, maxFunctionName)
	if err != nil {
		return err
	}
	views, next, err := h.svc.ListProvisionedConcurrencyConfigs(r.Context(), req.ref, req.marker, req.max)
	if err != nil {
		return err
	}
	writeList(w, "ProvisionedConcurrencyConfigs", views, next, func(v controlplane.ProvisionedView) provisionedConfig { return encodeProvisioned(v, true) })
	return nil
}
