package flow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// Only the API decides. Temporal's frontend accepts an Update from any client
// that reaches it (the Web UI, the CLI), with whatever actor its payload
// names; keys, roles and tenants are checked in the API alone. So the API
// signs each Update it sends with a key the workers share (UpdateKey), and
// the workflow's validator refuses an Update whose signature is missing,
// wrong or expired. The signature rides in the Update's header (see
// GrantPropagator), covers the workflow (hence the amendment), the Update's
// name, the actor, its argument and an expiry, and is checked against
// workflow.Now: one read from a workflow's history is useless once GrantTTL
// has passed, and useless for any other amendment, Update, actor or
// argument at any time (a probe replayed an approval's signature, read
// from history, with another decision's body).
// Validators do not run on replay, so histories recorded before this replay
// as they were. The workflows package holds the check (its interceptor).

// GrantTTL is how long the API's signature on an Update stays valid: long
// enough for a worker restart between the request and its validation.
const GrantTTL = 5 * time.Minute

// UpdateKey signs and verifies Updates (CONTRACTD_UPDATE_KEY).
type UpdateKey []byte

// UpdateGrant is the API's signature on one Update.
type UpdateGrant struct {
	ActorID string
	Expires time.Time
	MAC     []byte
}

// Grant signs an Update named update to workflowID on behalf of actorID,
// with arg its argument (nil for an Update without one).
func (k UpdateKey) Grant(workflowID, update, actorID string, arg any, now time.Time) UpdateGrant {
	expires := now.Add(GrantTTL).UTC()
	return UpdateGrant{ActorID: actorID, Expires: expires, MAC: k.mac(workflowID, update, actorID, arg, expires)}
}

func (k UpdateKey) mac(workflowID, update, actorID string, arg any, expires time.Time) []byte {
	// A JSON array keeps the fields apart whatever they contain. The
	// argument is signed as its JSON, the encoding Temporal carries it in:
	// the validator, given it decoded into the same type, encodes the same.
	body, _ := json.Marshal(arg)
	digest := sha256.Sum256(body)
	msg, _ := json.Marshal([]string{workflowID, update, actorID, expires.UTC().Format(time.RFC3339Nano), hex.EncodeToString(digest[:])})
	h := hmac.New(sha256.New, k)
	h.Write(msg)
	return h.Sum(nil)
}

// Verify says why grant does not authorise the Update with argument arg,
// or nil. An empty actorID accepts the grant's own actor (for Updates that
// name none).
func (k UpdateKey) Verify(grant *UpdateGrant, workflowID, update, actorID string, arg any, now time.Time) error {
	switch {
	case len(k) == 0:
		return errors.New("this worker has no key to check Updates with")
	case grant == nil:
		return errors.New("the Update is not signed by the API")
	case actorID != "" && grant.ActorID != actorID:
		return errors.New("the Update's signature is for another actor")
	case !hmac.Equal(grant.MAC, k.mac(workflowID, update, grant.ActorID, arg, grant.Expires)):
		return errors.New("the Update's signature is not valid")
	case !now.Before(grant.Expires):
		return errors.New("the Update's signature has expired")
	}
	return nil
}

type grantContextKey struct{}

// WithUpdateGrant attaches grant to the Updates sent with ctx. Client signs
// its own Updates; tests that send Updates directly use this.
func WithUpdateGrant(ctx context.Context, grant UpdateGrant) context.Context {
	return context.WithValue(ctx, grantContextKey{}, grant)
}

// UpdateGrantOf is the grant an Update's validator was sent with, or nil.
func UpdateGrantOf(ctx workflow.Context) *UpdateGrant {
	grant, _ := ctx.Value(grantContextKey{}).(*UpdateGrant)
	return grant
}

// grantHeader names the Update header that carries the API's signature.
const grantHeader = "contractd-update-grant"

// GrantPropagator carries an UpdateGrant from the API's context into the
// Update's header, and from there into the context the workflow's Update
// validator is given. Register it on every client (API and worker).
type GrantPropagator struct{}

var _ workflow.ContextPropagator = GrantPropagator{}

// Inject writes the context's grant, if any, into the header.
func (GrantPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	grant, ok := ctx.Value(grantContextKey{}).(UpdateGrant)
	if !ok {
		return nil
	}
	payload, err := converter.GetDefaultDataConverter().ToPayload(grant)
	if err != nil {
		return err
	}
	w.Set(grantHeader, payload)
	return nil
}

// Extract leaves activities alone: they have no use for a grant.
func (GrantPropagator) Extract(ctx context.Context, _ workflow.HeaderReader) (context.Context, error) {
	return ctx, nil
}

// InjectFromWorkflow passes nothing on: workflows send no Updates.
func (GrantPropagator) InjectFromWorkflow(workflow.Context, workflow.HeaderWriter) error { return nil }

// ExtractToWorkflow gives an Update's validator the grant it was sent with,
// and only that one. It sets one even when the header has none (or one it
// cannot read): an Update's context derives from the workflow's, which holds
// the grant sent with the start of an Update-with-Start, and that grant
// must not pass for another Update's.
func (GrantPropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	var grant *UpdateGrant
	if payload, ok := r.Get(grantHeader); ok {
		grant = &UpdateGrant{}
		if converter.GetDefaultDataConverter().FromPayload(payload, grant) != nil {
			grant = nil // the validator refuses it as unsigned
		}
	}
	return workflow.WithValue(ctx, grantContextKey{}, grant), nil
}
