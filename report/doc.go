// Package report renders augur's answers as one self-contained HTML page: a
// replay (every tick), one decision (analyze, POST /v1/report) or an
// `augur test` run. The page is a document, not an application: every check
// of every tick is in the HTML itself, charts are SVG drawn here from the
// same values the JSON output carries, the CSS is inline, there is no
// script, and a Content-Security-Policy forbids any network access.
//
// It reads the decision types of package analysis (and the judges' evidence
// in analysis/judges) and nothing else of augur: it must not import engine,
// backends, transports or cobra. Callers convert their results into a Replay
// or TestRun and call Write.
package report
