package testkit

import (
	"net/http/httptest"
	"time"

	"github.com/contractd/contractd/app"
)

// testBillingRunWait is how long a test's billing run request waits for the run's
// totals.
const testBillingRunWait = time.Minute

// WithBillingRunWait is e with an API of its own whose billing run requests
// wait at most wait for the run's totals (answering 202 after it): Do on the
// copy calls that API; everything else is e's.
func (e *Env) WithBillingRunWait(wait time.Duration) *Env {
	return e.withAPI(func(s *app.Service) { s.BillingRunWait = wait })
}

// WithAmendmentWait is e with an API of its own whose change requests wait
// at most wait for their amendment workflow's answer (answering 202 after it).
func (e *Env) WithAmendmentWait(wait time.Duration) *Env {
	return e.withAPI(func(s *app.Service) { s.AmendmentWait = wait })
}

func (e *Env) withAPI(configure func(*app.Service)) *Env {
	service := *e.service
	configure(&service)
	impatient := *e
	impatient.service, impatient.HTTP = &service, httptest.NewServer(service.Router())
	e.T.Cleanup(impatient.HTTP.Close)
	return &impatient
}

// WithBodyReadTimeout is e with an API of its own whose requests' bodies
// must arrive within timeout of their headers.
func (e *Env) WithBodyReadTimeout(timeout time.Duration) *Env {
	return e.withAPI(func(s *app.Service) { s.BodyReadTimeout = timeout })
}
