package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// FuzzDDCMSPathParams sends arbitrary client prefixes, contract ids and
// comments through the real router, authentication included, with a valid
// key. Every answer must be a refusal (400 or 404), never a panic or a 500.
// A request that names the key's own tenant and a well-formed GUID would go
// on to start a workflow, which is the integration tests' business; the
// fuzzer skips those.
func FuzzDDCMSPathParams(f *testing.F) {
	ctx := context.Background()
	s, err := store.Open(ctx, testdb.Empty(f))
	require.NoError(f, err)
	f.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(ctx)
	require.NoError(f, err)
	const prefix = "FZ"
	key, err := auth.NewKey(prefix)
	require.NoError(f, err)
	_, err = s.CreateTenant(ctx, store.Tenant{Prefix: prefix, Name: "Fuzz"},
		[]store.NewKey{{Key: key, ActorID: uuid.NewString(), Roles: []auth.Role{auth.RoleSubmitter}}})
	require.NoError(f, err)
	router := api.NewRouter(api.Deps{Store: s, Logger: quiet})

	id := uuid.NewString()
	f.Add(prefix, "not-a-guid", "", false)
	f.Add("fz", id[:35], "paid by bank transfer", true)
	f.Add("OTHER", id, "", false)
	f.Add(prefix, "{"+id+"}x", strings.Repeat("é", 1001), true)
	f.Add("F/Z", "..", "%00", true)
	f.Add("", "", "", false)
	f.Fuzz(func(t *testing.T, clientPrefix, contractID, comment string, restart bool) {
		if _, err := uuid.Parse(contractID); err == nil && strings.EqualFold(clientPrefix, prefix) {
			return
		}
		action := "cancelSchedule"
		if restart {
			action = "restartSchedule"
		}
		segments := []string{"api", "v3", "client", clientPrefix, "contract", contractID, action}
		escaped := make([]string, len(segments))
		for i, s := range segments {
			escaped[i] = url.PathEscape(s)
		}
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.URL = &url.URL{
			Path: "/" + strings.Join(segments, "/"), RawPath: "/" + strings.Join(escaped, "/"),
			RawQuery: url.Values{"comment": {comment}}.Encode(),
		}
		req.Header.Set("apiKey", key)
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusNotFound {
			t.Fatalf("%s: %d %s", req.URL, rec.Code, rec.Body)
		}
	})
}
