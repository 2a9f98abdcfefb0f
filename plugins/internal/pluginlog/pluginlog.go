package pluginlog

import (
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// LevelTrace is the slog level of hclog's Trace messages.
const LevelTrace = slog.LevelDebug - 4

// timestampFormat is the layout go-plugin's host parses "@timestamp" with.
const timestampFormat = "2006-01-02T15:04:05.000000Z07:00"

// NewHandler returns a slog.Handler that writes one JSON object per record
// in hclog's format ("@level", "@message", "@timestamp" and the record's
// attributes), so a go-plugin host that reads the plugin's standard error
// logs each record at its level instead of as raw text.
func NewHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(timestampFormat))
			case slog.LevelKey:
				lv, _ := a.Value.Any().(slog.Level)
				return slog.String("@level", levelName(lv))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	})
}

// levelName maps a slog level to hclog's level names.
func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

// HCLog returns an hclog.Logger that writes to l. A nil l discards
// everything. Trace messages are logged at Debug (slog's convenience methods
// have no trace level); SetLevel is ignored because the slog handler owns
// the level, and the Is* methods report true so that callers never skip a
// message the handler would have kept.
func HCLog(l *slog.Logger) hclog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &adapter{l: l}
}

type adapter struct {
	l       *slog.Logger
	name    string
	implied []any
}

var _ hclog.Logger = (*adapter)(nil)

func (a *adapter) Log(level hclog.Level, msg string, args ...any) {
	switch level {
	case hclog.Off:
	case hclog.NoLevel, hclog.Trace, hclog.Debug:
		a.l.Debug(msg, args...)
	case hclog.Info:
		a.l.Info(msg, args...)
	case hclog.Warn:
		a.l.Warn(msg, args...)
	default:
		a.l.Error(msg, args...)
	}
}

func (a *adapter) Trace(msg string, args ...any) { a.l.Debug(msg, args...) }
func (a *adapter) Debug(msg string, args ...any) { a.l.Debug(msg, args...) }
func (a *adapter) Info(msg string, args ...any)  { a.l.Info(msg, args...) }
func (a *adapter) Warn(msg string, args ...any)  { a.l.Warn(msg, args...) }
func (a *adapter) Error(msg string, args ...any) { a.l.Error(msg, args...) }

func (a *adapter) IsTrace() bool { return true }
func (a *adapter) IsDebug() bool { return true }
func (a *adapter) IsInfo() bool  { return true }
func (a *adapter) IsWarn() bool  { return true }
func (a *adapter) IsError() bool { return true }

func (a *adapter) ImpliedArgs() []any { return append([]any(nil), a.implied...) }

func (a *adapter) With(args ...any) hclog.Logger {
	return &adapter{l: a.l.With(args...), name: a.name, implied: append(a.ImpliedArgs(), args...)}
}

func (a *adapter) Name() string { return a.name }

func (a *adapter) Named(name string) hclog.Logger {
	if a.name != "" {
		name = a.name + "." + name
	}
	return a.ResetNamed(name)
}

func (a *adapter) ResetNamed(name string) hclog.Logger {
	return &adapter{l: a.l.With("logger", name), name: name, implied: a.ImpliedArgs()}
}

func (a *adapter) SetLevel(hclog.Level) {}

func (a *adapter) GetLevel() hclog.Level { return hclog.Trace }

func (a *adapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(opts), "", 0)
}

func (a *adapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writer{a}
}

// writer logs each Write as one Info message (trailing newline removed).
type writer struct{ a *adapter }

func (w writer) Write(p []byte) (int, error) {
	w.a.l.Info(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
