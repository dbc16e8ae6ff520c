package stackdeploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// A deploy deletes nothing while it updates. What it supersedes — the physical resource a replacement took over
// from, a resource that left the template — is deleted in the cleanup phase, once every resource is updated and
// every traffic shift has succeeded: a Lambda version stays until no alias routes to it. A deploy that fails is
// rolled back instead: what it changed in place is put back, aliases return to the version they were on, and what it
// created is deleted, while what it superseded stays in the stack. Both follow CloudFormation, statuses included
// (stack.Status): UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_ROLLBACK_IN_PROGRESS,
// UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS. As in CloudFormation, a deletion that fails in either cleanup is
// skipped: the resource stays in the account, out of the stack, and the record's Cleanup says why.

// removal is a physical resource leaving the stack.
type removal struct {
	id    string
	state stack.ResourceState
	why   string // stack.RemovalReplaced, RemovalRemoved or RemovalRolledBack
	// retainedBy names the policy that keeps it in the account ("" deletes it).
	retainedBy string
}

// cleanup deletes, after a successful update, what the updates superseded: the physical resources replaced (kept
// when UpdateReplacePolicy was Retain) — this deploy's, and any an interrupted deploy left — and the resources that
// left the template (kept when their DeletionPolicy was Retain). It runs to its end even if the caller gives up
// meanwhile: the update has happened, and a half-cleaned stack would leave resources nobody tracks.
func (r *run) cleanup(ctx context.Context) {
	var gone []removal
	for _, s := range r.st.Superseded {
		g := removal{id: s.LogicalID, state: s.Resource, why: stack.RemovalReplaced}
		if s.Retain {
			g.retainedBy = "UpdateReplacePolicy: Retain"
		}
		gone = append(gone, g)
	}
	for _, id := range sortedKeys(r.state) {
		if r.inTemplate(id) {
			continue
		}
		g := removal{id: id, state: r.state[id], why: stack.RemovalRemoved}
		if g.state.Retain {
			g.retainedBy = "DeletionPolicy: Retain"
		}
		gone = append(gone, g)
	}
	if len(gone) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	// A checkpoint that fails is made good by the next: the operation's last save reports a store that fails.
	_ = r.enter(ctx, stack.StatusUpdateCompleteCleanupInProgress)
	r.remove(ctx, gone)
}

// unsupersede drops a physical resource from the record's Superseded: deleted, retained, or back in use.
func (r *run) unsupersede(id, physicalID string) {
	r.st.Superseded = slices.DeleteFunc(r.st.Superseded, func(s stack.Superseded) bool {
		return s.LogicalID == id && s.Resource.PhysicalID == physicalID
	})
}

func (r *run) inTemplate(id string) bool {
	if _, ok := r.l.tpl.Resources[id]; !ok {
		return false
	}
	inc, _ := r.l.eval.Included(id)
	return inc
}

// remove takes physical resources out of the stack in reverse dependency order, deleting those no policy retains;
// a deletion that fails is reported and skipped. Each outcome is in the record and the result.
func (r *run) remove(ctx context.Context, gone []removal) {
	for _, g := range deletionOrder(gone) {
		out := stack.Removal{LogicalID: g.id, Type: g.state.Type, PhysicalID: g.state.PhysicalID, Why: g.why}
		change := Change{LogicalID: g.id, Type: g.state.Type, PhysicalID: g.state.PhysicalID}
		switch {
		case g.retainedBy != "":
			out.Outcome, out.Reason = stack.OutcomeRetained, g.retainedBy
			change.Action = ActionRetain
			r.emit(g.id, g.state.Type, g.state.PhysicalID, DeleteSkipped, "", nil)
		default:
			out.Outcome, change.Action = stack.OutcomeDeleted, ActionDelete
			r.emit(g.id, g.state.Type, g.state.PhysicalID, DeleteInProgress, "", nil)
			if h, ok := handlers[g.state.Type]; ok {
				if err := h.remove(ctx, r, g.state); err != nil {
					out.Outcome, out.Reason = stack.OutcomeDeleteFailed, err.Error()
					change.Detail = "not deleted (left in the account, out of the stack): " + err.Error()
					r.emit(g.id, g.state.Type, g.state.PhysicalID, DeleteFailed, failureReason(err), nil)
				}
			}
			if out.Outcome == stack.OutcomeDeleted {
				r.emit(g.id, g.state.Type, g.state.PhysicalID, DeleteComplete, "", nil)
			}
		}
		switch g.why {
		case stack.RemovalRemoved:
			delete(r.state, g.id)
			r.note(change)
		case stack.RemovalReplaced:
			r.unsupersede(g.id, g.state.PhysicalID)
		}
		r.st.Cleanup = append(r.st.Cleanup, out)
		r.result.Cleanup = append(r.result.Cleanup, out)
		_ = r.save(ctx) // a checkpoint: the operation's last save reports a store that fails
	}
}

// rollback undoes a failed update, as CloudFormation's UPDATE_ROLLBACK does, and returns the stack's status and the
// deploy's error: shifts still under way are stopped (CodeDeploy rolls them back); aliases go back to the version
// they were on; resources changed in place get their previous properties back (a function its previous code, from
// the published version that has it); then, once all that worked, what the deploy created is deleted and what it
// replaced is the stack's again. A resource the deploy created is kept if its DeletionPolicy is Retain (not
// RetainExceptOnCreate, whose point is the difference); the new physical resource of a replacement is kept if
// UpdateReplacePolicy is Retain. If something cannot be put back, the stack is UPDATE_ROLLBACK_FAILED and nothing
// is deleted: the record keeps what exists now, what the deploy replaced in Superseded.
func (r *run) rollback(ctx context.Context, cause error) (stack.Status, error) {
	var problems []string
	if err := r.enterWith(ctx, stack.StatusUpdateRollbackInProgress, r.failedReason(false, "")); err != nil {
		problems = append(problems, err.Error())
	}
	if err := r.stopShifts(ctx); err != nil {
		problems = append(problems, err.Error())
	}
	for _, s := range r.pending {
		if err := r.restoreAlias(ctx, s); err != nil {
			problems = append(problems, err.Error())
		}
	}
	for _, a := range r.applied {
		if a.action != ActionUpdate {
			continue
		}
		if err := r.restore(ctx, a); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		// What the deploy replaced stays in Superseded, for the cleanup of the next deploy that succeeds.
		return stack.StatusUpdateRollbackFailed, fmt.Errorf("%w; %w: %s", cause, ErrRollbackFailed, strings.Join(problems, "; "))
	}
	_ = r.enter(ctx, stack.StatusUpdateRollbackCompleteCleanupInProgress) // a checkpoint, as in cleanup
	var gone []removal
	for _, a := range r.applied {
		if a.action == ActionUpdate || a.action == ActionShift {
			continue
		}
		res := r.l.tpl.Resources[a.id]
		if res == nil {
			res = &cfn.Resource{} // resumed with a template that no longer has it: no policy keeps it
		}
		g := removal{id: a.id, state: r.state[a.id], why: stack.RemovalRolledBack}
		switch {
		case a.action == ActionCreate && res.DeletionPolicy == "Retain":
			g.retainedBy = "DeletionPolicy: Retain"
		case a.action == ActionReplace && res.UpdateReplacePolicy == "Retain":
			g.retainedBy = "UpdateReplacePolicy: Retain"
		}
		gone = append(gone, g)
		if a.action == ActionReplace {
			r.state[a.id] = a.old
			r.unsupersede(a.id, a.old.PhysicalID)
			r.note(Change{LogicalID: a.id, Type: a.old.Type, Action: ActionRestore, PhysicalID: a.old.PhysicalID,
				Detail: "the physical resource it replaced is the stack's again"})
		} else {
			delete(r.state, a.id)
		}
	}
	r.remove(ctx, gone)
	return stack.StatusUpdateRollbackComplete, cause
}

// restore gives a resource updated in place its previous properties back.
func (r *run) restore(ctx context.Context, a applied) error {
	cur := r.state[a.id]
	if a.tried != nil {
		cur.Properties = a.tried
	}
	changed := changedKeys(cur.Properties, a.old.Properties)
	if len(changed) > 0 {
		res := &resource{id: a.id, typ: a.old.Type, props: maps.Clone(a.old.Properties), raw: &cfn.Resource{Type: a.old.Type},
			physicalID: a.old.PhysicalID, attrs: a.old.Attributes, restoring: true}
		if res.props == nil {
			res.props = map[string]any{}
		}
		r.emit(a.id, a.old.Type, a.old.PhysicalID, UpdateInProgress, "", a.old.Properties)
		if _, _, err := handlers[a.old.Type].update(ctx, r, res, cur, changed); err != nil {
			r.emit(a.id, a.old.Type, a.old.PhysicalID, UpdateFailed, failureReason(err), nil)
			return fmt.Errorf("%s: restore %s: %w", a.id, strings.Join(changed, ", "), err)
		}
		r.note(Change{LogicalID: a.id, Type: a.old.Type, Action: ActionRestore, PhysicalID: a.old.PhysicalID, Properties: changed})
		r.state[a.id] = a.old
		r.emit(a.id, a.old.Type, a.old.PhysicalID, UpdateComplete, "", nil)
	} else {
		r.state[a.id] = a.old
	}
	return r.save(ctx)
}

// rollbackCreate undoes a creation that failed, as CloudFormation's OnFailure says (Options.OnCreateFailure):
// ROLLBACK deletes what it made (ROLLBACK_IN_PROGRESS, then ROLLBACK_COMPLETE, or ROLLBACK_FAILED when something
// could not be deleted), DELETE does so and then the stack goes (DELETE_COMPLETE, or DELETE_FAILED), DO_NOTHING
// keeps it all (CREATE_FAILED). It returns the stack's status and the deploy's error.
func (r *run) rollbackCreate(ctx context.Context, cause error) (stack.Status, error) {
	if r.o.OnCreateFailure == OnFailureDoNothing {
		return stack.StatusCreateFailed, cause
	}
	status, done, failed := stack.StatusRollbackInProgress, stack.StatusRollbackComplete, stack.StatusRollbackFailed
	then := "Rollback requested by user."
	if r.o.OnCreateFailure == OnFailureDelete {
		status, done, failed = stack.StatusDeleteInProgress, stack.StatusDeleteComplete, stack.StatusDeleteFailed
		then = "Delete requested by user."
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	_ = r.enterWith(ctx, status, r.failedReason(true, then)) // a checkpoint, as in cleanup
	if err := r.stopShifts(ctx); err != nil {
		return failed, fmt.Errorf("%w; %w: %v", cause, ErrRollbackFailed, err)
	}
	if err := r.deleteAll(ctx, true); err != nil {
		return failed, fmt.Errorf("%w; %w: %v", cause, ErrRollbackFailed, err)
	}
	return done, cause
}

// deleteAll deletes every resource of a stack being deleted, and the physical resources superseded that no cleanup
// deleted yet, in reverse dependency order, except those retained (DeletionPolicy: Retain; UpdateReplacePolicy:
// Retain for the superseded; Options.RetainResources); the first failure stops it (DELETE_FAILED), the rest
// staying in the record. A creation's rollback (createRollback) keeps only DeletionPolicy: Retain, not
// RetainExceptOnCreate.
func (r *run) deleteAll(ctx context.Context, createRollback bool) error {
	var gone []removal
	for _, id := range sortedKeys(r.state) {
		g := removal{id: id, state: r.state[id], why: stack.RemovalRemoved}
		switch {
		case slices.Contains(r.o.RetainResources, id):
			g.retainedBy = "RetainResources"
		case createRollback:
			if res := r.l.tpl.Resources[id]; res != nil && res.DeletionPolicy == "Retain" {
				g.retainedBy = "DeletionPolicy: Retain"
			}
		case g.state.Retain:
			g.retainedBy = "DeletionPolicy: Retain"
		}
		gone = append(gone, g)
	}
	for _, s := range r.st.Superseded {
		g := removal{id: s.LogicalID, state: s.Resource, why: stack.RemovalReplaced}
		if s.Retain {
			g.retainedBy = "UpdateReplacePolicy: Retain"
		}
		gone = append(gone, g)
	}
	for _, g := range deletionOrder(gone) {
		if g.why == stack.RemovalReplaced {
			if g.retainedBy == "" {
				if h, ok := handlers[g.state.Type]; ok {
					if err := h.remove(ctx, r, g.state); err != nil {
						return fmt.Errorf("%s: delete %s: %w", g.id, g.state.PhysicalID, err)
					}
				}
			}
			r.unsupersede(g.id, g.state.PhysicalID)
			if err := r.save(ctx); err != nil {
				return err
			}
			continue
		}
		action := ActionDelete
		if g.retainedBy != "" {
			action = ActionRetain
			r.emit(g.id, g.state.Type, g.state.PhysicalID, DeleteSkipped, "", nil)
		} else {
			r.emit(g.id, g.state.Type, g.state.PhysicalID, DeleteInProgress, "", nil)
			if h, ok := handlers[g.state.Type]; ok {
				if err := h.remove(ctx, r, g.state); err != nil {
					r.fail(g.id)
					r.emit(g.id, g.state.Type, g.state.PhysicalID, DeleteFailed, failureReason(err), nil)
					return fmt.Errorf("%s: delete %s: %w", g.id, g.state.PhysicalID, err)
				}
			}
			r.emit(g.id, g.state.Type, g.state.PhysicalID, DeleteComplete, "", nil)
		}
		delete(r.state, g.id)
		r.note(Change{LogicalID: g.id, Type: g.state.Type, Action: action, PhysicalID: g.state.PhysicalID})
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	return nil
}

// deletionOrder orders deletions as CloudFormation does, in reverse dependency order: each resource goes before
// every resource being deleted with it that it depended on (its recorded DependsOn). Among those free to go — and
// for records written before dependencies were recorded, or records that disagree into a cycle — the type decides
// (deletePriority), then the logical id.
func deletionOrder(gone []removal) []removal {
	at := map[string][]int{} // an id twice: old physical resources of one logical id
	for i, g := range gone {
		at[g.id] = append(at[g.id], i)
	}
	dependents := make([]int, len(gone)) // how many of gone, not deleted yet, depend on each
	for i, g := range gone {
		for _, d := range g.state.DependsOn {
			for _, j := range at[d] {
				if j != i {
					dependents[j]++
				}
			}
		}
	}
	earlier := func(a, b removal) bool {
		if pa, pb := deletePriority(a.state.Type), deletePriority(b.state.Type); pa != pb {
			return pa < pb
		}
		return a.id < b.id
	}
	done := make([]bool, len(gone))
	out := make([]removal, 0, len(gone))
	for len(out) < len(gone) {
		next := -1
		for i := range gone {
			if !done[i] && dependents[i] == 0 && (next < 0 || earlier(gone[i], gone[next])) {
				next = i
			}
		}
		if next < 0 { // a cycle: the type breaks it
			for i := range gone {
				if !done[i] && (next < 0 || earlier(gone[i], gone[next])) {
					next = i
				}
			}
		}
		done[next] = true
		out = append(out, gone[next])
		for _, d := range gone[next].state.DependsOn {
			for _, j := range at[d] {
				if j != next {
					dependents[j]--
				}
			}
		}
	}
	return out
}

// deletePriority orders deletions by type when dependencies do not: nothing is deleted while something else of
// the usual shapes still uses it.
func deletePriority(typ string) int {
	switch typ {
	case "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::Url", "AWS::Lambda::Permission":
		return 0
	case "AWS::Lambda::Alias":
		return 1
	case "AWS::CodeDeploy::DeploymentGroup":
		return 2
	case "AWS::Lambda::Version":
		return 3
	case "AWS::Lambda::Function":
		return 4
	case "AWS::CloudWatch::Alarm", "AWS::CodeDeploy::DeploymentConfig":
		return 5
	case "AWS::CodeDeploy::Application":
		return 6
	}
	return 7 // roles last: functions and groups name them
}
