package main

// The queries Flagger v1.44.0 sends for the podinfo canary (namespace test,
// target podinfo), copied as rendered, before whitespace collapsing: the
// Istio builtin request-success-rate (interval 1m) and request-duration
// (interval 30s, as in the walkthrough's Canary), and the
// not-found-percentage MetricTemplate of Flagger's Istio tutorial
// (interval 1m).
const (
	successRateQuery = `
	sum(
		rate(
			istio_requests_total{
				reporter="destination",
				destination_workload_namespace="test",
				destination_workload=~"podinfo",
				response_code!~"5.*"
			}[1m]
		)
	) 
	/ 
	sum(
		rate(
			istio_requests_total{
				reporter="destination",
				destination_workload_namespace="test",
				destination_workload=~"podinfo"
			}[1m]
		)
	) 
	* 100`

	requestDurationQuery = `
	histogram_quantile(
		0.99,
		sum(
			rate(
				istio_request_duration_milliseconds_bucket{
					reporter="destination",
					destination_workload_namespace="test",
					destination_workload=~"podinfo"
				}[30s]
			)
		) by (le)
	)`

	notFoundPercentageQuery = `
    100 - sum(
        rate(
            istio_requests_total{
              reporter="destination",
              destination_workload_namespace="test",
              destination_workload="podinfo",
              response_code!="404"
            }[1m]
        )
    )
    /
    sum(
        rate(
            istio_requests_total{
              reporter="destination",
              destination_workload_namespace="test",
              destination_workload="podinfo"
            }[1m]
        )
    ) * 100`
)
