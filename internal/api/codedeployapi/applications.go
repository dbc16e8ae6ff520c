package codedeployapi

import (
	"context"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
)

type createApplicationInput struct {
	ApplicationName *string `json:"applicationName"`
	ComputePlatform string  `json:"computePlatform"`
	Tags            []tag   `json:"tags"`
}

// createApplication passes computePlatform as sent ("" when absent): the Backend decides the default and refuses
// platforms other than Lambda.
func (h *Handler) createApplication(ctx context.Context, in *createApplicationInput) (any, error) {
	name, err := applicationName(in.ApplicationName)
	if err != nil {
		return nil, err
	}
	app, err := h.b.CreateApplication(ctx, codedeploy.Application{Name: name, ComputePlatform: in.ComputePlatform, Tags: tagMap(in.Tags)})
	if err != nil {
		return nil, err
	}
	return map[string]string{"applicationId": app.ID}, nil
}

type applicationNameInput struct {
	ApplicationName *string `json:"applicationName"`
}

func (h *Handler) getApplication(ctx context.Context, in *applicationNameInput) (any, error) {
	name, err := applicationName(in.ApplicationName)
	if err != nil {
		return nil, err
	}
	app, err := h.b.GetApplication(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"application": applicationWire(app)}, nil
}

type batchGetApplicationsInput struct {
	ApplicationNames []string `json:"applicationNames"`
}

// batchGetApplications answers every application or fails: an unknown name is ApplicationDoesNotExistException,
// as the model declares. Repeated names are answered once.
func (h *Handler) batchGetApplications(ctx context.Context, in *batchGetApplicationsInput) (any, error) {
	if len(in.ApplicationNames) == 0 {
		return nil, fault.New(codeApplicationNameRequired, msgApplicationNameRequired)
	}
	names := dedupe(in.ApplicationNames)
	if err := batchLimit(len(names), maxBatchNames); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := applicationName(&n); err != nil {
			return nil, err
		}
	}
	out := make([]applicationInfo, 0, len(names))
	for _, n := range names {
		app, err := h.b.GetApplication(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, applicationWire(app))
	}
	return map[string]any{"applicationsInfo": out}, nil
}

type nextTokenInput struct {
	NextToken string `json:"nextToken"`
}

type listApplicationsOutput struct {
	Applications []string `json:"applications"`
	NextToken    string   `json:"nextToken,omitempty"`
}

func (h *Handler) listApplications(ctx context.Context, in *nextTokenInput) (any, error) {
	names, next, err := h.b.ListApplications(ctx, in.NextToken)
	if err != nil {
		return nil, err
	}
	return listApplicationsOutput{Applications: orEmpty(names), NextToken: next}, nil
}

func (h *Handler) deleteApplication(ctx context.Context, in *applicationNameInput) (any, error) {
	name, err := applicationName(in.ApplicationName)
	if err != nil {
		return nil, err
	}
	if err := h.b.DeleteApplication(ctx, name); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type updateApplicationInput struct {
	ApplicationName    *string `json:"applicationName"`
	NewApplicationName *string `json:"newApplicationName"`
}

// updateApplication can only rename, and the Backend has no rename: an update that keeps the name succeeds once
// the application is known to exist; a rename is refused with InvalidOperationException (after the checks AWS
// would make first: the application exists and the new name is free).
func (h *Handler) updateApplication(ctx context.Context, in *updateApplicationInput) (any, error) {
	name, err := applicationName(in.ApplicationName)
	if err != nil {
		return nil, err
	}
	newName := optional(in.NewApplicationName)
	if err := checkApplicationName(newName); err != nil {
		return nil, err
	}
	if _, err := h.b.GetApplication(ctx, name); err != nil {
		return nil, err
	}
	if newName == "" || newName == name {
		return struct{}{}, nil
	}
	switch _, err := h.b.GetApplication(ctx, newName); {
	case err == nil:
		return nil, fault.New(codeApplicationAlreadyExists, "Application %s already exists", newName)
	case !fault.Is(err, codedeploy.ErrApplicationDoesNotExist):
		return nil, err
	}
	return nil, fault.New(codeInvalidOperation,
		"Renaming an application is not supported by Sluice: create application %s and deployment groups in it instead.", newName)
}
