package cloudformation

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store"
)

const (
	prefixChangeSet   = "cfn/cs/"
	prefixChangeSetOp = "cfn/csop/"
	prefixChangeSetID = "cfn/csid/"
)

// Change set statuses and execution statuses, as CloudFormation names them.
const (
	CSCreatePending    = "CREATE_PENDING"
	CSCreateInProgress = "CREATE_IN_PROGRESS"
	CSCreateComplete   = "CREATE_COMPLETE"
	CSFailed           = "FAILED"
	ExecUnavailable    = "UNAVAILABLE"
	ExecAvailable      = "AVAILABLE"
	ExecInProgress     = "EXECUTE_IN_PROGRESS"
	ExecComplete       = "EXECUTE_COMPLETE"
	ExecFailed         = "EXECUTE_FAILED"
	ExecObsolete       = "OBSOLETE"
)

// ChangeSet is a change set as kept.
type ChangeSet struct {
	ID              string             `json:"id"`
	Name            string             `json:"name"`
	StackID         string             `json:"stackId"`
	StackName       string             `json:"stackName"`
	Description     string             `json:"description,omitempty"`
	Type            string             `json:"type"`
	Status          string             `json:"status"`
	StatusReason    string             `json:"statusReason,omitempty"`
	ExecutionStatus string             `json:"executionStatus"`
	Created         time.Time          `json:"created"`
	TemplateKey     string             `json:"templateKey"`
	Parameters      map[string]string  `json:"parameters,omitempty"`
	Settings        *stack.APISettings `json:"settings"`
	OnStackFailure  string             `json:"onStackFailure,omitempty"`
	Changes         []ResourceChange   `json:"changes,omitempty"`
	// Principal and AccessKeyID are who created it: the dry run that computes it acts as them.
	Principal   string `json:"principal"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	ClientToken string `json:"clientToken,omitempty"`
	// Problem is a refusal found once the template was expanded (CloudFormation reports it as the change set's
	// failure, not the call's): the change set fails with it.
	Problem string `json:"problem,omitempty"`
}

// ResourceChange is one resource's change, as DescribeChangeSet's Changes show it.
type ResourceChange struct {
	Action       string         `json:"action"` // Add, Modify, Remove
	LogicalID    string         `json:"logicalId"`
	PhysicalID   string         `json:"physicalId,omitempty"`
	ResourceType string         `json:"resourceType"`
	Replacement  string         `json:"replacement,omitempty"` // True, False, Conditional (Modify only)
	PolicyAction string         `json:"policyAction,omitempty"`
	Scope        []string       `json:"scope"`
	Details      []ChangeDetail `json:"details"`
}

// ChangeDetail is how one attribute of a resource changes.
type ChangeDetail struct {
	Attribute          string `json:"attribute"` // Properties, Tags
	Name               string `json:"name,omitempty"`
	RequiresRecreation string `json:"requiresRecreation,omitempty"` // Never, Conditionally, Always
	Evaluation         string `json:"evaluation"`                   // Static, Dynamic
	ChangeSource       string `json:"changeSource,omitempty"`       // DirectModification, ResourceReference, ResourceAttribute
	CausingEntity      string `json:"causingEntity,omitempty"`
}

// CreateChangeSetInput is CreateChangeSet's input.
type CreateChangeSetInput struct {
	StackInput
	ChangeSetName, Description, ChangeSetType, ClientToken, OnStackFailure string
}

func changeSetKey(stackName, csUUID string) string { return prefixChangeSet + stackName + "/" + csUUID }

// CreateChangeSet creates a change set: checked now, computed by the controller (the engine's dry run), which
// turns it CREATE_COMPLETE (or FAILED, with CloudFormation's reason when nothing would change). A CREATE change
// set brings its stack into being in REVIEW_IN_PROGRESS, as CloudFormation does.
func (s *Service) CreateChangeSet(ctx context.Context, in CreateChangeSetInput) (id, stackID string, err error) {
	kind := in.ChangeSetType
	if kind == "" {
		kind = "UPDATE"
	}
	if kind == "IMPORT" {
		return "", "", validation("ChangeSetType IMPORT is not supported by Sluice.")
	}
	if in.OnStackFailure != "" && kind != "CREATE" {
		return "", "", validation("OnStackFailure can only be specified for a change set of type CREATE.")
	}
	name, _, isID := parseStackID(in.StackName)
	if !isID {
		name = in.StackName
	}
	f, err := s.find(ctx, in.StackName)
	exists := err == nil && !f.deleted
	if err != nil && !fault.Is(err, CodeValidation) {
		return "", "", err
	}
	var previous *stack.APISettings
	switch {
	case kind == "CREATE" && exists && f.Status != stack.StatusReviewInProgress:
		return "", "", fault.New(CodeAlreadyExists, "Stack [%s] already exists and cannot be created again with the changeSet [%s].", name, in.ChangeSetName)
	case kind == "UPDATE" && !exists:
		return "", "", validation("Stack [%s] does not exist", in.StackName)
	case kind == "UPDATE":
		if err := updatable(f.Stack); err != nil {
			return "", "", err
		}
		previous = f.API
	}
	stackID = stack.NewStackID(s.o.Region, s.o.Account, name)
	if exists {
		stackID = s.viewOf(f).ID
	}
	var current *stack.Stack
	if exists {
		current = &f.Stack
	}
	body, err := s.resolve(ctx, in.Caller, in.Template, current)
	if err != nil {
		return "", "", err
	}
	in.StackName = name
	problem := ""
	p, err := s.prepare(ctx, in.StackInput, stackID, body, previous, false)
	if fault.Is(err, CodeInsufficientCapability) && len(templateTransforms(body)) > 0 {
		// CloudFormation finds this once it has expanded the template: the change set fails, not the call.
		f, _ := fault.As(err)
		problem = f.Message
		p, err = s.prepare(ctx, withCapabilities(in.StackInput), stackID, body, previous, false)
		if p != nil {
			p.settings.Capabilities = in.Capabilities
		}
	}
	if err != nil {
		return "", "", err
	}
	csUUID := uuid.NewString()
	cs := ChangeSet{ID: s.changeSetID(in.ChangeSetName, csUUID), Name: in.ChangeSetName, StackID: stackID, StackName: name, Description: in.Description,
		Type: kind, Status: CSCreatePending, ExecutionStatus: ExecUnavailable, Created: s.now(), TemplateKey: newTemplateKey(),
		Parameters: p.overrides, Settings: p.settings, OnStackFailure: in.OnStackFailure, Principal: in.Caller.Principal,
		AccessKeyID: in.Caller.AccessKeyID, ClientToken: in.ClientToken, Problem: problem}
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		st, err := stack.GetIn(tx, name)
		switch {
		case errors.Is(err, stack.ErrNotFound) && kind == "CREATE":
			st = stack.Stack{Name: name, Status: stack.StatusReviewInProgress, Reason: userInitiated, Resources: map[string]stack.ResourceState{},
				API: &stack.APISettings{ID: stackID, Description: p.settings.Description, Capabilities: p.settings.Capabilities, Tags: p.settings.Tags,
					RoleARN: p.settings.RoleARN, NotificationARNs: p.settings.NotificationARNs}}
			if st, err = s.o.Stacks.PutIn(tx, st); err != nil {
				return err
			}
			if err := s.appendEvent(tx, st, "", Event{LogicalID: name, Type: stackType, PhysicalID: stackID,
				Status: string(stack.StatusReviewInProgress), Reason: userInitiated}); err != nil {
				return err
			}
		case err != nil:
			return err
		case s.viewOf(found{Stack: st}).ID != stackID:
			return validation("Stack [%s] was replaced meanwhile; try again.", name)
		}
		n := 0
		dup := false
		if err := tx.Scan(prefixChangeSet+name+"/", "", func(_ string, v []byte) (bool, error) {
			var other ChangeSet
			if err := json.Unmarshal(v, &other); err != nil {
				return false, err
			}
			n++
			dup = dup || other.Name == in.ChangeSetName
			return true, nil
		}); err != nil {
			return err
		}
		if dup {
			return fault.New(CodeAlreadyExists, "ChangeSet [%s] already exists", in.ChangeSetName)
		}
		if n >= MaxChangeSetsPerStack {
			return fault.New(CodeLimitExceeded, "ChangeSet limit exceeded for stack [%s].", name)
		}
		if err := s.storeTemplate(tx, cs.TemplateKey, p); err != nil {
			return err
		}
		if err := store.PutJSON(tx, changeSetKey(name, csUUID), cs); err != nil {
			return err
		}
		if err := tx.Put(prefixChangeSetID+csUUID, []byte(name)); err != nil {
			return err
		}
		return tx.Put(prefixChangeSetOp+name+"/"+csUUID, []byte(cs.ID))
	})
	if err != nil {
		return "", "", err
	}
	return cs.ID, stackID, nil
}

// withCapabilities acknowledges every capability, to check the rest of a template whose capabilities fail later.
func withCapabilities(in StackInput) StackInput {
	in.Capabilities = []string{"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"}
	return in
}

// templateTransforms lists the transforms a template declares (none if it does not parse).
func templateTransforms(body []byte) []string {
	t, err := parseTemplate(body)
	if err != nil {
		return nil
	}
	return t.Transform
}

// findChangeSet finds a change set by ARN, or by name within a stack (by name or ID).
func (s *Service) findChangeSet(ctx context.Context, stackName, nameOrID string) (ChangeSet, error) {
	var cs ChangeSet
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		cs, err = s.findChangeSetIn(tx, stackName, nameOrID)
		return err
	})
	return cs, err
}

func (s *Service) findChangeSetIn(tx store.Tx, stackName, nameOrID string) (ChangeSet, error) {
	var cs ChangeSet
	notFound := fault.New(CodeChangeSetNotFound, "ChangeSet [%s] does not exist", nameOrID)
	if _, csUUID, ok := parseChangeSetID(nameOrID); ok {
		owner, err := tx.Get(prefixChangeSetID + csUUID)
		if errors.Is(err, store.ErrNotFound) {
			return cs, notFound
		}
		if err != nil {
			return cs, err
		}
		if err := store.GetJSON(tx, changeSetKey(string(owner), csUUID), &cs); errors.Is(err, store.ErrNotFound) {
			return cs, notFound
		} else if err != nil {
			return cs, err
		}
		if cs.ID != nameOrID {
			return ChangeSet{}, notFound
		}
		return cs, nil
	}
	if stackName == "" {
		return cs, validation("StackName must be specified if ChangeSetName is not specified as an ARN.")
	}
	f, err := findIn(tx, stackName)
	if err != nil {
		return cs, err
	}
	found := false
	err = tx.Scan(prefixChangeSet+f.Name+"/", "", func(_ string, v []byte) (bool, error) {
		if err := json.Unmarshal(v, &cs); err != nil {
			return false, err
		}
		found = cs.Name == nameOrID
		return !found, nil
	})
	if err != nil {
		return ChangeSet{}, err
	}
	if !found {
		return ChangeSet{}, notFound
	}
	return cs, nil
}

// DescribeChangeSet describes a change set.
func (s *Service) DescribeChangeSet(ctx context.Context, stackName, nameOrID string) (ChangeSet, error) {
	cs, err := s.findChangeSet(ctx, stackName, nameOrID)
	if err != nil {
		return cs, err
	}
	if cs.Settings != nil {
		settings := *cs.Settings
		params := make([]stack.Param, 0, len(settings.Parameters))
		for _, p := range settings.Parameters {
			if slices.Contains(settings.NoEcho, p.Key) {
				p.Value = maskedValue
			}
			params = append(params, p)
		}
		settings.Parameters = params
		cs.Settings = &settings
	}
	return cs, nil
}

// ListChangeSets lists a stack's change sets.
func (s *Service) ListChangeSets(ctx context.Context, stackName string) ([]ChangeSet, error) {
	var out []ChangeSet
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		out = nil
		f, err := findIn(tx, stackName)
		if err != nil {
			return err
		}
		return tx.Scan(prefixChangeSet+f.Name+"/", "", func(_ string, v []byte) (bool, error) {
			var cs ChangeSet
			if err := json.Unmarshal(v, &cs); err != nil {
				return false, err
			}
			out = append(out, cs)
			return true, nil
		})
	})
	slices.SortFunc(out, func(a, b ChangeSet) int { return a.Created.Compare(b.Created) })
	return out, err
}

// DeleteChangeSet deletes a change set that is not being executed. A change set that does not exist is no
// error (as AWS answers), a stack that does not exist is.
func (s *Service) DeleteChangeSet(ctx context.Context, stackName, nameOrID string) error {
	return s.o.Store.Update(ctx, func(tx store.Tx) error {
		cs, err := s.findChangeSetIn(tx, stackName, nameOrID)
		if fault.Is(err, CodeChangeSetNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if cs.ExecutionStatus == ExecInProgress {
			return fault.New(CodeInvalidChangeSetStatus, "Cannot delete ChangeSet [%s] in status %s", cs.ID, cs.ExecutionStatus)
		}
		return s.deleteChangeSetIn(tx, cs)
	})
}

func (s *Service) deleteChangeSetIn(tx store.Tx, cs ChangeSet) error {
	_, csUUID, _ := parseChangeSetID(cs.ID)
	for _, k := range []string{changeSetKey(cs.StackName, csUUID), prefixChangeSetID + csUUID, prefixChangeSetOp + cs.StackName + "/" + csUUID} {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return deleteTemplate(tx, cs.TemplateKey)
}

// deleteChangeSetsIn deletes every change set of a stack (deleted).
func (s *Service) deleteChangeSetsIn(tx store.Tx, stackName string) error {
	var all []ChangeSet
	if err := tx.Scan(prefixChangeSet+stackName+"/", "", func(_ string, v []byte) (bool, error) {
		var cs ChangeSet
		if err := json.Unmarshal(v, &cs); err != nil {
			return false, err
		}
		all = append(all, cs)
		return true, nil
	}); err != nil {
		return err
	}
	for _, cs := range all {
		if err := s.deleteChangeSetIn(tx, cs); err != nil {
			return err
		}
	}
	return nil
}

// ExecuteChangeSetInput is ExecuteChangeSet's input.
type ExecuteChangeSetInput struct {
	Caller                   Caller
	StackName, ChangeSetName string
	ClientRequestToken       string
	DisableRollback          *bool
}

// ExecuteChangeSet runs a change set: the stack is CREATE_IN_PROGRESS or UPDATE_IN_PROGRESS and the controller
// makes it what the change set says; the stack's other change sets become OBSOLETE.
func (s *Service) ExecuteChangeSet(ctx context.Context, in ExecuteChangeSetInput) error {
	cs, err := s.findChangeSet(ctx, in.StackName, in.ChangeSetName)
	if err != nil {
		return err
	}
	if in.ClientRequestToken != "" {
		f, err := s.find(ctx, cs.StackID)
		running := err == nil && f.Operation != nil && f.Operation.ChangeSetID == cs.ID && f.Operation.Token == in.ClientRequestToken
		done := err == nil && f.API != nil && f.API.LastToken == in.ClientRequestToken && f.API.ChangeSetID == cs.ID
		if running || done {
			return nil // the same request again
		}
	}
	if cs.Status != CSCreateComplete {
		return fault.New(CodeInvalidChangeSetStatus, "ChangeSet [%s] cannot be executed in its current status of [%s]", cs.ID, cs.Status)
	}
	if cs.ExecutionStatus != ExecAvailable {
		return fault.New(CodeInvalidChangeSetStatus, "ChangeSet [%s] cannot be executed in its current execution status of [%s]", cs.ID, cs.ExecutionStatus)
	}
	if cs.OnStackFailure != "" && in.DisableRollback != nil {
		return validation("You cannot specify both DisableRollback and OnStackFailure.")
	}
	f, err := s.find(ctx, cs.StackID)
	if err != nil {
		return err
	}
	if f.Status != stack.StatusReviewInProgress {
		if err := updatable(f.Stack); err != nil {
			return err
		}
	}
	var t storedTemplate
	if err := s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		t, err = getTemplate(tx, cs.TemplateKey)
		return err
	}); err != nil {
		return err
	}
	disable := in.DisableRollback != nil && *in.DisableRollback
	p := &prepared{body: []byte(t.Original), processed: t.Processed, overrides: cs.Parameters, settings: cs.Settings}
	p.settings.DisableRollback = disable || cs.OnStackFailure == "DO_NOTHING"
	onFailure := cs.OnStackFailure
	return s.startUpdateWith(ctx, in.Caller, f.Stack, p, in.ClientRequestToken, disable, cs.ID, onFailure, func(tx store.Tx) error {
		return s.obsoleteIn(tx, cs)
	})
}

// obsoleteIn marks cs EXECUTE_IN_PROGRESS and the stack's other change sets OBSOLETE.
func (s *Service) obsoleteIn(tx store.Tx, executed ChangeSet) error {
	var all []ChangeSet
	if err := tx.Scan(prefixChangeSet+executed.StackName+"/", "", func(_ string, v []byte) (bool, error) {
		var cs ChangeSet
		if err := json.Unmarshal(v, &cs); err != nil {
			return false, err
		}
		all = append(all, cs)
		return true, nil
	}); err != nil {
		return err
	}
	for _, cs := range all {
		switch {
		case cs.ID == executed.ID:
			if cs.ExecutionStatus != ExecAvailable {
				return fault.New(CodeInvalidChangeSetStatus, "ChangeSet [%s] cannot be executed in its current execution status of [%s]", cs.ID, cs.ExecutionStatus)
			}
			cs.ExecutionStatus = ExecInProgress
		case cs.ExecutionStatus == ExecAvailable || cs.ExecutionStatus == ExecUnavailable:
			cs.ExecutionStatus = ExecObsolete
		default:
			continue
		}
		_, csUUID, _ := parseChangeSetID(cs.ID)
		if err := store.PutJSON(tx, changeSetKey(cs.StackName, csUUID), cs); err != nil {
			return err
		}
	}
	return nil
}

// markExecutedIn records how the execution of a change set ended.
func (s *Service) markExecutedIn(tx store.Tx, stackName, csID string, succeeded bool) error {
	_, csUUID, ok := parseChangeSetID(csID)
	if !ok {
		return nil
	}
	var cs ChangeSet
	if err := store.GetJSON(tx, changeSetKey(stackName, csUUID), &cs); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	cs.ExecutionStatus = ExecFailed
	if succeeded {
		cs.ExecutionStatus = ExecComplete
	}
	return store.PutJSON(tx, changeSetKey(stackName, csUUID), cs)
}

// compute works a change set out with the engine's dry run, acting as the change set's creator (or its role).
func (s *Service) compute(ctx context.Context, stackName, csUUID string) error {
	var cs ChangeSet
	var body []byte
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		if err := store.GetJSON(tx, changeSetKey(stackName, csUUID), &cs); err != nil {
			return err
		}
		t, err := getTemplate(tx, cs.TemplateKey)
		body = []byte(t.Original)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || err == nil && cs.Status != CSCreatePending && cs.Status != CSCreateInProgress {
		return s.o.Store.Update(ctx, func(tx store.Tx) error { return tx.Delete(prefixChangeSetOp + stackName + "/" + csUUID) })
	}
	if err != nil {
		return err
	}
	var changes []ResourceChange
	reason := cs.Problem
	if reason == "" {
		cred, err := s.session(ctx, cs.Principal, cs.AccessKeyID, cs.Settings.RoleARN)
		if err != nil {
			reason = err.Error()
			if f, ok := fault.As(err); ok {
				reason = f.Message
			}
		} else {
			res, runErr := s.o.Engine.Run(ctx, Run{Kind: RunPlan, Stack: stackName, Owner: owner, Body: body, Parameters: cs.Parameters, Credentials: cred})
			s.revoke(cred.AccessKeyID)
			if ctx.Err() != nil {
				return nil
			}
			if runErr != nil {
				reason = runErr.Error()
			}
			changes = describeChanges(res.Changes)
		}
		if reason == "" && len(changes) == 0 {
			reason = noChangesReason
		}
	}
	return s.o.Store.Update(ctx, func(tx store.Tx) error {
		var cur ChangeSet
		if err := store.GetJSON(tx, changeSetKey(stackName, csUUID), &cur); errors.Is(err, store.ErrNotFound) {
			return tx.Delete(prefixChangeSetOp + stackName + "/" + csUUID)
		} else if err != nil {
			return err
		}
		cur.Status, cur.StatusReason, cur.Changes = CSCreateComplete, "", changes
		if cur.ExecutionStatus == ExecUnavailable {
			cur.ExecutionStatus = ExecAvailable
		}
		if reason != "" {
			cur.Status, cur.StatusReason, cur.Changes = CSFailed, reason, nil
			if cur.ExecutionStatus == ExecAvailable {
				cur.ExecutionStatus = ExecUnavailable
			}
		}
		if err := store.PutJSON(tx, changeSetKey(stackName, csUUID), cur); err != nil {
			return err
		}
		return tx.Delete(prefixChangeSetOp + stackName + "/" + csUUID)
	})
}

// describeChanges turns a dry run's plan into CloudFormation's Changes: create → Add; update, shift → Modify
// without replacement; replace → Modify with; delete, retain → Remove (retain with PolicyAction Retain). A
// property whose new value is another resource's (not made yet) is a Dynamic change caused by that resource or
// attribute; a property that forces a new resource only through such a value makes the replacement Conditional.
func describeChanges(plan []PlannedChange) []ResourceChange {
	out := []ResourceChange{}
	for _, c := range plan {
		rc := ResourceChange{LogicalID: c.LogicalID, PhysicalID: c.PhysicalID, ResourceType: c.Type, Scope: []string{}, Details: []ChangeDetail{}}
		switch c.Action {
		case "create":
			rc.Action = "Add"
		case "delete":
			rc.Action, rc.PolicyAction = "Remove", "Delete"
		case "retain":
			rc.Action, rc.PolicyAction = "Remove", "Retain"
		case "update", "shift", "replace":
			rc.Action = "Modify"
			rc.Replacement = "False"
			replaced, conditional := false, false
			scope := map[string]bool{}
			for _, p := range c.Properties {
				d := ChangeDetail{Attribute: "Properties", Name: p.Name, RequiresRecreation: "Never", Evaluation: "Static", ChangeSource: "DirectModification"}
				if p.Replaces {
					d.RequiresRecreation = "Always"
				}
				if p.CausedBy != "" {
					d.Evaluation, d.CausingEntity, d.ChangeSource = "Dynamic", p.CausedBy, "ResourceReference"
					if p.ByAttribute {
						d.ChangeSource = "ResourceAttribute"
					}
				}
				switch {
				case p.Replaces && p.CausedBy == "":
					replaced = true
				case p.Replaces:
					conditional = true
				}
				attr := "Properties"
				if p.Name == "Tags" {
					attr = "Tags"
					d.Attribute = "Tags"
					d.Name = ""
				}
				scope[attr] = true
				rc.Details = append(rc.Details, d)
			}
			switch {
			case replaced || c.Action == "replace" && !conditional:
				rc.Replacement = "True"
			case conditional:
				rc.Replacement = "Conditional"
			}
			for _, a := range []string{"Properties", "Tags"} {
				if scope[a] {
					rc.Scope = append(rc.Scope, a)
				}
			}
		default:
			continue
		}
		out = append(out, rc)
	}
	return out
}
