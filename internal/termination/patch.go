package termination

import (
	"errors"
	"fmt"

	"github.com/contractd/contractd/internal/domain"
)

// Patch item types.
const (
	PatchCreate = "create"
	PatchUpdate = "update"
	PatchDelete = "delete"
)

// Patch is the seed's PATCH envelope. Items under contractTerminations
// change terminations (update and delete default to the one in the path);
// items under contractTerminationPeriodCharges change the path
// termination's charges. Terminations are applied first, then charges, each
// list in order.
type Patch struct {
	// Details is in the seed's envelope but carries nothing for this
	// resource; strict decoding keeps it empty.
	Details                          struct{}                   `json:"details"`
	ContractTerminations             PatchList[TerminationItem] `json:"contractTerminations"`
	ContractTerminationPeriodCharges PatchList[ChargeItem]      `json:"contractTerminationPeriodCharges"`
}

// PatchList is one list of a patch's items.
type PatchList[T patchItem] struct {
	Items []T `json:"items"`
}

type patchItem interface{ header() PatchHeader }

// PatchHeader addresses a patch item: update and delete name an existing
// row by its identity; patchClientId is the client's correlation id for a
// create (so it can find the identity it got), optional on the others and
// echoed whenever given.
type PatchHeader struct {
	PatchType     string `json:"patchType"`
	PatchClientID *int64 `json:"patchClientId"`
	Identity      *int64 `json:"identity"`
}

// clientID is the item's patchClientId, 0 when it sent none.
func (h PatchHeader) clientID() int64 {
	if h.PatchClientID == nil {
		return 0
	}
	return *h.PatchClientID
}

func (h PatchHeader) header() PatchHeader { return h }

// TerminationItem may carry penaltyServiceName back, ignored like every
// read-only field.
type TerminationItem struct {
	PatchHeader
	Fields
	PenaltyServiceName *string `json:"penaltyServiceName"`
}

// ChargeItem is a patch item that changes one of the path termination's charges.
type ChargeItem struct {
	PatchHeader
	ChargeFields
}

// Check finds the patch's structural problems, all at once, before anything
// is written; the values themselves are checked as each item is applied.
func (p Patch) Check() error {
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
		case PatchCreate:
			if h.Identity != nil {
				probs.Addf("%s: identity is assigned by the service; a create item must not carry one", at)
			}
		case PatchUpdate, PatchDelete:
			if h.Identity == nil && identityRequired {
				probs.Addf("%s: identity is required to %s", at, h.PatchType)
			}
		default:
			probs.Addf("%s: patchType %q must be create, update or delete", at, h.PatchType)
		}
		switch id := h.clientID(); {
		case h.PatchClientID == nil && h.PatchType == PatchCreate:
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
