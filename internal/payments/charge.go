package payments

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retry is how a charge retries a provider call that failed transiently:
// Attempts tries in all (0: until the context ends), waiting Initial, then
// twice as long each time, at most Max.
type Retry struct {
	Attempts int
	Initial  time.Duration
	Max      time.Duration
}

// do calls f until it succeeds, is refused (a refusal would be refused
// again), runs out of attempts or ctx ends; it returns f's last error.
func (r Retry) do(ctx context.Context, f func() error) error {
	wait := r.Initial
	for attempt := 1; ; attempt++ {
		err := f()
		var refusal *Error
		if err == nil || errors.As(err, &refusal) || (r.Attempts > 0 && attempt >= r.Attempts) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, r.Max)
	}
}

// ErrUnsettled is a charge that left its authorisation open: its capture
// failed and so did the void, so it must be repeated until one of them is
// made.
var ErrUnsettled = errors.New("an authorisation is left open")

// ChargeRetry is how the steps of a Charge are retried.
type ChargeRetry struct {
	// Call retries an authorisation and a capture, which may give up.
	Call Retry
	// Void retries the void of an authorisation whose capture failed; it
	// must happen, so it should retry until the context ends.
	Void Retry
}

// Charge takes an amount from a payment method in one go: it authorises the
// amount, captures it, and voids the authorisation when the capture cannot
// be made, so every authorisation it makes is settled once. Its steps' keys
// are key plus "/authorise", "/capture" and "/void", so a charge repeated
// with the same key (a retried batch after a crash) replays the provider's
// answers and moves money once.
//
// It returns the capture; a refusal (*Error, CodeDeclined when the payment
// method was refused); or another error when the provider did not answer
// through every retry (ErrUnavailable among them), ErrUnsettled among it
// when the void failed too.
func Charge(ctx context.Context, p Provider, key string, req AuthoriseRequest, retry ChargeRetry) (Capture, error) {
	var auth Authorisation
	if err := retry.Call.do(ctx, func() (err error) {
		auth, err = p.Authorise(ctx, key+"/authorise", req)
		return err
	}); err != nil {
		return Capture{}, err
	}
	var capture Capture
	captureErr := retry.Call.do(ctx, func() (err error) {
		capture, err = p.Capture(ctx, key+"/capture", auth.ID, req.Amount)
		return err
	})
	if captureErr == nil {
		return capture, nil
	}
	if err := retry.Void.do(ctx, func() error {
		_, err := p.Void(ctx, key+"/void", auth.ID)
		return err
	}); err != nil {
		return Capture{}, fmt.Errorf("%w: void authorisation %s after a failed capture (%w): %w", ErrUnsettled, auth.ID, captureErr, err)
	}
	return Capture{}, captureErr
}
