package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// The Contract/Termination v5 surface (seed: contract-termination-v5.txt):
// early-termination penalty definitions and their period charges. They are
// reference data, like the catalog, so handlers write them through the store
// directly, each request in one transaction, rather than through a workflow.
//
// Store calls take c.Request.Context(), never c: gin recycles its Context
// once a handler returns, while database/sql may still read the context from
// a goroutine of its own.

const (
	dtoTermination = "contractTermination"
	dtoCharge      = "contractTerminationPeriodCharge"
	// dtoOfferingDefault is the link from a catalog offering to its default
	// termination, detached when the termination is deleted.
	dtoOfferingDefault = "offeringContractTermination"

	v5DefaultPageSize = 20

	patchCreate = "create"
	patchUpdate = "update"
	patchDelete = "delete"
)

func (s *server) registerTerminationRoutes(r *gin.Engine) {
	g := r.Group("/api/v5/Contract/Termination", trackingHeader, s.recoverPanics(v5Errors), s.authenticate(v5Errors), tenantWide(v5Errors))
	operator := requireRole(auth.RoleOperator, v5Errors)
	// The seed writes paths with a trailing slash and clients send either;
	// serving both spares them gin's redirect, which not every client
	// follows for a write.
	handle := func(method, path string, handlers ...gin.HandlerFunc) {
		g.Handle(method, path, handlers...)
		g.Handle(method, path+"/", handlers...)
	}
	handle(http.MethodGet, "", s.listTerminations)
	handle(http.MethodGet, "/Paged", s.pagedTerminations(false))
	handle(http.MethodGet, "/Paged/Detail", s.pagedTerminations(true))
	handle(http.MethodGet, "/:id", s.getTermination(false))
	handle(http.MethodGet, "/:id/Detail", s.getTermination(true))
	handle(http.MethodPost, "", operator, s.createTermination)
	handle(http.MethodPut, "/:id", operator, s.putTermination)
	handle(http.MethodPatch, "/:id", operator, s.patchTermination)
	handle(http.MethodDelete, "/:id", operator, s.deleteTermination)
}

// trackingID is the v5 name of the request id, so the access log and error
// logs record it (as requestId) along with every answer.
func trackingID(c *gin.Context) string { return c.GetString(requestIDKey) }

func trackingHeader(c *gin.Context) {
	c.Header("X-Tracking-Id", trackingID(c))
	c.Next()
}

// v5Error is the surface's one error body, auth failures included.
type v5Error struct {
	TrackingID string   `json:"trackingId"`
	Message    string   `json:"message"`
	Problems   []string `json:"problems,omitempty"`
}

func v5Errors(c *gin.Context, status int, message string) {
	c.JSON(status, v5Error{TrackingID: trackingID(c), Message: message})
}

func (s *server) failV5(c *gin.Context, err error) {
	f := s.classify(c, err)
	c.JSON(f.Status, v5Error{TrackingID: trackingID(c), Message: f.Message, Problems: f.Problems})
}

// counted is the surface's {totalCount, items} list.
type counted[T any] struct {
	TotalCount int `json:"totalCount"`
	Items      []T `json:"items"`
}

func countAll[T any](items []T) counted[T] {
	return counted[T]{TotalCount: len(items), Items: nonNil(items)}
}

// terminationView is a termination as the surface shows it; only the Detail
// endpoints fill Details.
type terminationView struct {
	domain.Termination
	Details *terminationDetails `json:"details,omitempty"`
}

// terminationDetails holds a termination's children the way the seed's
// Detail samples place them.
type terminationDetails struct {
	ContractTerminationPeriodCharges counted[domain.TerminationCharge] `json:"contractTerminationPeriodCharges"`
}

type listResponse struct {
	TrackingID string `json:"trackingId"`
	counted[terminationView]
}

type pagination struct {
	PageNumber        int  `json:"pageNumber"`
	PageSize          int  `json:"pageSize"`
	ExcludeTotalCount bool `json:"excludeTotalCount"`
}

type pagedResponse struct {
	TrackingID   string       `json:"trackingId"`
	Pagination   pagination   `json:"pagination"`
	PagedResults pagedResults `json:"pagedResults"`
}

type pagedResults struct {
	TotalCount *int              `json:"totalCount,omitempty"`
	Items      []terminationView `json:"items"`
}

type instanceResponse struct {
	TrackingID string          `json:"trackingId"`
	Instance   terminationView `json:"instance"`
}

type writeResponse struct {
	TrackingID string       `json:"trackingId"`
	Type       string       `json:"type"`
	Results    counted[any] `json:"results"`
}

// writeResult is one change a write made. Detached links are named by their
// two ends, as the seed's delete sample does; patchClientId echoes the patch
// item that caused the change.
type writeResult struct {
	Identity      int64  `json:"identity,omitempty"`
	LHSID         string `json:"lhsId,omitempty"`
	RHSID         int64  `json:"rhsId,omitempty"`
	Action        string `json:"action"`
	DTOTypeKey    string `json:"dtoTypeKey"`
	PatchClientID int64  `json:"patchClientId,omitempty"`
	Instance      any    `json:"instance,omitempty"`
}

func (s *server) listTerminations(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), principal(c).TenantID
	items, err := s.Store.Terminations(ctx, tenantID, 0, 0)
	if err != nil {
		s.failV5(c, err)
		return
	}
	views, err := s.terminationViews(ctx, tenantID, items, false)
	if err != nil {
		s.failV5(c, err)
		return
	}
	c.JSON(http.StatusOK, listResponse{TrackingID: trackingID(c), counted: countAll(views)})
}

func (s *server) pagedTerminations(withDetails bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		page, err := paginationParams(c)
		if err != nil {
			s.failV5(c, err)
			return
		}
		ctx, tenantID := c.Request.Context(), principal(c).TenantID
		items, err := s.Store.Terminations(ctx, tenantID, page.offset(), page.PageSize)
		if err != nil {
			s.failV5(c, err)
			return
		}
		views, err := s.terminationViews(ctx, tenantID, items, withDetails)
		if err != nil {
			s.failV5(c, err)
			return
		}
		resp := pagedResponse{TrackingID: trackingID(c), Pagination: page, PagedResults: pagedResults{Items: nonNil(views)}}
		if !page.ExcludeTotalCount {
			total, err := s.Store.CountTerminations(ctx, tenantID)
			if err != nil {
				s.failV5(c, err)
				return
			}
			resp.PagedResults.TotalCount = &total
		}
		c.JSON(http.StatusOK, resp)
	}
}

func (s *server) getTermination(withDetails bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := terminationIDParam(c)
		if err != nil {
			s.failV5(c, err)
			return
		}
		ctx, tenantID := c.Request.Context(), principal(c).TenantID
		t, err := s.Store.Termination(ctx, tenantID, id)
		if err != nil {
			s.failV5(c, terminationNotFound(err, id))
			return
		}
		views, err := s.terminationViews(ctx, tenantID, []domain.Termination{t}, withDetails)
		if err != nil {
			s.failV5(c, err)
			return
		}
		c.JSON(http.StatusOK, instanceResponse{TrackingID: trackingID(c), Instance: views[0]})
	}
}

// terminationViews names each termination's penalty service from the catalog
// and, when asked, attaches its period charges.
func (s *server) terminationViews(ctx context.Context, tenantID string, items []domain.Termination, withDetails bool) ([]terminationView, error) {
	cat, err := s.Store.Catalog(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var charges map[int64][]domain.TerminationCharge
	if withDetails {
		ids := make([]int64, len(items))
		for i, t := range items {
			ids[i] = t.ID
		}
		if charges, err = s.Store.ChargesByTermination(ctx, tenantID, ids); err != nil {
			return nil, err
		}
	}
	views := make([]terminationView, len(items))
	for i, t := range items {
		views[i] = terminationView{Termination: withServiceName(&cat, t)}
		if withDetails {
			views[i].Details = &terminationDetails{ContractTerminationPeriodCharges: countAll(charges[t.ID])}
		}
	}
	return views, nil
}

func withServiceName(cat *domain.Catalog, t domain.Termination) domain.Termination {
	ps, _ := cat.PenaltyService(t.PenaltyServiceID)
	t.PenaltyServiceName = ps.Name
	return t
}

// paginationParams reads pageNumber, pageSize and excludeTotalCount; an empty
// or absent value takes its default.
func paginationParams(c *gin.Context) (pagination, error) {
	page := pagination{PageNumber: 1, PageSize: v5DefaultPageSize}
	var p domain.Problems
	if raw := c.Query("pageNumber"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			p.Addf("pageNumber %q must be a whole number of at least 1", raw)
		}
		page.PageNumber = n
	}
	if raw := c.Query("pageSize"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageSize {
			p.Addf("pageSize %q must be a whole number from 1 to %d", raw, maxPageSize)
		}
		page.PageSize = n
	}
	if raw := c.Query("excludeTotalCount"); raw != "" {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			p.Addf("excludeTotalCount %q must be true or false", raw)
		}
		page.ExcludeTotalCount = b
	}
	return page, p.Err()
}

// offset saturates instead of overflowing: any page past the end is empty.
func (p pagination) offset() int64 {
	if int64(p.PageNumber-1) > math.MaxInt64/int64(p.PageSize) {
		return math.MaxInt64
	}
	return int64(p.PageNumber-1) * int64(p.PageSize)
}

func terminationIDParam(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, domain.Errorf(domain.KindInvalid, "id", "the contract termination id %q is not a positive whole number", c.Param("id"))
	}
	return id, nil
}

func terminationNotFound(err error, id int64) error {
	return notFoundAs(err, "contract termination %d does not exist", id)
}

// terminationFields are a termination's writable fields; a PATCH update
// changes only those present.
type terminationFields struct {
	PenaltyServiceID *int64  `json:"penaltyServiceId"`
	Name             *string `json:"name"`
}

func (f terminationFields) requireAll() error {
	var p domain.Problems
	if f.PenaltyServiceID == nil {
		p.Addf("penaltyServiceId is required")
	}
	if f.Name == nil {
		p.Addf("name is required")
	}
	return p.Err()
}

func (f terminationFields) applyTo(t domain.Termination) domain.Termination {
	if f.PenaltyServiceID != nil {
		t.PenaltyServiceID = *f.PenaltyServiceID
	}
	if f.Name != nil {
		t.Name = *f.Name
	}
	return t
}

// chargeFields are a period charge's writable fields; a PATCH update changes
// only those present.
type chargeFields struct {
	StartMonth *int    `json:"startMonth"`
	EndMonth   *int    `json:"endMonth"`
	Amount     *int64  `json:"amount"`
	Currency   *string `json:"currency"`
}

func (f chargeFields) requireAll() error {
	var p domain.Problems
	if f.StartMonth == nil {
		p.Addf("startMonth is required")
	}
	if f.EndMonth == nil {
		p.Addf("endMonth is required")
	}
	if f.Amount == nil {
		p.Addf("amount is required")
	}
	if f.Currency == nil {
		p.Addf("currency is required")
	}
	return p.Err()
}

func (f chargeFields) applyTo(c domain.TerminationCharge) domain.TerminationCharge {
	if f.StartMonth != nil {
		c.StartMonth = *f.StartMonth
	}
	if f.EndMonth != nil {
		c.EndMonth = *f.EndMonth
	}
	if f.Amount != nil {
		c.Amount = *f.Amount
	}
	if f.Currency != nil {
		c.Currency = *f.Currency
	}
	return c
}

// readOnlyFields are what the service fills in on an instance. A client may
// send them back (the seed's PUT sample sends identity; a GET's instance PUT
// back as it was carries them all) and they are ignored, except that an
// identity sent to PUT must name the termination in the path.
type readOnlyFields struct {
	Identity           *int64          `json:"identity"`
	PenaltyServiceName *string         `json:"penaltyServiceName"`
	Details            json.RawMessage `json:"details"`
}

// terminationInstance is a whole termination as POST and PUT take it.
type terminationInstance struct {
	readOnlyFields
	terminationFields
}

func (s *server) createTermination(c *gin.Context) {
	var in terminationInstance
	if err := decodeBody(c, &in); err != nil {
		s.failV5(c, err)
		return
	}
	s.writeTerminations(c, "create", func(tx *terminationTx) error { return tx.create(in.terminationFields, 0) })
}

func (s *server) putTermination(c *gin.Context) {
	id, err := terminationIDParam(c)
	if err != nil {
		s.failV5(c, err)
		return
	}
	var in terminationInstance
	if err := decodeBody(c, &in); err != nil {
		s.failV5(c, err)
		return
	}
	if in.Identity != nil && *in.Identity != id {
		s.failV5(c, domain.Errorf(domain.KindInvalid, "identity", "identity %d does not match the id %d in the path", *in.Identity, id))
		return
	}
	if err := in.requireAll(); err != nil {
		s.failV5(c, err)
		return
	}
	s.writeTerminations(c, "update", func(tx *terminationTx) error { return tx.update(id, in.terminationFields, 0) })
}

func (s *server) deleteTermination(c *gin.Context) {
	id, err := terminationIDParam(c)
	if err != nil {
		s.failV5(c, err)
		return
	}
	s.writeTerminations(c, "delete", func(tx *terminationTx) error { return tx.delete(id, 0) })
}

// terminationPatch is the seed's PATCH envelope. Items under
// contractTerminations change terminations (update and delete default to
// the one in the path); items under contractTerminationPeriodCharges change
// the path termination's charges. Terminations are applied first, then
// charges, each list in order.
type terminationPatch struct {
	// Details is in the seed's envelope but carries nothing for this
	// resource; strict decoding keeps it empty.
	Details                          struct{}                        `json:"details"`
	ContractTerminations             patchList[terminationPatchItem] `json:"contractTerminations"`
	ContractTerminationPeriodCharges patchList[chargePatchItem]      `json:"contractTerminationPeriodCharges"`
}

type patchList[T patchItem] struct {
	Items []T `json:"items"`
}

type patchItem interface{ header() patchHeader }

// patchHeader addresses a patch item: update and delete name an existing
// row by its identity; patchClientId is the client's correlation id for a
// create (so it can find the identity it got), optional on the others and
// echoed whenever given.
type patchHeader struct {
	PatchType     string `json:"patchType"`
	PatchClientID *int64 `json:"patchClientId"`
	Identity      *int64 `json:"identity"`
}

// clientID is the item's patchClientId, 0 when it sent none.
func (h patchHeader) clientID() int64 {
	if h.PatchClientID == nil {
		return 0
	}
	return *h.PatchClientID
}

func (h patchHeader) header() patchHeader { return h }

// terminationPatchItem may carry penaltyServiceName back, ignored like
// every read-only field.
type terminationPatchItem struct {
	patchHeader
	terminationFields
	PenaltyServiceName *string `json:"penaltyServiceName"`
}

type chargePatchItem struct {
	patchHeader
	chargeFields
}

// check finds the patch's structural problems, all at once, before anything
// is written; the values themselves are checked as each item is applied.
func (p terminationPatch) check() error {
	var probs domain.Problems
	checkPatchList(&probs, "contractTerminations", p.ContractTerminations.Items, false)
	checkPatchList(&probs, "contractTerminationPeriodCharges", p.ContractTerminationPeriodCharges.Items, true)
	if len(p.ContractTerminations.Items)+len(p.ContractTerminationPeriodCharges.Items) == 0 {
		probs.Addf("the patch lists no items under contractTerminations or contractTerminationPeriodCharges")
	}
	return probs.Err()
}

func checkPatchList[T patchItem](probs *domain.Problems, list string, items []T, identityRequired bool) {
	clientIDs := map[int64]bool{}
	for i, it := range items {
		h := it.header()
		at := fmt.Sprintf("%s.items[%d]", list, i)
		switch h.PatchType {
		case patchCreate:
			if h.Identity != nil {
				probs.Addf("%s: identity is assigned by the service; a create item must not carry one", at)
			}
		case patchUpdate, patchDelete:
			if h.Identity == nil && identityRequired {
				probs.Addf("%s: identity is required to %s", at, h.PatchType)
			}
		default:
			probs.Addf("%s: patchType %q must be create, update or delete", at, h.PatchType)
		}
		switch id := h.clientID(); {
		case h.PatchClientID == nil && h.PatchType == patchCreate:
			probs.Addf("%s: patchClientId is required to create: it is how the answer tells you which identity your item got", at)
		case h.PatchClientID == nil:
		case id < 1:
			probs.Addf("%s: patchClientId must be a positive number", at)
		case clientIDs[id]:
			probs.Addf("%s: patchClientId %d is used by an earlier item", at, id)
		default:
			clientIDs[id] = true
		}
	}
}

func (s *server) patchTermination(c *gin.Context) {
	id, err := terminationIDParam(c)
	if err != nil {
		s.failV5(c, err)
		return
	}
	var patch terminationPatch
	if err := decodeBody(c, &patch); err != nil {
		s.failV5(c, err)
		return
	}
	if err := patch.check(); err != nil {
		s.failV5(c, err)
		return
	}
	s.writeTerminations(c, "patch", func(tx *terminationTx) error { return tx.patch(id, patch) })
}

// writeTerminations runs apply in one transaction, all or nothing, and
// answers with every change it made.
func (s *server) writeTerminations(c *gin.Context, kind string, apply func(*terminationTx) error) {
	ctx, p := c.Request.Context(), principal(c)
	tx := &terminationTx{}
	err := s.Store.WriteTerminations(ctx, p.TenantID, p.ActorID, func(w *store.TerminationWriter) error {
		tx.w, tx.cat = w, w.Catalog()
		return apply(tx)
	})
	if err != nil {
		s.failV5(c, err)
		return
	}
	c.JSON(http.StatusOK, writeResponse{TrackingID: trackingID(c), Type: kind, Results: countAll(tx.answer(kind))})
}

// answer lists what the request did as the seed's samples show it: POST and
// PUT list the instances themselves, flat; DELETE and PATCH list each change
// with its action and type, a PATCH's with the instance inside.
func (tx *terminationTx) answer(kind string) []any {
	items := make([]any, len(tx.results))
	for i, r := range tx.results {
		items[i] = r
		if kind == "create" || kind == "update" {
			items[i] = r.Instance
		}
	}
	return items
}

// terminationTx applies one request's changes through a store writer,
// validating each against the catalog, and records them for the answer.
// clientID is the patch item's patchClientId, 0 outside a PATCH.
type terminationTx struct {
	w       *store.TerminationWriter
	cat     *domain.Catalog
	results []writeResult
}

func (tx *terminationTx) record(r writeResult) { tx.results = append(tx.results, r) }

func (tx *terminationTx) create(in terminationFields, clientID int64) error {
	if err := in.requireAll(); err != nil {
		return err
	}
	t := in.applyTo(domain.Termination{})
	if err := t.Validate(tx.cat); err != nil {
		return err
	}
	t, err := tx.w.Create(t)
	if err != nil {
		return err
	}
	tx.record(writeResult{Identity: t.ID, Action: "created", DTOTypeKey: dtoTermination, PatchClientID: clientID, Instance: withServiceName(tx.cat, t)})
	return nil
}

func (tx *terminationTx) update(id int64, in terminationFields, clientID int64) error {
	current, err := tx.w.Termination(id)
	if err != nil {
		return terminationNotFound(err, id)
	}
	t := in.applyTo(current)
	if err := t.Validate(tx.cat); err != nil {
		return err
	}
	if err := tx.w.Update(t); err != nil {
		return err
	}
	tx.record(writeResult{Identity: t.ID, Action: "updated", DTOTypeKey: dtoTermination, PatchClientID: clientID, Instance: withServiceName(tx.cat, t)})
	return nil
}

func (tx *terminationTx) delete(id int64, clientID int64) error {
	d, err := tx.w.Delete(id)
	if err != nil {
		return terminationNotFound(err, id)
	}
	tx.record(writeResult{Identity: id, Action: "deleted", DTOTypeKey: dtoTermination, PatchClientID: clientID})
	for _, chargeID := range d.ChargeIDs {
		tx.record(writeResult{Identity: chargeID, Action: "deleted", DTOTypeKey: dtoCharge, PatchClientID: clientID})
	}
	for _, offeringID := range d.DetachedOfferings {
		tx.record(writeResult{LHSID: offeringID, RHSID: id, Action: "detached", DTOTypeKey: dtoOfferingDefault, PatchClientID: clientID})
	}
	return nil
}

func (tx *terminationTx) createCharge(terminationID int64, in chargeFields, clientID int64) error {
	if err := in.requireAll(); err != nil {
		return err
	}
	ch := in.applyTo(domain.TerminationCharge{})
	if err := ch.Validate(tx.cat.MoneyLimits()); err != nil {
		return err
	}
	ch, err := tx.w.CreateCharge(terminationID, ch)
	if err != nil {
		return terminationNotFound(err, terminationID)
	}
	tx.record(writeResult{Identity: ch.ID, Action: "created", DTOTypeKey: dtoCharge, PatchClientID: clientID, Instance: ch})
	return nil
}

func (tx *terminationTx) updateCharge(terminationID, chargeID int64, in chargeFields, clientID int64) error {
	current, err := tx.w.Charge(terminationID, chargeID)
	if err != nil {
		return chargeNotFound(err, terminationID, chargeID)
	}
	ch := in.applyTo(current)
	if err := ch.Validate(tx.cat.MoneyLimits()); err != nil {
		return err
	}
	if err := tx.w.UpdateCharge(terminationID, ch); err != nil {
		return chargeNotFound(err, terminationID, chargeID)
	}
	tx.record(writeResult{Identity: ch.ID, Action: "updated", DTOTypeKey: dtoCharge, PatchClientID: clientID, Instance: ch})
	return nil
}

func (tx *terminationTx) deleteCharge(terminationID, chargeID int64, clientID int64) error {
	if err := tx.w.DeleteCharge(terminationID, chargeID); err != nil {
		return chargeNotFound(err, terminationID, chargeID)
	}
	tx.record(writeResult{Identity: chargeID, Action: "deleted", DTOTypeKey: dtoCharge, PatchClientID: clientID})
	return nil
}

func chargeNotFound(err error, terminationID, chargeID int64) error {
	return notFoundAs(err, "period charge %d of contract termination %d does not exist", chargeID, terminationID)
}

func (tx *terminationTx) patch(pathID int64, p terminationPatch) error {
	if _, err := tx.w.Termination(pathID); err != nil {
		return terminationNotFound(err, pathID)
	}
	for i, it := range p.ContractTerminations.Items {
		id := pathID
		if it.Identity != nil {
			id = *it.Identity
		}
		var err error
		switch it.PatchType {
		case patchCreate:
			err = tx.create(it.terminationFields, it.clientID())
		case patchUpdate:
			err = tx.update(id, it.terminationFields, it.clientID())
		case patchDelete:
			err = tx.delete(id, it.clientID())
		}
		if err != nil {
			return atItem(fmt.Sprintf("contractTerminations.items[%d]", i), err)
		}
	}
	// check has made sure charge updates and deletes carry an identity.
	for i, it := range p.ContractTerminationPeriodCharges.Items {
		var err error
		switch it.PatchType {
		case patchCreate:
			err = tx.createCharge(pathID, it.chargeFields, it.clientID())
		case patchUpdate:
			err = tx.updateCharge(pathID, *it.Identity, it.chargeFields, it.clientID())
		case patchDelete:
			err = tx.deleteCharge(pathID, *it.Identity, it.clientID())
		}
		if err != nil {
			return atItem(fmt.Sprintf("contractTerminationPeriodCharges.items[%d]", i), err)
		}
	}
	return nil
}

// atItem prefixes an error's client-facing text with the patch item it
// concerns, so a client can find it in its request.
func atItem(item string, err error) error {
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		problems := make(domain.Problems, len(ve.Problems))
		for i, p := range ve.Problems {
			problems[i] = item + ": " + p
		}
		return problems.Err()
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return domain.Errorf(de.Kind, de.Field, "%s: %s", item, de.Error())
	}
	return err
}
