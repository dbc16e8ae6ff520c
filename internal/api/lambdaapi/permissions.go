package lambdaapi

import (
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// addPermissionRequest is AddPermission's body; the model checks it (required members, patterns) first.
type addPermissionRequest struct {
	StatementId           string `json:"StatementId"`
	Action                string `json:"Action"`
	Principal             string `json:"Principal"`
	SourceArn             string `json:"SourceArn"`
	SourceAccount         string `json:"SourceAccount"`
	EventSourceToken      string `json:"EventSourceToken"`
	RevisionId            string `json:"RevisionId"`
	PrincipalOrgID        string `json:"PrincipalOrgID"`
	FunctionUrlAuthType   string `json:"FunctionUrlAuthType"`
	InvokedViaFunctionUrl *bool  `json:"InvokedViaFunctionUrl"`
}

func (h *Handler) addPermission(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	var req addPermissionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	statement, err := h.svc.AddPermission(r.Context(), ref, controlplane.AddPermissionInput{
		Permission: lambda.Permission{StatementID: req.StatementId, Action: req.Action, Principal: req.Principal,
			SourceARN: req.SourceArn, SourceAccount: req.SourceAccount, EventSourceToken: req.EventSourceToken,
			PrincipalOrgID: req.PrincipalOrgID, FunctionURLAuthType: req.FunctionUrlAuthType,
			InvokedViaFunctionURL: req.InvokedViaFunctionUrl != nil && *req.InvokedViaFunctionUrl},
		RevisionID: req.RevisionId,
	})
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusCreated, map[string]string{"Statement": statement})
	return nil
}

func (h *Handler) removePermission(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	if err := h.svc.RemovePermission(r.Context(), ref, r.PathValue("StatementId"), r.URL.Query().Get("RevisionId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getPolicy(w http.ResponseWriter, r *http.Request) error {
	ref, err := h.functionRef(r, maxNamespacedFunctionName)
	if err != nil {
		return err
	}
	p, err := h.svc.GetPolicy(r.Context(), ref)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, map[string]string{"Policy": p.Policy, "RevisionId": p.RevisionID})
	return nil
}
