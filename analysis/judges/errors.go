package judges

import "errors"

// Sentinel errors. Every error the package returns wraps one of these and
// names the key, field or side it is about.
var (
	// ErrUnknownKey is returned by ParseConfig for a key it does not know.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalidValue is returned for a configuration value that does not parse or is out of range.
	ErrInvalidValue = errors.New("invalid value")
	// ErrNotApplicable is returned for a configuration key the chosen judge does not use.
	ErrNotApplicable = errors.New("does not apply to this judge")
	// ErrNoData is returned by the low-level tests when a side has no usable data.
	ErrNoData = errors.New("no data")
	// ErrInvalidInput is returned for input data that cannot be judged (NaN, negative counts, malformed buckets, …).
	ErrInvalidInput = errors.New("invalid input")
)

// isNoData reports whether err wraps ErrNoData.
func isNoData(err error) bool { return errors.Is(err, ErrNoData) }
