package recorded

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/augurproj/augur/metrics"
)

// Type is the provider type name under which recorded data is registered.
const Type = "recorded"

// Cache builds recorded providers from metrics.Config values and loads each
// data file once: cfg.Address is the path of an OpenMetrics text file (or a
// file:// URL), relative paths are resolved against the working directory,
// and every Config naming the same file shares one Store. Providers are
// shared per file and cfg.Timeout. Headers and credentials are ignored (a
// file has no authentication). A file is read on first use and never
// re-read; make a new Cache to pick up changes. A Cache is safe for
// concurrent use.
type Cache struct {
	opts Options

	mu        sync.Mutex
	stores    map[string]*Store
	providers map[cacheKey]*Provider
}

type cacheKey struct {
	path    string
	timeout time.Duration
}

// NewCache returns an empty Cache whose providers use opts (cfg.Timeout, when
// set, overrides opts.Timeout).
func NewCache(opts Options) *Cache {
	return &Cache{opts: opts, stores: map[string]*Store{}, providers: map[cacheKey]*Provider{}}
}

// Register adds the recorded type to r, backed by a new Cache, and returns the cache.
func Register(r *metrics.Registry, opts Options) *Cache {
	c := NewCache(opts)
	r.Register(Type, c.New)
	return c
}

// New is a metrics.Constructor: it returns the provider for the file cfg.Address names.
func (c *Cache) New(cfg metrics.Config) (metrics.Provider, error) {
	path, err := dataPath(cfg.Address)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := cacheKey{path: path, timeout: cfg.Timeout}
	if p, ok := c.providers[key]; ok {
		return p, nil
	}
	store, ok := c.stores[path]
	if !ok {
		if store, err = LoadFile(path); err != nil {
			return nil, err
		}
		c.stores[path] = store
	}
	opts := c.opts
	if cfg.Timeout > 0 {
		opts.Timeout = cfg.Timeout
	}
	p := New(store, opts)
	c.providers[key] = p
	return p, nil
}

// dataPath turns a provider address into a clean absolute file path.
func dataPath(address string) (string, error) {
	path := address
	if rest, ok := strings.CutPrefix(address, "file://"); ok {
		path = rest
	} else if strings.Contains(address, "://") {
		return "", fmt.Errorf("recorded address %q is not a file path (want the path of an OpenMetrics file)", address)
	}
	if path == "" {
		return "", errors.New("recorded address is empty (want the path of an OpenMetrics file)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("recorded address %q: %w", address, err)
	}
	return abs, nil
}
