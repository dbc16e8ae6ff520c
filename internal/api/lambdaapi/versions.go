package lambdaapi

import (
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/lambda"
)

func (h *Handler) publishVersion(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	var req publishVersionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	view, err := h.svc.PublishVersion(r.Context(), ref, req.CodeSha256, req.Description, req.RevisionId)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusCreated, h.encodeConfiguration(view, false))
	return nil
}

func (h *Handler) listVersionsByFunction(w http.ResponseWriter, r *http.Request) error {
	req, err := h.decodeList(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	views, next, err := h.svc.ListVersionsByFunction(r.Context(), req.ref, req.marker, req.max)
	if err != nil {
		return err
	}
	writeList(w, "Versions", views, next, func(v controlplane.FunctionView) functionConfiguration { return h.encodeConfiguration(v, true) })
	return nil
}

func (h *Handler) createAlias(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	var req createAliasRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Name == "" {
		return lambda.ValidationError("null", "name", "Member must not be null")
	}
	if req.FunctionVersion == "" {
		return lambda.ValidationError("null", "functionVersion", "Member must not be null")
	}
	view, err := h.svc.CreateAlias(r.Context(), ref, controlplane.CreateAliasInput{
		Name: req.Name, FunctionVersion: req.FunctionVersion, Description: req.Description, Routing: req.RoutingConfig.domain(),
	})
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusCreated, encodeAlias(view))
	return nil
}

func (h *Handler) getAlias(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	view, err := h.svc.GetAlias(r.Context(), ref, r.PathValue("Name"))
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, encodeAlias(view))
	return nil
}

func (h *Handler) updateAlias(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	var req updateAliasRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	view, err := h.svc.UpdateAlias(r.Context(), ref, r.PathValue("Name"), controlplane.UpdateAliasInput{
		FunctionVersion: req.FunctionVersion, Description: req.Description, Routing: req.RoutingConfig.domain(), RevisionID: req.RevisionId,
	})
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, encodeAlias(view))
	return nil
}

func (h *Handler) deleteAlias(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAlias(r.Context(), ref, r.PathValue("Name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listAliases(w http.ResponseWriter, r *http.Request) error {
	req, err := h.decodeList(r, maxFunctionName)
	if err != nil {
		return err
	}
	views, next, err := h.svc.ListAliases(r.Context(), req.ref, req.query.Get("FunctionVersion"), req.marker, req.max)
	if err != nil {
		return err
	}
	writeList(w, "Aliases", views, next, encodeAlias)
	return nil
}

func (h *Handler) putFunctionConcurrency(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	var req concurrency
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.ReservedConcurrentExecutions == nil {
		return lambda.ValidationError("null", "reservedConcurrentExecutions", "Member must not be null")
	}
	n, err := h.svc.PutFunctionConcurrency(r.Context(), ref, *req.ReservedConcurrentExecutions)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, concurrency{ReservedConcurrentExecutions: &n})
	return nil
}

func (h *Handler) getFunctionConcurrency(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	n, err := h.svc.GetFunctionConcurrency(r.Context(), ref)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, concurrency{ReservedConcurrentExecutions: n})
	return nil
}

func (h *Handler) deleteFunctionConcurrency(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteFunctionConcurrency(r.Context(), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type accountLimit struct {
	TotalCodeSize                  int64 `json:"TotalCodeSize"`
	CodeSizeUnzipped               int64 `json:"CodeSizeUnzipped"`
	CodeSizeZipped                 int64 `json:"CodeSizeZipped"`
	ConcurrentExecutions           int   `json:"ConcurrentExecutions"`
	UnreservedConcurrentExecutions int   `json:"UnreservedConcurrentExecutions"`
}

type accountUsage struct {
	TotalCodeSize int64 `json:"TotalCodeSize"`
	FunctionCount int64 `json:"FunctionCount"`
}

type accountSettingsResponse struct {
	AccountLimit accountLimit `json:"AccountLimit"`
	AccountUsage accountUsage `json:"AccountUsage"`
}

func (h *Handler) getAccountSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.GetAccountSettings(r.Context())
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, accountSettingsResponse{
		AccountLimit: accountLimit{TotalCodeSize: s.TotalCodeSizeLimit, CodeSizeUnzipped: s.CodeSizeUnzipped,
			CodeSizeZipped: s.CodeSizeZipped, ConcurrentExecutions: s.ConcurrentExecutions,
			UnreservedConcurrentExecutions: s.UnreservedConcurrentExecutions},
		AccountUsage: accountUsage{TotalCodeSize: s.TotalCodeSize, FunctionCount: s.FunctionCount},
	})
	return nil
}
