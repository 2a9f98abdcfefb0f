package cloudwatch

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// The MetricTemplate's query is a JSON list of CloudWatch MetricDataQuery
// objects. Flagger decodes it into the AWS SDK's structs with encoding/json
// (field names matched case-insensitively, unknown fields ignored); these
// structs have the same fields, so a query decodes to the same request.
type (
	dataQuery struct {
		AccountID  *string     `json:"AccountId"`
		Expression *string     `json:"Expression"`
		ID         *string     `json:"Id"`
		Label      *string     `json:"Label"`
		MetricStat *metricStat `json:"MetricStat"`
		Period     *int64      `json:"Period"`
		ReturnData *bool       `json:"ReturnData"`
	}
	metricStat struct {
		Metric *metric `json:"Metric"`
		Period *int64  `json:"Period"`
		Stat   *string `json:"Stat"`
		Unit   *string `json:"Unit"`
	}
	metric struct {
		Dimensions []*dimension `json:"Dimensions"`
		MetricName *string      `json:"MetricName"`
		Namespace  *string      `json:"Namespace"`
	}
	dimension struct {
		Name  *string `json:"Name"`
		Value *string `json:"Value"`
	}
)

// Wire constants of GetMetricData in the AWS query protocol, as the AWS SDK
// sends them.
const (
	action        = "GetMetricData"
	apiVersion    = "2010-08-01"
	maxDatapoints = 20
	timeFormat    = "2006-01-02T15:04:05.999999999Z"
	contentType   = "application/x-www-form-urlencoded; charset=utf-8"
)

// parseQuery decodes a query and checks what the AWS SDK checks before it
// sends anything (required fields, minimum lengths), so that a query the
// SDK refuses is refused here too, naming the field.
func parseQuery(query string) ([]*dataQuery, error) {
	var qs []*dataQuery
	if err := json.Unmarshal([]byte(query), &qs); err != nil {
		return nil, fmt.Errorf("error unmarshaling query (want a JSON list of MetricDataQuery): %w", err)
	}
	if qs == nil {
		return nil, fmt.Errorf("invalid query: missing required field MetricDataQueries (the query is null)")
	}
	for i, q := range qs {
		if err := q.validate(fmt.Sprintf("MetricDataQueries[%d]", i)); err != nil {
			return nil, err
		}
	}
	return qs, nil
}

func minLen(field string, s *string) error {
	if s != nil && len(*s) < 1 {
		return fmt.Errorf("invalid query: %s must not be empty", field)
	}
	return nil
}

func required(field string, present bool) error {
	if !present {
		return fmt.Errorf("invalid query: missing required field %s", field)
	}
	return nil
}

func (q *dataQuery) validate(at string) error {
	if q == nil {
		return nil // null entries are skipped by the SDK's encoder too
	}
	errs := []error{
		minLen(at+".AccountId", q.AccountID),
		minLen(at+".Expression", q.Expression),
		required(at+".Id", q.ID != nil), minLen(at+".Id", q.ID),
	}
	if q.Period != nil && *q.Period < 1 {
		errs = append(errs, fmt.Errorf("invalid query: %s.Period must be at least 1", at))
	}
	if s := q.MetricStat; s != nil {
		at := at + ".MetricStat"
		errs = append(errs, required(at+".Metric", s.Metric != nil), required(at+".Period", s.Period != nil),
			required(at+".Stat", s.Stat != nil))
		if s.Period != nil && *s.Period < 1 {
			errs = append(errs, fmt.Errorf("invalid query: %s.Period must be at least 1", at))
		}
		if m := s.Metric; m != nil {
			errs = append(errs, minLen(at+".Metric.MetricName", m.MetricName), minLen(at+".Metric.Namespace", m.Namespace))
			for j, d := range m.Dimensions {
				if d == nil {
					continue
				}
				at := fmt.Sprintf("%s.Metric.Dimensions[%d]", at, j)
				errs = append(errs, required(at+".Name", d.Name != nil), minLen(at+".Name", d.Name),
					required(at+".Value", d.Value != nil), minLen(at+".Value", d.Value))
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// form is the GetMetricData request body for qs over [start, end], field
// for field what the AWS SDK's query-protocol encoder writes: lists as
// Name.member.N, an empty (not absent) list as "Name=", absent fields
// left out.
func form(qs []*dataQuery, start, end time.Time, window bool) url.Values {
	v := url.Values{"Action": {action}, "Version": {apiVersion}}
	if window {
		v.Set("StartTime", start.UTC().Format(timeFormat))
		v.Set("EndTime", end.UTC().Format(timeFormat))
		v.Set("MaxDatapoints", strconv.Itoa(maxDatapoints))
	}
	if len(qs) == 0 {
		v.Set("MetricDataQueries", "")
	}
	str := func(k string, s *string) {
		if s != nil {
			v.Set(k, *s)
		}
	}
	num := func(k string, n *int64) {
		if n != nil {
			v.Set(k, strconv.FormatInt(*n, 10))
		}
	}
	for i, q := range qs {
		if q == nil {
			continue
		}
		p := "MetricDataQueries.member." + strconv.Itoa(i+1) + "."
		str(p+"AccountId", q.AccountID)
		str(p+"Expression", q.Expression)
		str(p+"Id", q.ID)
		str(p+"Label", q.Label)
		num(p+"Period", q.Period)
		if q.ReturnData != nil {
			v.Set(p+"ReturnData", strconv.FormatBool(*q.ReturnData))
		}
		s := q.MetricStat
		if s == nil {
			continue
		}
		num(p+"MetricStat.Period", s.Period)
		str(p+"MetricStat.Stat", s.Stat)
		str(p+"MetricStat.Unit", s.Unit)
		m := s.Metric
		if m == nil {
			continue
		}
		str(p+"MetricStat.Metric.MetricName", m.MetricName)
		str(p+"MetricStat.Metric.Namespace", m.Namespace)
		if m.Dimensions != nil && len(m.Dimensions) == 0 {
			v.Set(p+"MetricStat.Metric.Dimensions", "")
		}
		for j, d := range m.Dimensions {
			if d == nil {
				continue
			}
			dp := p + "MetricStat.Metric.Dimensions.member." + strconv.Itoa(j+1) + "."
			str(dp+"Name", d.Name)
			str(dp+"Value", d.Value)
		}
	}
	return v
}
