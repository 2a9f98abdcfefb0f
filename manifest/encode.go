package manifest

import (
	"encoding/json"
	"fmt"

	"github.com/augurproj/augur/analysis"
)

// EncodeJSON writes set as one indented JSON Kubernetes List (apiVersion v1,
// kind List) holding the canaries, then the templates. Every object carries
// apiVersion flagger.app/v1beta1 and its kind, and a Canary's spec.service
// carries CanaryService.Other, so DecodeBytes reads the output back into an
// equal Set (up to nil versus empty slices and maps).
func EncodeJSON(set *Set) ([]byte, error) {
	items := make([]any, 0, len(set.Canaries)+len(set.Templates))
	for i := range set.Canaries {
		c, err := encodeCanary(&set.Canaries[i])
		if err != nil {
			return nil, err
		}
		items = append(items, c)
	}
	for i := range set.Templates {
		t := set.Templates[i]
		t.APIVersion, t.Kind = analysis.APIVersion, analysis.KindMetricTemplate
		items = append(items, t)
	}
	list := struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Items      []any  `json:"items"`
	}{"v1", kindList, items}
	out, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding manifests: %w", err)
	}
	return append(out, '\n'), nil
}

// canaryJSON is a Canary as Flagger's JSON has it, with spec.service whole.
type canaryJSON struct {
	APIVersion string                 `json:"apiVersion"`
	Kind       string                 `json:"kind"`
	Metadata   analysis.ObjectMeta    `json:"metadata"`
	Spec       canarySpecJSON         `json:"spec"`
	Status     *analysis.CanaryStatus `json:"status,omitempty"`
}

// canarySpecJSON shadows CanarySpec.Service: encoding/json prefers the
// shallower field of the same name.
type canarySpecJSON struct {
	analysis.CanarySpec
	Service map[string]json.RawMessage `json:"service,omitempty"`
}

func encodeCanary(c *analysis.Canary) (*canaryJSON, error) {
	out := &canaryJSON{
		APIVersion: analysis.APIVersion, Kind: analysis.KindCanary, Metadata: c.Metadata,
		Spec: canarySpecJSON{CanarySpec: c.Spec},
	}
	if c.Status != (analysis.CanaryStatus{}) {
		st := c.Status
		out.Status = &st
	}
	if len(c.Spec.Service.Other) > 0 || c.Spec.Service.Name != "" {
		out.Spec.Service = make(map[string]json.RawMessage, len(c.Spec.Service.Other)+1)
		for k, v := range c.Spec.Service.Other {
			out.Spec.Service[k] = v
		}
		if c.Spec.Service.Name != "" {
			name, err := json.Marshal(c.Spec.Service.Name)
			if err != nil {
				return nil, fmt.Errorf("encoding Canary %s/%s: spec.service.name: %w", c.Metadata.Namespace, c.Metadata.Name, err)
			}
			out.Spec.Service["name"] = name
		}
	}
	return out, nil
}
