package lint

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// PluginName is augur's key in an Argo metric's provider.plugin (as package
// plugins/argo names it).
const PluginName = "augur/augur"

// rolloutChecks flags an Argo Rollout whose strategy has no analysis and no
// manual gate.
func (c *checker) rolloutChecks(o *Object) {
	st := c.mapAt(o, get(o.Body, "spec", "strategy"), "spec.strategy")
	if cn := c.mapAt(o, st["canary"], "spec.strategy.canary"); cn != nil {
		if cn["analysis"] != nil {
			return
		}
		for _, s := range c.listAt(o, cn["steps"], "spec.strategy.canary.steps") {
			if get(s, "analysis") != nil || get(s, "experiment") != nil {
				return
			}
			if p, ok := get(s, "pause").(map[string]any); ok && p["duration"] == nil {
				return // an indefinite pause: a manual gate
			}
		}
		c.report("analysis-without-checks", o, "spec.strategy.canary",
			"The canary strategy has no analysis and no indefinite pause, so every release is promoted after its steps, however broken.",
			`strategy:
  canary:
    analysis:
      templates:
        - templateName: success-rate
      startingStep: 1`)
		return
	}
	if bg := c.mapAt(o, st["blueGreen"], "spec.strategy.blueGreen"); bg != nil {
		if bg["prePromotionAnalysis"] != nil || bg["postPromotionAnalysis"] != nil || bg["autoPromotionEnabled"] == false {
			return
		}
		c.report("analysis-without-checks", o, "spec.strategy.blueGreen",
			"The blue-green strategy has no pre- or post-promotion analysis and promotes automatically, so every release goes live however broken.",
			`strategy:
  blueGreen:
    prePromotionAnalysis:
      templates:
        - templateName: success-rate`)
	}
}

// augurConfig is the part of plugins/argo's Config the rules read.
type augurConfig struct {
	Query          string          `json:"query"`
	Builtin        string          `json:"builtin"`
	Interval       string          `json:"interval"`
	ThresholdRange json.RawMessage `json:"thresholdRange"`
	Judge          json.RawMessage `json:"judge"`
	Preflight      bool            `json:"preflight"`
	Template       *struct {
		Query string `json:"query"`
	} `json:"template"`
}

// analysisTemplate checks the augur metrics of an Argo AnalysisTemplate.
func (c *checker) analysisTemplate(o *Object) {
	for i, m := range c.listAt(o, get(o.Body, "spec", "metrics"), "spec.metrics") {
		path := index("spec.metrics", i)
		mm := c.mapAt(o, m, path)
		raw := get(mm, "provider", "plugin", PluginName)
		if raw == nil {
			continue
		}
		cp := field(path+".provider.plugin", PluginName)
		b, err := json.Marshal(raw)
		var cfg augurConfig
		if err == nil {
			err = json.Unmarshal(b, &cfg)
		}
		if err != nil {
			c.bad(o, cp, "augur's plugin configuration (docs/argo.md): "+err.Error())
			continue
		}
		if cfg.Preflight {
			continue
		}
		name := str(mm["name"])
		if mm["successCondition"] == nil && mm["failureCondition"] == nil && len(cfg.ThresholdRange) == 0 && len(cfg.Judge) == 0 {
			c.report("argo-metric-without-condition", o, path,
				fmt.Sprintf("Metric %q has no successCondition, failureCondition, thresholdRange or judge, so every measurement is Successful and the analysis can never fail.", name),
				"successCondition: result[0] >= 99", o.Key())
		}
		c.argoCounts(o, mm, path, cp, name, cfg)
	}
}

// argoCounts checks count, interval and failureLimit against the query window.
func (c *checker) argoCounts(o *Object, m map[string]any, path, cp, name string, cfg augurConfig) {
	query := cfg.Query
	if cfg.Template != nil {
		query = cfg.Template.Query
	}
	window := time.Duration(0)
	if d, ok := c.durationAt(o, nilIfEmpty(cfg.Interval), cp+".interval"); ok {
		window = d
	} else if cfg.Builtin != "" {
		window = flaggerMetricInterval
	}
	needsTwo := cfg.Builtin != "" || rangeFunc.MatchString(query)
	if needsTwo && window > 0 && window < 2*c.opts.ScrapeInterval {
		c.report("argo-run-ends-before-data", o, cp+".interval",
			fmt.Sprintf("Metric %q queries a rate over %s, less than two %s scrapes, so every measurement has no value and errors.", name, seconds(window), seconds(c.opts.ScrapeInterval)),
			fmt.Sprintf("interval: %s", seconds(max(time.Minute, 4*c.opts.ScrapeInterval))), o.Key())
	}
	count, hasCount := c.intOrString(o, m["count"], path+".count")
	every, hasEvery := c.durationAt(o, m["interval"], path+".interval")
	if hasCount && count > 0 && window > 0 {
		run := time.Duration(max(count-1, 0)) * every
		if !hasEvery {
			run = 0
		}
		if d, ok := c.durationAt(o, m["initialDelay"], path+".initialDelay"); ok {
			run += d
		}
		if run < window {
			c.report("argo-run-ends-before-data", o, path+".count",
				fmt.Sprintf("Metric %q takes %d measurement(s) over %s, less than its %s query window, so the run ends while the window still covers mostly the time before the canary started.", name, count, seconds(run), seconds(window)),
				fmt.Sprintf("count: %d\ninterval: %s", int64(window/max(every, time.Minute))+3, seconds(max(every, time.Minute))), o.Key())
		}
	}
	limit, _ := c.intOrString(o, m["failureLimit"], path+".failureLimit")
	if hasCount && count > 0 && limit >= count {
		c.report("argo-failure-limit-unreachable", o, path+".failureLimit",
			fmt.Sprintf("Metric %q fails only after more than %d failed measurements but takes only %d, so it can never fail the analysis.", name, limit, count),
			fmt.Sprintf("failureLimit: %d", max(count/3, 0)), o.Key())
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// intOrString reads an Argo IntOrString count ("5" or 5).
func (c *checker) intOrString(o *Object, v any, path string) (int64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, false
	case int64:
		return x, true
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n, true
		}
		return 0, false // an {{args.x}} placeholder: unknown until Argo substitutes it
	}
	c.bad(o, path, "an integer")
	return 0, false
}
