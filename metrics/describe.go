package metrics

// Request describes, without sending it, what a provider sends for one
// query: what `augur render` prints for a vendor template. It never holds a
// credential (headers are not described; the URL is redacted).
type Request struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Body is the request body, if any.
	Body string `json:"body,omitempty"`
	// Window says how the time range is chosen relative to the evaluation
	// time t (the parameters that carry it are left out of URL).
	Window string `json:"window"`
}

// Describer is implemented by providers that can describe their request.
type Describer interface {
	Describe(query string) (Request, error)
}
