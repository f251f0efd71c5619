package rules

import (
	"slices"
	"sync"
)

// maxCachedTenants bounds a Cache: past it, the cache starts again empty.
const maxCachedTenants = 1024

// Cache keeps each tenant's stored rules compiled, so that a change does not
// compile them again while nothing changed: compiling is the costly part of
// applying rules, and it runs while the contract is locked.
type Cache struct {
	mu      sync.Mutex
	tenants map[string]cachedSet
}

type cachedSet struct {
	rules []Rule
	set   *Set
}

// CompileStored is CompileStored of the package for tenant's rules, compiled
// again only when they differ from the ones compiled last for tenant. A Set
// is read-only, so callers share it.
func (c *Cache) CompileStored(tenant string, list []Rule) (*Set, error) {
	c.mu.Lock()
	held, ok := c.tenants[tenant]
	c.mu.Unlock()
	if ok && slices.Equal(held.rules, list) {
		return held.set, nil
	}
	// The set holds the rules it matches; a copy keeps them the ones compared.
	list = slices.Clone(list)
	set, err := CompileStored(list)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tenants == nil || len(c.tenants) >= maxCachedTenants {
		c.tenants = map[string]cachedSet{}
	}
	c.tenants[tenant] = cachedSet{rules: list, set: set}
	return set, nil
}
