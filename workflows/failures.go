package workflows

import (
	"errors"
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/internal/domain"
)

// businessKind extracts the domain kind of a refusal raised by an activity.
func businessKind(err error) domain.Kind {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() && !permanentFailure(err) {
		return domain.Kind(appErr.Type())
	}
	return ""
}

// permanentFailure reports a step that failed for a reason that is not a
// business refusal but can never succeed, such as a value Postgres refuses
// (the worker classifies these; see worker.permanentFailures).
func permanentFailure(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == string(domain.KindInternal)
}

func (w *amendment) endsOnPermanentFailure(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeEndOnPermanentFailure, workflow.DefaultVersion, 1) == 1
}

// endOnPermanentFailure settles an amendment whose step failed for good and
// returns err, which fails the workflow so operators see its cause. An
// amendment still open in Postgres becomes FAILED, which frees its contract
// for other changes, and the callers waiting on it are told it failed. One
// that was already applied (its payment capture is what failed) is answered
// as it stands: the change was made, and a retry must not make it again.
func (w *amendment) endOnPermanentFailure(ctx workflow.Context, err error) error {
	if !w.endsOnPermanentFailure(ctx) {
		return err
	}
	if w.out.Amendment == nil || slices.Contains(domain.OpenStatuses, w.status()) {
		w.out.ErrorKind, w.out.ErrorFault, w.out.ErrorMessage = domain.KindInternal, "", internalFailureMessage
	}
	if slices.Contains(domain.OpenStatuses, w.status()) {
		note := internalFailureMessage
		if failErr := w.transition(ctx, domain.StatusFailed, systemActor, &note); failErr != nil {
			return errors.Join(err, failErr)
		}
	}
	w.settled = true
	return err
}

// internalFailure is the error update callers get once the amendment failed
// for good, or nil.
func (w *amendment) internalFailure() error {
	if w.out.ErrorKind != domain.KindInternal {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(w.out.ErrorMessage, string(domain.KindInternal), nil)
}

// businessFault extracts the crossgrade fault a refusal carries, if any.
func businessFault(err error) domain.Fault {
	var appErr *temporal.ApplicationError
	var fault domain.Fault
	if errors.As(err, &appErr) && appErr.HasDetails() && appErr.Details(&fault) == nil {
		return fault
	}
	return ""
}

func applicationMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
