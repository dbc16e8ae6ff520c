package logsapi

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/sluice-dev/sluice/internal/logstore"
)

// retentionDays are the values PutRetentionPolicy takes (the model's Days documentation lists them).
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// exists reports whether a log group exists: recorded in the registry, or holding events a reader may see.
func (h *Handler) exists(group string) (bool, error) {
	if h.groups != nil {
		if _, ok, err := h.groups.Get(context.Background(), group); err != nil || ok {
			return ok, err
		}
	}
	_, ok, err := h.store.Group(group)
	return ok, err
}

// held reports whether a group holds events from floor on: a function's group, which exists without a record.
func (h *Handler) held(group string) func(floor int64) (bool, error) {
	since := h.heldSince(group)
	return func(floor int64) (bool, error) {
		_, ok, err := since(floor)
		return ok, err
	}
}

func (h *Handler) heldSince(group string) func(floor int64) (int64, bool, error) {
	return func(floor int64) (int64, bool, error) {
		// The registry's reader would apply the floor itself; the record is being changed, so ask the files.
		raw := h.store
		if r, ok := raw.(logstore.Retained); ok {
			raw = r.Reader
		}
		events, _, err := raw.Page(group, logstore.Query{Start: floor, Limit: 1}, nil)
		if err != nil || len(events) == 0 {
			return 0, false, err
		}
		return events[0].Timestamp, true, nil
	}
}

type createLogGroupInput struct {
	LogGroupName              *string           `json:"logGroupName"`
	KmsKeyID                  *string           `json:"kmsKeyId"`
	Tags                      map[string]string `json:"tags"`
	LogGroupClass             *string           `json:"logGroupClass"`
	DeletionProtectionEnabled *bool             `json:"deletionProtectionEnabled"`
}

func required(member string, v *string) error {
	if v == nil {
		return invalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	}
	return nil
}

// checkTags applies the model's Tags constraints: 1-50 keys of 1-128 and values of at most 256 of
// [\p{L}\p{Z}\p{N}_.:/=+\-@].
func checkTags(tags map[string]string) error {
	if tags == nil {
		return nil
	}
	if len(tags) < 1 || len(tags) > 50 {
		return invalid("1 validation error detected: Value '%v' at 'tags' failed to satisfy constraint: Member must have length between 1 and 50", tags)
	}
	ok := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.Is(unicode.Z, r) && !unicode.IsNumber(r) && !strings.ContainsRune("_.:/=+-@", r)
		}) < 0
	}
	for k, v := range tags {
		if len(k) < 1 || len(k) > 128 || !ok(k) || strings.HasPrefix(k, "aws:") {
			return invalid("1 validation error detected: Value '%s' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$]", k)
		}
		if len(v) > 256 || !ok(v) {
			return invalid("1 validation error detected: Value '%s' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$]", v)
		}
	}
	return nil
}

// createLogGroup records a group. Only the STANDARD class is served; a KMS key is refused, as there is no KMS.
func (h *Handler) createLogGroup(ctx context.Context, in *createLogGroupInput) error {
	if err := required("logGroupName", in.LogGroupName); err != nil {
		return err
	}
	if err := checkGroupName("logGroupName", *in.LogGroupName); err != nil {
		return err
	}
	if err := checkTags(in.Tags); err != nil {
		return err
	}
	if in.LogGroupClass != nil && *in.LogGroupClass != "STANDARD" {
		switch *in.LogGroupClass {
		case "INFREQUENT_ACCESS", "DELIVERY":
			return invalid("Log group class %s is not supported by Sluice: log groups are STANDARD", *in.LogGroupClass)
		}
		return invalid("1 validation error detected: Value '%s' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]", *in.LogGroupClass)
	}
	if in.KmsKeyID != nil {
		return invalid("Sluice has no KMS: log groups cannot be encrypted with a KMS key (kmsKeyId)")
	}
	_, err := h.groups.Create(ctx, *in.LogGroupName, in.Tags, h.held(*in.LogGroupName))
	return err
}

type logGroupNameInput struct {
	LogGroupName *string `json:"logGroupName"`
}

func (in *logGroupNameInput) check() error {
	if err := required("logGroupName", in.LogGroupName); err != nil {
		return err
	}
	return checkGroupName("logGroupName", *in.LogGroupName)
}

// deleteLogGroup deletes a group: no event logged until now is seen again.
func (h *Handler) deleteLogGroup(ctx context.Context, in *logGroupNameInput) error {
	if err := in.check(); err != nil {
		return err
	}
	return h.groups.Delete(ctx, *in.LogGroupName, h.held(*in.LogGroupName))
}

type putRetentionPolicyInput struct {
	LogGroupName    *string `json:"logGroupName"`
	RetentionInDays *int    `json:"retentionInDays"`
}

func (h *Handler) putRetentionPolicy(ctx context.Context, in *putRetentionPolicyInput) error {
	if err := (&logGroupNameInput{in.LogGroupName}).check(); err != nil {
		return err
	}
	if in.RetentionInDays == nil {
		return invalid("1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null")
	}
	if !slices.Contains(retentionDays, *in.RetentionInDays) {
		values := make([]string, len(retentionDays))
		for i, d := range retentionDays {
			values[i] = strconv.Itoa(d)
		}
		return invalid("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			*in.RetentionInDays, strings.Join(values, ", "))
	}
	return h.groups.SetRetention(ctx, *in.LogGroupName, *in.RetentionInDays, h.heldSince(*in.LogGroupName))
}

func (h *Handler) deleteRetentionPolicy(ctx context.Context, in *logGroupNameInput) error {
	if err := in.check(); err != nil {
		return err
	}
	return h.groups.SetRetention(ctx, *in.LogGroupName, 0, h.heldSince(*in.LogGroupName))
}
