package cloudformation

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store"
)

// Parameter is a template parameter as an API call gives it.
type Parameter struct {
	Key, Value  string
	UsePrevious bool
}

// StackInput is what CreateStack, UpdateStack and CreateChangeSet share.
type StackInput struct {
	Caller           Caller
	StackName        string
	Template         templateSource
	Parameters       []Parameter
	Capabilities     []string
	ResourceTypes    []string
	RoleARN          string
	Tags             []stack.Tag
	NotificationARNs []string
	// TagsGiven / NotificationsGiven: the call named them (an update without them keeps the stack's).
	TagsGiven, NotificationsGiven bool
}

// SetTemplate sets where the template comes from.
func (in *StackInput) SetTemplate(body, templateURL string, usePrevious bool) {
	in.Template = templateSource{Body: body, URL: templateURL, UsePrevious: usePrevious}
}

// CreateStackInput is CreateStack's input.
type CreateStackInput struct {
	StackInput
	DisableRollback             *bool
	OnFailure                   string
	TimeoutInMinutes            int
	ClientRequestToken          string
	EnableTerminationProtection bool
}

// UpdateStackInput is UpdateStack's input.
type UpdateStackInput struct {
	StackInput
	DisableRollback    bool
	ClientRequestToken string
}

// prepared is a template checked for an operation: what the stack would become.
type prepared struct {
	body       []byte
	inspection *Inspection
	// overrides are the values given to the engine (given or previous; defaults are the template's own).
	overrides map[string]string
	settings  *stack.APISettings
	// processed is the processed template as kept (a change set's), when there is no inspection.
	processed json.RawMessage
}

// prepare checks a template for an operation on stack name (ID id; previous are its settings, nil for a new
// stack): parameters (UsePreviousValue from previous), the engine's reading, the capabilities (transforms too
// when autoExpand: CreateStack and UpdateStack), the role. Nothing is stored.
func (s *Service) prepare(ctx context.Context, in StackInput, id string, body []byte, previous *stack.APISettings, autoExpand bool) (*prepared, error) {
	overrides := map[string]string{}
	for _, p := range in.Parameters {
		if _, dup := overrides[p.Key]; dup {
			return nil, validation("Parameter %s is given more than once.", p.Key)
		}
		if !p.UsePrevious {
			overrides[p.Key] = p.Value
			continue
		}
		prev, ok := previousValue(previous, p.Key)
		if !ok {
			return nil, validation("Invalid input for parameter key %s. Cannot specify usePreviousValue as true for a parameter key not in the previous template", p.Key)
		}
		overrides[p.Key] = prev
	}
	insp, err := s.inspect(ctx, body, s.pseudo(in.StackName, id), overrides)
	if err != nil {
		return nil, err
	}
	required, _ := cfn.RequiredCapabilities(insp.Processed)
	if autoExpand {
		required = append(required, cfn.TransformCapability(insp.Template)...)
	}
	if missing := cfn.MissingCapabilities(required, in.Capabilities); len(missing) > 0 {
		return nil, insufficient(missing)
	}
	if err := s.checkResourceTypes(insp.Processed, in.ResourceTypes); err != nil {
		return nil, err
	}
	if in.RoleARN != "" {
		if err := s.o.Sessions.Authorize(ctx, in.Caller.Principal, in.Caller.AccessKeyID, "iam:PassRole", in.RoleARN); err != nil {
			return nil, err
		}
	}
	settings := &stack.APISettings{ID: id, Description: insp.Template.Description, Capabilities: in.Capabilities, RoleARN: in.RoleARN,
		Tags: in.Tags, NotificationARNs: in.NotificationARNs}
	if previous != nil && !in.TagsGiven {
		settings.Tags = previous.Tags
	}
	if previous != nil && !in.NotificationsGiven {
		settings.NotificationARNs = previous.NotificationARNs
	}
	if previous != nil && in.RoleARN == "" {
		settings.RoleARN = previous.RoleARN
	}
	for _, name := range parameterOrder(insp.Template) {
		p := insp.Template.Parameters[name]
		settings.ParameterOrder = append(settings.ParameterOrder, name)
		if p.NoEcho {
			settings.NoEcho = append(settings.NoEcho, name)
		}
		v, ok := overrides[name]
		if !ok {
			v, _ = scalarText(p.Default)
		}
		settings.Parameters = append(settings.Parameters, stack.Param{Key: name, Value: v})
	}
	return &prepared{body: body, inspection: insp, overrides: overrides, settings: settings}, nil
}

// previousValue is a parameter's value as the stack last had it.
func previousValue(previous *stack.APISettings, key string) (string, bool) {
	if previous == nil {
		return "", false
	}
	for _, p := range previous.Parameters {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// checkResourceTypes refuses resource types the caller's ResourceTypes do not allow ("AWS::*", "AWS::Lambda::*",
// "AWS::Lambda::Function"; an empty list allows everything).
func (s *Service) checkResourceTypes(t *cfn.Template, allowed []string) error {
	if len(allowed) == 0 {
		return nil
	}
	var refused []string
	for _, id := range t.ResourceOrder {
		typ := t.Resources[id].Type
		ok := slices.ContainsFunc(allowed, func(a string) bool {
			prefix, wild := strings.CutSuffix(a, "*")
			return a == typ || wild && strings.HasPrefix(typ, prefix)
		})
		if !ok && !slices.Contains(refused, typ) {
			refused = append(refused, typ)
		}
	}
	if len(refused) > 0 {
		return validation("Resource type(s) %s not allowed by the ResourceTypes given.", strings.Join(refused, ", "))
	}
	return nil
}

// session mints the session an operation's engine acts with: the stack's role's when it has one (which must
// trust CloudFormation), else one acting as the caller.
func (s *Service) session(ctx context.Context, principal, accessKeyID, roleARN string) (sigv4.Credential, error) {
	if roleARN != "" {
		c, ok, err := s.o.Sessions.ServiceRoleSession(ctx, roleARN, servicePrincipal, roleSessionName, defaultSessionTTL)
		if err != nil {
			return c, err
		}
		if !ok {
			return c, validation("Role %s is invalid or cannot be assumed", roleARN)
		}
		return c, nil
	}
	return s.o.Sessions.ForwardSession(ctx, principal, accessKeyID, defaultSessionTTL)
}

// begin is the record of a stack starting an operation: in progress under the service, with the operation.
func (s *Service) begin(st stack.Stack, status stack.Status, op *stack.Operation) stack.Stack {
	st.Status, st.Owner, st.Reason, st.Operation = status, owner, userInitiated, op
	if op.Token != "" && st.API != nil {
		api := *st.API
		api.LastToken, api.LastTokenKind = op.Token, op.Kind
		st.API = &api
	}
	st.Applied, st.Deployments, st.Cleanup = nil, nil, nil
	if st.Resources == nil {
		st.Resources = map[string]stack.ResourceState{}
	}
	return st
}

// CreateStack creates a stack: the template is checked, then the stack is CREATE_IN_PROGRESS and the controller
// creates it. It returns the stack's ID.
func (s *Service) CreateStack(ctx context.Context, in CreateStackInput) (string, error) {
	if in.DisableRollback != nil && in.OnFailure != "" {
		return "", validation("You cannot specify both DisableRollback and OnFailure.")
	}
	onFailure := in.OnFailure
	if onFailure == "" {
		onFailure = defaultOnFailure
		if in.DisableRollback != nil && *in.DisableRollback {
			onFailure = "DO_NOTHING"
		}
	}
	existing, err := s.o.Stacks.Get(ctx, in.StackName)
	switch {
	case err == nil:
		if retry, err := repeated(existing, in.ClientRequestToken, stack.OpCreate); retry || err != nil {
			return existing.StackID(), err // the same request again
		}
		return "", fault.New(CodeAlreadyExists, "Stack [%s] already exists", in.StackName)
	case !errors.Is(err, stack.ErrNotFound):
		return "", err
	}
	body, err := s.resolve(ctx, in.Caller, in.Template, nil)
	if err != nil {
		return "", err
	}
	id := stack.NewStackID(s.o.Region, s.o.Account, in.StackName)
	p, err := s.prepare(ctx, in.StackInput, id, body, nil, true)
	if err != nil {
		return "", err
	}
	p.settings.DisableRollback = onFailure == "DO_NOTHING"
	p.settings.TimeoutInMinutes, p.settings.TerminationProtection = in.TimeoutInMinutes, in.EnableTerminationProtection
	op := &stack.Operation{ID: uuid.NewString(), Kind: stack.OpCreate, Token: in.ClientRequestToken, TemplateKey: newTemplateKey(),
		Parameters: p.overrides, OnFailure: onFailure, Principal: in.Caller.Principal, RoleARN: p.settings.RoleARN, Settings: p.settings}
	err = s.start(ctx, in.Caller, op, func(tx store.Tx) (stack.Stack, error) {
		if _, err := stack.GetIn(tx, in.StackName); err == nil {
			return stack.Stack{}, fault.New(CodeAlreadyExists, "Stack [%s] already exists", in.StackName)
		} else if !errors.Is(err, stack.ErrNotFound) {
			return stack.Stack{}, err
		}
		st := stack.Stack{Name: in.StackName, API: &stack.APISettings{ID: id, Description: p.settings.Description, Capabilities: p.settings.Capabilities,
			Tags: p.settings.Tags, RoleARN: p.settings.RoleARN, DisableRollback: p.settings.DisableRollback, TimeoutInMinutes: in.TimeoutInMinutes,
			NotificationARNs: p.settings.NotificationARNs, TerminationProtection: in.EnableTerminationProtection,
			NoEcho: p.settings.NoEcho, ParameterOrder: p.settings.ParameterOrder, Parameters: p.settings.Parameters, LastOperationID: op.ID}}
		if err := s.storeTemplate(tx, op.TemplateKey, p); err != nil {
			return stack.Stack{}, err
		}
		return s.begin(st, stack.StatusCreateInProgress, op), nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// storeTemplate keeps a prepared template under key.
func (s *Service) storeTemplate(tx store.Tx, key string, p *prepared) error {
	processed := p.processed
	if p.inspection != nil && len(p.inspection.Template.Transform) > 0 {
		// Without a transform the processed template is the one given, as CloudFormation answers it.
		var err error
		if processed, err = json.Marshal(p.inspection.Processed.Raw); err != nil {
			return err
		}
	}
	return putTemplate(tx, key, storedTemplate{Original: string(p.body), Processed: processed})
}

// start mints the operation's session and commits, in one transaction, the stack as change returns it (in
// progress, with op), the stack's first event and the work key that wakes the controller. The session is revoked
// if nothing is committed.
func (s *Service) start(ctx context.Context, caller Caller, op *stack.Operation, change func(tx store.Tx) (stack.Stack, error)) error {
	cred, err := s.session(ctx, caller.Principal, caller.AccessKeyID, op.RoleARN)
	if err != nil {
		return err
	}
	op.SessionKey, op.Started = cred.AccessKeyID, s.now()
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		st, err := change(tx)
		if err != nil {
			return err
		}
		stored, err := s.o.Stacks.PutIn(tx, st)
		if err != nil {
			return err
		}
		if err := s.appendEvent(tx, stored, op.Token, Event{LogicalID: stored.Name, Type: stackType, PhysicalID: stored.StackID(),
			Status: string(stored.Status), Reason: userInitiated}); err != nil {
			return err
		}
		return tx.Put(prefixOp+stored.Name, []byte(op.ID))
	})
	if err != nil {
		s.revoke(cred.AccessKeyID)
	}
	return err
}

// revoke ends a session, logging (without its secret) a failure to.
func (s *Service) revoke(accessKeyID string) {
	if accessKeyID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.o.Sessions.RevokeSession(ctx, accessKeyID); err != nil {
		s.log.Warn("revoke an operation's session", "access_key_id", accessKeyID, "err", err)
	}
}

// repeated reports whether token is the one the stack's last operation, of kind, was started with: the same
// request again, answered as the first was. A token an operation of another kind was started with is refused.
func repeated(st stack.Stack, token, kind string) (bool, error) {
	if token == "" || st.API == nil || st.API.LastToken != token {
		return false, nil
	}
	if st.API.LastTokenKind != kind {
		return false, fault.New(CodeTokenAlreadyExists, "A client request token already exists.")
	}
	return true, nil
}

// updatable refuses an update of a stack in a status that allows none.
func updatable(st stack.Stack) error {
	switch st.Status {
	case stack.StatusCreateComplete, stack.StatusUpdateComplete, stack.StatusUpdateRollbackComplete, stack.StatusCreateFailed,
		stack.StatusUpdateFailed:
		// CREATE_FAILED stacks of `sluice deploy` (which keeps what it made) carry on; the API's own stop there
		// only when asked to (DO_NOTHING), and CloudFormation lets nothing update them — nor do we.
		if st.Status == stack.StatusCreateFailed && st.API != nil && st.API.LastOperationID != "" {
			return cannotUpdate(st)
		}
		return nil
	}
	return cannotUpdate(st)
}

// UpdateStack updates a stack: UPDATE_IN_PROGRESS, then the controller updates it. "No updates are to be
// performed." when neither the template, the parameters nor the settings change.
func (s *Service) UpdateStack(ctx context.Context, in UpdateStackInput) (string, error) {
	st, err := s.find(ctx, in.StackName)
	if err != nil {
		return "", err
	}
	if st.deleted {
		return "", stackNotFound(in.StackName)
	}
	if retry, err := repeated(st.Stack, in.ClientRequestToken, stack.OpUpdate); retry || err != nil {
		return st.StackID(), err
	}
	if err := updatable(st.Stack); err != nil {
		return "", err
	}
	body, err := s.resolve(ctx, in.Caller, in.Template, &st.Stack)
	if err != nil {
		return "", err
	}
	in.StackName = st.Name
	p, err := s.prepare(ctx, in.StackInput, st.StackID(), body, st.API, true)
	if err != nil {
		return "", err
	}
	p.settings.DisableRollback = in.DisableRollback
	if s.unchanged(ctx, st.Stack, p) {
		return "", validation(noUpdatesMessage)
	}
	return st.StackID(), s.startUpdateWith(ctx, in.Caller, st.Stack, p, in.ClientRequestToken, in.DisableRollback, "", "", nil)
}

// startUpdateWith commits an update of st to p's template and settings (a creation, for a stack a change set
// brought into being: onFailure says what its failure does), with extra's writes in the same transaction.
func (s *Service) startUpdateWith(ctx context.Context, caller Caller, st stack.Stack, p *prepared, token string, disableRollback bool,
	changeSetID, onFailure string, extra func(tx store.Tx) error) error {
	revision := st.Revision
	settings := s.carry(st.API, p.settings)
	settings.ChangeSetID = changeSetID
	op := &stack.Operation{ID: uuid.NewString(), Kind: stack.OpUpdate, Token: token, TemplateKey: newTemplateKey(), Parameters: p.overrides,
		DisableRollback: disableRollback, ChangeSetID: changeSetID, Principal: caller.Principal, RoleARN: settings.RoleARN, Settings: settings}
	if st.Status == stack.StatusReviewInProgress {
		op.Kind, op.OnFailure, op.DisableRollback = stack.OpCreate, onFailure, false
		switch {
		case op.OnFailure != "":
		case disableRollback:
			op.OnFailure = "DO_NOTHING"
		default:
			op.OnFailure = defaultOnFailure
		}
	}
	status := stack.StatusUpdateInProgress
	if op.Kind == stack.OpCreate {
		status = stack.StatusCreateInProgress
	}
	return s.start(ctx, caller, op, func(tx store.Tx) (stack.Stack, error) {
		cur, err := stack.GetIn(tx, st.Name)
		if err != nil {
			return stack.Stack{}, err
		}
		if cur.Revision != revision {
			if cur.Status.InProgress() {
				return stack.Stack{}, cannotUpdate(cur)
			}
			return stack.Stack{}, validation("Stack:%s was changed by another operation meanwhile; try again.", cur.StackID())
		}
		if err := s.storeTemplate(tx, op.TemplateKey, p); err != nil {
			return stack.Stack{}, err
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return stack.Stack{}, err
			}
		}
		if cur.API == nil {
			cur.API = &stack.APISettings{ID: st.StackID()}
		}
		api := *cur.API
		api.LastOperationID = op.ID
		cur.API = &api
		return s.begin(cur, status, op), nil
	})
}

// carry is the settings an update leaves the stack with: next's, with what it does not change kept.
func (s *Service) carry(prev, next *stack.APISettings) *stack.APISettings {
	out := *next
	if prev != nil {
		out.ID, out.TimeoutInMinutes, out.TerminationProtection = prev.ID, prev.TimeoutInMinutes, prev.TerminationProtection
		out.TemplateKey = prev.TemplateKey
	}
	return &out
}

// unchanged reports whether an update would change nothing: the same template, parameters and settings.
func (s *Service) unchanged(ctx context.Context, st stack.Stack, p *prepared) bool {
	if st.API == nil || st.API.TemplateKey == "" {
		return false
	}
	t, err := s.storedTemplate(ctx, st.API)
	if err != nil || t.Original != string(p.body) {
		return false
	}
	a, b := *st.API, *p.settings
	a.ID, b.ID = "", ""
	a.TemplateKey, b.TemplateKey = "", ""
	a.LastOperationID, b.LastOperationID = "", ""
	a.LastToken, b.LastToken, a.LastTokenKind, b.LastTokenKind = "", "", "", ""
	a.ChangeSetID, b.ChangeSetID = "", ""
	a.Outputs, b.Outputs = nil, nil
	a.TimeoutInMinutes, b.TimeoutInMinutes = 0, 0
	a.TerminationProtection, b.TerminationProtection = false, false
	a.DisableRollback, b.DisableRollback = false, false
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// DeleteStackInput is DeleteStack's input.
type DeleteStackInput struct {
	Caller             Caller
	StackName          string
	RetainResources    []string
	RoleARN            string
	ClientRequestToken string
}

// DeleteStack deletes a stack: DELETE_IN_PROGRESS, then the controller deletes its resources (except those
// retained) and the stack. Deleting a stack that does not exist succeeds, as on AWS.
func (s *Service) DeleteStack(ctx context.Context, in DeleteStackInput) error {
	st, err := s.find(ctx, in.StackName)
	if fault.Is(err, CodeValidation) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.deleted {
		return nil
	}
	if retry, err := repeated(st.Stack, in.ClientRequestToken, stack.OpDelete); retry || err != nil {
		return err
	}
	switch {
	case st.Status == stack.StatusDeleteInProgress:
		return nil // already being deleted
	case st.Status.InProgress():
		return validation("Stack [%s] cannot be deleted while in status %s", st.StackID(), st.Status)
	case st.API != nil && st.API.TerminationProtection:
		return validation("Stack [%s] cannot be deleted while TerminationProtection is enabled", st.Name)
	}
	if len(in.RetainResources) > 0 && st.Status != stack.StatusDeleteFailed {
		return validation("Invalid operation on stack [%s]. RetainResources can only be specified when the stack is in the DELETE_FAILED state.", st.StackID())
	}
	if in.RoleARN != "" {
		if err := s.o.Sessions.Authorize(ctx, in.Caller.Principal, in.Caller.AccessKeyID, "iam:PassRole", in.RoleARN); err != nil {
			return err
		}
	}
	role := in.RoleARN
	if role == "" && st.API != nil {
		role = st.API.RoleARN
	}
	revision := st.Revision
	op := &stack.Operation{ID: uuid.NewString(), Kind: stack.OpDelete, Token: in.ClientRequestToken, RetainResources: in.RetainResources,
		Principal: in.Caller.Principal, RoleARN: role}
	return s.start(ctx, in.Caller, op, func(tx store.Tx) (stack.Stack, error) {
		cur, err := stack.GetIn(tx, st.Name)
		if err != nil {
			return stack.Stack{}, err
		}
		if cur.Revision != revision {
			return stack.Stack{}, validation("Stack [%s] cannot be deleted while in status %s", cur.StackID(), cur.Status)
		}
		if cur.API != nil {
			api := *cur.API
			api.LastOperationID = op.ID
			cur.API = &api
		}
		return s.begin(cur, stack.StatusDeleteInProgress, op), nil
	})
}

// found is a stack as a describe finds it: live, or deleted (kept for describes by ID and for ListStacks).
type found struct {
	stack.Stack
	deleted bool
}

// find looks a stack up by name (live stacks only) or ID (a deleted one too); a missing one is
// CloudFormation's "Stack with id X does not exist".
func (s *Service) find(ctx context.Context, nameOrID string) (found, error) {
	var f found
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		f, err = findIn(tx, nameOrID)
		return err
	})
	return f, err
}

func findIn(tx store.Tx, nameOrID string) (found, error) {
	name, id, isID := parseStackID(nameOrID)
	if !isID {
		name = nameOrID
	}
	st, err := stack.GetIn(tx, name)
	switch {
	case err == nil && (!isID || stackUUID(st.StackID()) == id):
		return found{Stack: st}, nil
	case err != nil && !errors.Is(err, stack.ErrNotFound):
		return found{}, err
	case !isID:
		return found{}, stackNotFound(nameOrID)
	}
	var d stack.Stack
	if err := store.GetJSON(tx, prefixDeleted+id, &d); errors.Is(err, store.ErrNotFound) {
		return found{}, stackNotFound(nameOrID)
	} else if err != nil {
		return found{}, err
	}
	return found{Stack: d, deleted: true}, nil
}

// ---- describes ----

// StackView is a stack as DescribeStacks shows it.
type StackView struct {
	ID, Name, Description, Status, StatusReason, RoleARN, ChangeSetID string
	Created                                                           time.Time
	Updated, Deleted                                                  *time.Time
	Parameters                                                        []stack.Param
	// Resolved are the values SSM-typed parameters resolved to (CloudFormation's ResolvedValue), by parameter.
	Resolved                               map[string]string
	Outputs                                []OutputView
	Capabilities, NotificationARNs         []string
	Tags                                   []stack.Tag
	DisableRollback, TerminationProtection bool
	TimeoutInMinutes                       int
	LastOperationID                        string
}

// OutputView is a stack output.
type OutputView struct{ Key, Value, Description, ExportName string }

// view is how a stack shows: NoEcho parameters masked.
func (s *Service) view(st stack.Stack, deleted bool) StackView {
	v := StackView{ID: st.StackID(), Name: st.Name, Status: string(st.Status), StatusReason: st.Reason, Created: st.Created}
	if v.ID == "" {
		v.ID = s.legacyStackID(st)
	}
	if !deleted && st.Updated.After(st.Created) {
		u := st.Updated
		v.Updated = &u
	}
	if st.Status == stack.StatusCreateComplete || st.Status == stack.StatusReviewInProgress {
		v.Updated = nil
	}
	api := st.API
	if api == nil {
		api = &stack.APISettings{}
		for _, k := range sortedKeys(st.Parameters) {
			api.Parameters = append(api.Parameters, stack.Param{Key: k, Value: st.Parameters[k]})
		}
	}
	if deleted {
		t := api.DeletionTime
		v.Deleted = &t
	}
	v.Description, v.RoleARN, v.ChangeSetID = api.Description, api.RoleARN, api.ChangeSetID
	v.Capabilities, v.NotificationARNs, v.Tags = api.Capabilities, api.NotificationARNs, api.Tags
	v.DisableRollback, v.TerminationProtection, v.TimeoutInMinutes = api.DisableRollback, api.TerminationProtection, api.TimeoutInMinutes
	v.LastOperationID = api.LastOperationID
	for _, p := range api.Parameters {
		if slices.Contains(api.NoEcho, p.Key) {
			p.Value = maskedValue
		}
		v.Parameters = append(v.Parameters, p)
		if r, ok := st.ResolvedParameters[p.Key]; ok {
			if v.Resolved == nil {
				v.Resolved = map[string]string{}
			}
			if slices.Contains(api.NoEcho, p.Key) {
				r = maskedValue
			}
			v.Resolved[p.Key] = r
		}
	}
	for _, k := range sortedKeys(st.Outputs) {
		o := OutputView{Key: k, Value: st.Outputs[k]}
		if info, ok := api.Outputs[k]; ok {
			o.Description, o.ExportName = info.Description, info.ExportName
		}
		v.Outputs = append(v.Outputs, o)
	}
	return v
}

// legacyStackID is the ID of a stack recorded before stacks had IDs: derived from its name and creation time,
// so that it is stable.
func (s *Service) legacyStackID(st stack.Stack) string {
	u := uuid.NewSHA1(uuid.NameSpaceURL, []byte(st.Name+"|"+st.Created.UTC().Format(time.RFC3339Nano)))
	return "arn:aws:cloudformation:" + s.o.Region + ":" + s.o.Account + ":stack/" + st.Name + "/" + u.String()
}

// DescribeStacks describes one stack (by name, or by ID — a deleted one too), or every live stack.
func (s *Service) DescribeStacks(ctx context.Context, nameOrID string) ([]StackView, error) {
	if nameOrID != "" {
		f, err := s.find(ctx, nameOrID)
		if err != nil {
			return nil, err
		}
		return []StackView{s.viewOf(f)}, nil
	}
	var out []StackView
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		out = nil
		return stack.ScanIn(tx, func(st stack.Stack) error {
			out = append(out, s.viewOf(found{Stack: st}))
			return nil
		})
	})
	return out, err
}

// viewOf is a found stack's view.
func (s *Service) viewOf(f found) StackView { return s.view(f.Stack, f.deleted) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// StackSummary is a stack as ListStacks shows it.
type StackSummary struct {
	ID, Name, TemplateDescription, Status, StatusReason string
	Created                                             time.Time
	Updated, Deleted                                    *time.Time
}

// ListStacks lists the live stacks and the deleted ones kept, those in one of statuses when it is not empty.
func (s *Service) ListStacks(ctx context.Context, statuses []string) ([]StackSummary, error) {
	var out []StackSummary
	add := func(f found) {
		if len(statuses) > 0 && !slices.Contains(statuses, string(f.Status)) {
			return
		}
		v := s.viewOf(f)
		out = append(out, StackSummary{ID: v.ID, Name: v.Name, TemplateDescription: v.Description, Status: v.Status,
			StatusReason: v.StatusReason, Created: v.Created, Updated: v.Updated, Deleted: v.Deleted})
	}
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		out = nil
		if err := stack.ScanIn(tx, func(st stack.Stack) error {
			add(found{Stack: st})
			return nil
		}); err != nil {
			return err
		}
		return tx.Scan(prefixDeleted, "", func(_ string, v []byte) (bool, error) {
			var d stack.Stack
			if err := json.Unmarshal(v, &d); err != nil {
				return false, err
			}
			add(found{Stack: d, deleted: true})
			return true, nil
		})
	})
	return out, err
}

// ResourceView is a stack resource as DescribeStackResource(s) and ListStackResources show it.
type ResourceView struct {
	StackName, StackID, LogicalID, PhysicalID, Type, Status, Reason string
	Updated                                                         time.Time
	Metadata                                                        string
}

// Resources lists a stack's resources (by name or ID), one of them when logicalID is set; a missing one is
// CloudFormation's "Resource X does not exist for stack Y".
func (s *Service) Resources(ctx context.Context, nameOrID, logicalID string) ([]ResourceView, error) {
	f, err := s.find(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	v := s.viewOf(f)
	var out []ResourceView
	for _, id := range sortedKeys(f.Resources) {
		r := f.Resources[id]
		if logicalID != "" && id != logicalID {
			continue
		}
		rv := ResourceView{StackName: f.Name, StackID: v.ID, LogicalID: id, PhysicalID: r.PhysicalID, Type: r.Type, Status: r.Status,
			Reason: r.Reason, Updated: r.Updated}
		if rv.Status == "" {
			rv.Status = "CREATE_COMPLETE"
		}
		if rv.Updated.IsZero() {
			rv.Updated = f.Updated
		}
		out = append(out, rv)
	}
	if logicalID != "" && len(out) == 0 {
		return nil, validation("Resource %s does not exist for stack %s", logicalID, nameOrID)
	}
	return out, nil
}

// StackOfPhysicalID finds the live stack that has a resource with the physical id given (DescribeStackResources
// by PhysicalResourceId).
func (s *Service) StackOfPhysicalID(ctx context.Context, physicalID string) (string, error) {
	var name string
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		return stack.ScanIn(tx, func(st stack.Stack) error {
			for _, r := range st.Resources {
				if r.PhysicalID == physicalID && name == "" {
					name = st.Name
				}
			}
			return nil
		})
	})
	if err == nil && name == "" {
		err = validation("Stack for %s does not exist", physicalID)
	}
	return name, err
}

// UpdateTerminationProtection turns a stack's termination protection on or off.
func (s *Service) UpdateTerminationProtection(ctx context.Context, nameOrID string, enable bool) (string, error) {
	var id string
	err := s.o.Store.Update(ctx, func(tx store.Tx) error {
		f, err := findIn(tx, nameOrID)
		if err != nil {
			return err
		}
		if f.deleted {
			return stackNotFound(nameOrID)
		}
		if f.Status.InProgress() {
			// The engine holds the record while it runs (compare-and-swap): it is changed when the operation ends.
			return validation("Stack [%s] cannot be changed while in status %s; try again when the operation has ended.", f.Name, f.Status)
		}
		st := f.Stack
		id = s.viewOf(f).ID
		api := stack.APISettings{ID: st.StackID()}
		if st.API != nil {
			api = *st.API
		}
		api.TerminationProtection = enable
		st.API = &api
		_, err = s.o.Stacks.PutIn(tx, st)
		return err
	})
	return id, err
}
