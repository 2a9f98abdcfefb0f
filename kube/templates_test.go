package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/kube/kubetest"
)

// MetricTemplates lists and decodes; a refused list wraps ErrListing, an
// undecodable template is skipped with its error.
func TestMetricTemplatesList(t *testing.T) {
	good := `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: good, namespace: a}
spec: {provider: {type: datadog}, query: q}
`
	bad := `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: bad, namespace: b}
spec: {provider: {type: datadog}, query: q, unknownField: 1}
`
	c, err := kubetest.New(good, bad)
	if err != nil {
		t.Fatal(err)
	}
	tpls, err := c.Source("a").MetricTemplates(context.Background(), "")
	if len(tpls) != 1 || tpls[0].Metadata.Name != "good" || err == nil || errors.Is(err, kube.ErrListing) || !strings.Contains(err.Error(), "unknownField") {
		t.Errorf("list: %v, %v", tpls, err)
	}
	c.Dynamic.PrependReactor("list", "metrictemplates", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("metrictemplates.flagger.app is forbidden")
	})
	if _, err := c.Source("a").MetricTemplates(context.Background(), ""); !errors.Is(err, kube.ErrListing) || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("a refused list: %v", err)
	}
}
