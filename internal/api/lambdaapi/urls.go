package lambdaapi

import (
	"net"
	"net/http"
	"time"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// urlConfigRequest is CreateFunctionUrlConfig's and UpdateFunctionUrlConfig's body.
type urlConfigRequest struct {
	AuthType, InvokeMode *string
	Cors                 *lambda.Cors
}

// corsWire is the Cors shape on the wire (PascalCase members).
type corsWire struct {
	AllowCredentials *bool    `json:"AllowCredentials,omitempty"`
	AllowHeaders     []string `json:"AllowHeaders,omitempty"`
	AllowMethods     []string `json:"AllowMethods,omitempty"`
	AllowOrigins     []string `json:"AllowOrigins,omitempty"`
	ExposeHeaders    []string `json:"ExposeHeaders,omitempty"`
	MaxAge           *int     `json:"MaxAge,omitempty"`
}

// urlConfigResponse is a FunctionUrlConfig; which fields each operation answers follows AWS (recorded): Create
// has no LastModifiedTime, and neither Create nor Update echoes InvokeMode unless it was given.
type urlConfigResponse struct {
	FunctionUrl      string    `json:"FunctionUrl"`
	FunctionArn      string    `json:"FunctionArn"`
	AuthType         string    `json:"AuthType"`
	Cors             *corsWire `json:"Cors,omitempty"`
	CreationTime     string    `json:"CreationTime"`
	LastModifiedTime string    `json:"LastModifiedTime,omitempty"`
	InvokeMode       string    `json:"InvokeMode,omitempty"`
}

// urlTime prints a URL configuration's timestamps as AWS does (ISO 8601, microseconds, UTC).
func urlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func (h *Handler) encodeURL(r *http.Request, v controlplane.URLView, modified, invokeMode bool) urlConfigResponse {
	c := v.Config
	out := urlConfigResponse{FunctionUrl: h.functionURL(r, c.ID), FunctionArn: v.FunctionARN, AuthType: c.AuthType,
		CreationTime: urlTime(c.Created)}
	if modified {
		out.LastModifiedTime = urlTime(c.Modified)
	}
	if invokeMode {
		out.InvokeMode = c.InvokeMode
	}
	if c.Cors != nil {
		cw := corsWire(*c.Cors)
		out.Cors = &cw
	}
	return out
}

// functionURL is a URL's address: its ID under the URL domain, on the port and scheme the API was called on (the
// URLs are served by the same listener).
func (h *Handler) functionURL(r *http.Request, id string) string {
	host := id + "." + h.urlDomain
	if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "" {
		host = net.JoinHostPort(host, port)
	}
	if r.TLS != nil {
		return "https://" + host + "/"
	}
	return "http://" + host + "/"
}

func (r *urlConfigRequest) patch() controlplane.URLPatch {
	return controlplane.URLPatch{AuthType: r.AuthType, InvokeMode: r.InvokeMode, Cors: r.Cors}
}

func (h *Handler) urlRequest(r *http.Request) (lambda.Ref, urlConfigRequest, error) {
	var req urlConfigRequest
	ref, err := h.functionRef(r, maxFunctionName)
	if err != nil {
		return ref, req, err
	}
	if r.Method != http.MethodGet && r.Method != http.MethodDelete {
		var wire struct {
			AuthType   *string   `json:"AuthType"`
			InvokeMode *string   `json:"InvokeMode"`
			Cors       *corsWire `json:"Cors"`
		}
		if err := decode(r, &wire); err != nil {
			return ref, req, err
		}
		req.AuthType, req.InvokeMode = wire.AuthType, wire.InvokeMode
		if wire.Cors != nil {
			c := lambda.Cors(*wire.Cors)
			req.Cors = &c
		}
	}
	return ref, req, nil
}

func (h *Handler) createFunctionURLConfig(w http.ResponseWriter, r *http.Request) error {
	ref, req, err := h.urlRequest(r)
	if err != nil {
		return err
	}
	v, err := h.svc.CreateFunctionURLConfig(r.Context(), ref, req.patch())
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusCreated, h.encodeURL(r, v, false, req.InvokeMode != nil))
	return nil
}

func (h *Handler) getFunctionURLConfig(w http.ResponseWriter, r *http.Request) error {
	ref, _, err := h.urlRequest(r)
	if err != nil {
		return err
	}
	v, err := h.svc.GetFunctionURLConfig(r.Context(), ref)
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, h.encodeURL(r, v, true, true))
	return nil
}

func (h *Handler) updateFunctionURLConfig(w http.ResponseWriter, r *http.Request) error {
	ref, req, err := h.urlRequest(r)
	if err != nil {
		return err
	}
	v, err := h.svc.UpdateFunctionURLConfig(r.Context(), ref, req.patch())
	if err != nil {
		return err
	}
	awshttp.WriteJSON(w, http.StatusOK, h.encodeURL(r, v, true, req.InvokeMode != nil))
	return nil
}

func (h *Handler) deleteFunctionURLConfig(w http.ResponseWriter, r *http.Request) error {
	ref, _, err := h.urlRequest(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteFunctionURLConfig(r.Context(), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listFunctionURLConfigs(w http.ResponseWriter, r *http.Request) error {
	req, err := h.decodeList(r, maxFunctionName)
	if err != nil {
		return err
	}
	views, next, err := h.svc.ListFunctionURLConfigs(r.Context(), req.ref, req.marker, req.max)
	if err != nil {
		return err
	}
	writeList(w, "FunctionUrlConfigs", views, next, func(v controlplane.URLView) urlConfigResponse { return h.encodeURL(r, v, true, true) })
	return nil
}
