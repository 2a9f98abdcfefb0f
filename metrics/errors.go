package metrics

import "errors"

// Sentinel errors every provider returns (wrapped) for the two result shapes
// that are not one number.
var (
	// ErrNoValues is Flagger's "no values found": an empty result or NaN.
	ErrNoValues = errors.New("no values found")
	// ErrMultipleValues is returned for a matrix or a vector with several series.
	ErrMultipleValues = errors.New("query returned multiple values")
	// ErrUnknownProvider is returned by the registry for a type it does not know.
	ErrUnknownProvider = errors.New("unknown metrics provider")
)
