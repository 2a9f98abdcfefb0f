package recorded

import (
	"strings"
	"testing"
	"time"
)

func TestParseQueryRange(t *testing.T) {
	answer := `{"status":"success","data":{"resultType":"matrix","result":[
	  {"metric":{"__name__":"up","job":"a"},"values":[[1793527087.5,"1"],[1793527102.5,"0"]]},
	  {"metric":{"__name__":"up","job":"b"},"values":[[1793527090,"NaN"]]}]}}`
	for name, in := range map[string]string{
		"whole answer": answer,
		"data member":  `{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a"},"values":[[1793527087.5,"1"],[1793527102.5,"0"]]},{"metric":{"__name__":"up","job":"b"},"values":[[1793527090,"NaN"]]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Parse([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if s.SeriesCount() != 2 || s.SampleCount() != 3 {
				t.Errorf("%d series, %d samples; want 2, 3", s.SeriesCount(), s.SampleCount())
			}
			if want := time.UnixMilli(1793527087500).UTC(); !s.Start().Equal(want) {
				t.Errorf("start %s, want %s", s.Start(), want)
			}
			if want := time.UnixMilli(1793527102500).UTC(); !s.End().Equal(want) {
				t.Errorf("end %s, want %s", s.End(), want)
			}
		})
	}
}

// TestWrongFormatMessages: a file in a format augur does not read says what
// it looks like and what augur wants, with the commands that produce it.
func TestWrongFormatMessages(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"yaml", "# The podinfo canary\napiVersion: flagger.app/v1beta1\nkind: Canary\n", "this looks like YAML"},
		{"scrape without timestamps", "# HELP up x\n# TYPE up gauge\nup{job=\"a\"} 1\nup{job=\"b\"} 0\n", "Prometheus text without timestamps"},
		{"instant query answer", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1793527087,"1"]}]}}`,
			`Prometheus instant-query answer (resultType "vector"`},
		{"error answer", `{"status":"error","errorType":"bad_data","error":"parse error"}`, `Prometheus error answer ("parse error")`},
		{"other json", `{"items":[]}`, "not a Prometheus range-query answer"},
		{"series notation", "up{job=\"a\"} 1+1x10\n", "promtool's series notation"},
		{"no EOF", "up{job=\"a\"} 1 1793527087\n", "# EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatal("parsed")
			}
			for _, want := range []string{tt.want, "augur record", "promtool tsdb dump-openmetrics", "query_range"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}
