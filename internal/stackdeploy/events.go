package stackdeploy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/sluice-dev/sluice/internal/stack"
)

// Events, the journal, and the engine as the CloudFormation API's service runs it.
//
// The service runs a deploy with Options.Owner set: the stack is already in progress, recorded under that owner
// by the API call that accepted the operation (a stack not so held is refused), and the deploy carries the
// operation on from what the record says — the first time, after a restart, or on the node that took over the
// service's leadership. To resume, the record carries the journal of what the operation changed
// (stack.Stack.Applied, written with every checkpoint) and the traffic shifts it started (Deployments, adopted
// instead of started again); a stack found in a rollback phase is rolled back, with the journal, without applying
// anything. A deploy that is interrupted (its context ends: the leadership went, the server stops) records nothing
// more: whoever runs it next resumes it.

// emit reports a resource's step to the observer, and keeps the resource's status in the record.
func (r *run) emit(id, typ, physicalID, status, reason string, props map[string]any) {
	if st, ok := r.state[id]; ok && (physicalID == "" || st.PhysicalID == physicalID) {
		st.Status, st.Reason, st.Updated = status, reason, r.clock.Now().UTC()
		r.state[id] = st
	}
	if r.o.Observer != nil {
		r.o.Observer.Event(Event{LogicalID: id, Type: typ, PhysicalID: physicalID, Status: status, Reason: reason, Properties: props})
	}
}

// emitStack reports a status of the stack itself.
func (r *run) emitStack(status stack.Status, reason string) {
	if r.o.Observer != nil {
		r.o.Observer.Event(Event{LogicalID: r.o.StackName, Type: StackType, PhysicalID: r.st.StackID(), Status: string(status), Reason: reason})
	}
}

// failedReason is CloudFormation's reason for a stack whose operation failed, naming the resources that did
// ("The following resource(s) failed to update: [Live]. "), with what CloudFormation does about it.
func (r *run) failedReason(creating bool, then string) string {
	verb := "update"
	if creating {
		verb = "create"
	}
	if len(r.failed) == 0 {
		return strings.TrimSpace(then)
	}
	return fmt.Sprintf("The following resource(s) failed to %s: [%s]. %s", verb, strings.Join(r.failed, ", "), then)
}

// fail notes a resource whose step failed, for the stack's reason.
func (r *run) fail(id string) {
	if !slices.Contains(r.failed, id) {
		r.failed = append(r.failed, id)
	}
}

// journal is the record's form of what the operation applied.
func journal(as []applied) []stack.Applied {
	out := make([]stack.Applied, 0, len(as))
	for _, a := range as {
		out = append(out, stack.Applied{LogicalID: a.id, Action: string(a.action), Old: a.old, Tried: a.tried})
	}
	return out
}

// fromJournal is what a resumed deploy had applied before.
func fromJournal(js []stack.Applied) []applied {
	out := make([]applied, 0, len(js))
	for _, j := range js {
		out = append(out, applied{id: j.LogicalID, action: Action(j.Action), old: j.Old, tried: j.Tried})
	}
	return out
}

// shifted reports whether the journal has the traffic shift of alias id.
func (r *run) shifted(id string) bool {
	return slices.ContainsFunc(r.applied, func(a applied) bool { return a.id == id && a.action == ActionShift })
}

// resumeShifts rebuilds, for a deploy resumed in a rollback phase, the traffic shifts the journal says the
// operation started, so that the rollback puts their aliases back.
func (r *run) resumeShifts() {
	for _, a := range r.applied {
		if a.action != ActionShift || slices.ContainsFunc(r.pending, func(s *pendingShift) bool { return s.res.id == a.id }) {
			continue
		}
		r.pending = append(r.pending, &pendingShift{res: &resource{id: a.id, typ: a.old.Type, props: a.old.Properties}, prev: a.old,
			function: str(a.old.Properties, "FunctionName"), alias: str(a.old.Properties, "Name"), from: str(a.old.Properties, "FunctionVersion"),
			id: r.st.Deployments[a.id], done: true, status: "interrupted"})
	}
}

// rollingBack reports whether a stack status is a rollback phase: a resumed deploy goes on rolling back.
func rollingBack(s stack.Status) bool {
	switch s {
	case stack.StatusRollbackInProgress, stack.StatusUpdateRollbackInProgress, stack.StatusUpdateRollbackCompleteCleanupInProgress:
		return true
	}
	return false
}

// failureReason is a resource step's failure as CloudFormation words it: what the service answered, and who.
func failureReason(err error) string {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err.Error()
	}
	service, status, requestID := "", 0, ""
	var op *smithy.OperationError
	if errors.As(err, &op) {
		service = op.ServiceID
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		status, requestID = resp.HTTPStatusCode(), resp.ServiceRequestID()
	}
	return fmt.Sprintf("Resource handler returned message: %q (Service: %s, Status Code: %d, Request ID: %s)", api.ErrorMessage(), service, status, requestID)
}

// errResumed is the cause of a rollback resumed after a restart, when the record kept none.
var errResumed = errors.New("the operation was interrupted and is being rolled back")
