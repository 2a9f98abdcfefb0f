package splunk

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// point is one value of one time series (TSID) in a data message.
type point struct {
	tsid  int64
	value float64
}

// Binary data messages: a 20-byte header (version, message type, flags,
// reserved, the channel name NUL-padded to 16 bytes), then — gzip'd when
// flags has bit 0 — the timestamp (uint64 ms) and a count (uint32) of
// 17-byte points: value type (1 long, 2 double, 3 int32), TSID (int64) and
// 8 value bytes, all big-endian.
const (
	headerLen     = 20
	flagGzip      = 1
	flagJSON      = 2
	dataHeaderLen = 12
	pointLen      = 17
)

// parseData reads one binary message. Points of a value type SignalFlow
// does not define are skipped (the signalflow client's Value() is nil for
// them, and Flagger drops them).
func parseData(msg []byte) (string, []point, error) {
	if len(msg) <= headerLen {
		return "", nil, fmt.Errorf("SignalFlow binary message of %d bytes (want more than %d)", len(msg), headerLen)
	}
	name := msg[4:headerLen]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	flags, rest := msg[2], msg[headerLen:]
	if flags&flagGzip != 0 {
		zr, err := gzip.NewReader(bytes.NewReader(rest))
		if err != nil {
			return "", nil, fmt.Errorf("SignalFlow data message: %w", err)
		}
		rest, err = io.ReadAll(io.LimitReader(zr, maxMessage+1))
		if err != nil {
			return "", nil, fmt.Errorf("SignalFlow data message: %w", err)
		}
		if len(rest) > maxMessage {
			return "", nil, fmt.Errorf("SignalFlow data message larger than %d bytes uncompressed", maxMessage)
		}
	}
	if flags&flagJSON != 0 {
		return "", nil, fmt.Errorf("SignalFlow sent a JSON-encoded binary message (not requested)")
	}
	if len(rest) < dataHeaderLen {
		return "", nil, fmt.Errorf("SignalFlow data message of %d bytes has no data header", len(rest))
	}
	n := binary.BigEndian.Uint32(rest[8:12])
	body := rest[dataHeaderLen:]
	if uint64(len(body)) < uint64(n)*pointLen {
		return "", nil, fmt.Errorf("SignalFlow data message announces %d points in %d bytes", n, len(body))
	}
	pts := make([]point, 0, n)
	for i := range int(n) {
		b := body[i*pointLen : (i+1)*pointLen]
		p := point{tsid: int64(binary.BigEndian.Uint64(b[1:9]))}
		raw := b[9:17]
		switch b[0] {
		case 1:
			p.value = float64(int64(binary.BigEndian.Uint64(raw)))
		case 2:
			p.value = math.Float64frombits(binary.BigEndian.Uint64(raw))
		case 3:
			p.value = float64(int32(binary.BigEndian.Uint32(raw[:4])))
		default:
			continue
		}
		pts = append(pts, p)
	}
	return string(name), pts, nil
}

func insecureTLS() *tls.Config {
	//nolint:gosec // insecureSkipVerify is the MetricTemplate's explicit provider.insecureSkipVerify.
	return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
}
