package flagger

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/fluxcd/flagger/pkg/canary"
	fakeflagger "github.com/fluxcd/flagger/pkg/client/clientset/versioned/fake"
	informers "github.com/fluxcd/flagger/pkg/client/informers/externalversions"
	"github.com/fluxcd/flagger/pkg/controller"
	"github.com/fluxcd/flagger/pkg/metrics/observers"
	"github.com/fluxcd/flagger/pkg/notifier"
	"github.com/fluxcd/flagger/pkg/router"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	knfake "knative.dev/serving/pkg/client/clientset/versioned/fake"
)

// flaggerAdvance is Flagger's own scheduler tick, (*Controller).advanceCanary
// in pkg/controller/scheduler.go: everything one analysis interval does.
//
//go:linkname flaggerAdvance github.com/fluxcd/flagger/pkg/controller.(*Controller).advanceCanary
func flaggerAdvance(c *controller.Controller, name, namespace string)

// flaggerSync is Flagger's (*Controller).syncHandler, which the work queue
// runs when a Canary is created or changed: a new Canary gets its
// Initializing status there.
//
//go:linkname flaggerSync github.com/fluxcd/flagger/pkg/controller.(*Controller).syncHandler
func flaggerSync(c *controller.Controller, key string) error

// syncEvent is one event Flagger recorded on the Canary.
type syncEvent struct {
	Type, Message string
}

// syncRecorder replaces Flagger's event recorder (asynchronous and
// rate-limited, backed by a broadcaster) with a synchronous list, so that
// each tick's events are read right after the tick.
type syncRecorder struct {
	mu     sync.Mutex
	events []syncEvent
}

func (r *syncRecorder) Event(_ runtime.Object, eventtype, _, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, syncEvent{Type: eventtype, Message: message})
}

func (r *syncRecorder) Eventf(o runtime.Object, eventtype, reason, format string, args ...any) {
	r.Event(o, eventtype, reason, fmt.Sprintf(format, args...))
}

func (r *syncRecorder) AnnotatedEventf(o runtime.Object, _ map[string]string, eventtype, reason, format string, args ...any) {
	r.Eventf(o, eventtype, reason, format, args...)
}

func (r *syncRecorder) take() []syncEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

// registryMu serialises NewController, which registers Flagger's metrics on
// client_golang's default registerer: each controller gets a fresh one.
var registryMu sync.Mutex

// flaggerCluster is Flagger's real controller over fake kube and Flagger
// clientsets holding one Canary, its Deployment and MetricTemplates.
type flaggerCluster struct {
	ctrl   *controller.Controller
	kube   *fake.Clientset
	kn     *knfake.Clientset
	fl     *fakeflagger.Clientset
	events *syncRecorder
	name   string
	ns     string
	target string
	kind   string
	rev    int
	// knative: the target is a Knative Service (its revisions are the
	// canary's revisions).
	knative bool
}

// knativeRevision creates the Knative Revision of the current revision,
// ready, and makes it the Service's latest created revision (creating the
// Service on the first call).
func (fc *flaggerCluster) knativeRevision(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	fc.knative = true
	name := fmt.Sprintf("%s-%05d", fc.target, fc.rev+1)
	rev := &servingv1.Revision{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: fc.ns},
		Status: servingv1.RevisionStatus{Status: duckv1.Status{Conditions: duckv1.Conditions{
			{Type: servingv1.RevisionConditionReady, Status: corev1.ConditionTrue},
		}}},
	}
	if _, err := fc.kn.ServingV1().Revisions(fc.ns).Create(ctx, rev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := fc.kn.ServingV1().Services(fc.ns).Get(ctx, fc.target, metav1.GetOptions{})
	if err != nil {
		svc = &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Name: fc.target, Namespace: fc.ns}}
		svc.Status.LatestCreatedRevisionName = name
		if _, err := fc.kn.ServingV1().Services(fc.ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	svc.Status.LatestCreatedRevisionName = name
	if _, err := fc.kn.ServingV1().Services(fc.ns).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// targetObject is the target at the current revision: a Deployment, or for
// a Service target a Service whose selector names the revision.
func (fc *flaggerCluster) targetObject() runtime.Object {
	if fc.kind != "Service" {
		return fc.deployment()
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: fc.target, Namespace: fc.ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": fmt.Sprintf("%s-v%d", fc.target, fc.rev)},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 9898, Protocol: corev1.ProtocolTCP}},
		},
	}
}

// newFlaggerCluster builds the controller the way Flagger's main does
// (controller.NewController), with the informers' caches filled with the
// objects, the given global mesh provider and metrics server.
func newFlaggerCluster(t *testing.T, cd *flaggerv1.Canary, tmpls []*flaggerv1.MetricTemplate, mesh, metricsServer string) *flaggerCluster {
	t.Helper()
	objs := []runtime.Object{cd}
	for _, m := range tmpls {
		objs = append(objs, m)
	}
	fl := fakeflagger.NewSimpleClientset(objs...)
	statusSubresource(fl)
	fc := &flaggerCluster{fl: fl, events: &syncRecorder{}, name: cd.Name, ns: cd.Namespace, target: cd.Spec.TargetRef.Name}
	fc.kind = cd.Spec.TargetRef.Kind
	var kobjs []runtime.Object
	if !cd.Spec.TargetRef.IsKnativeService() {
		kobjs = append(kobjs, fc.targetObject())
	}
	if ref := cd.Spec.IngressRef; ref != nil {
		kobjs = append(kobjs, ingress(ref.Name, cd.Namespace, cd.Spec.TargetRef.Name, int32(cd.Spec.Service.Port)))
	}
	fc.kube = fake.NewSimpleClientset(kobjs...)
	fc.kn = knfake.NewSimpleClientset()
	// Knative's own controller reports the routed traffic in the status;
	// emulate it: every Service update's spec.traffic becomes its
	// status.traffic.
	fc.kn.PrependReactor("update", "services", func(action k8stesting.Action) (bool, runtime.Object, error) {
		ua, ok := action.(k8stesting.UpdateAction)
		if !ok || ua.GetSubresource() == "status" {
			return false, nil, nil
		}
		if svc, ok := ua.GetObject().(*servingv1.Service); ok {
			svc.Status.Traffic = nil
			for _, tt := range svc.Spec.Traffic {
				svc.Status.Traffic = append(svc.Status.Traffic, *tt.DeepCopy())
			}
		}
		return false, nil, nil
	})
	if cd.Spec.TargetRef.IsKnativeService() {
		fc.knativeRevision(t)
	}
	logger := zap.NewNop().Sugar()

	factory := informers.NewSharedInformerFactory(fl, 0)
	fi := controller.Informers{
		CanaryInformer: factory.Flagger().V1beta1().Canaries(),
		MetricInformer: factory.Flagger().V1beta1().MetricTemplates(),
		AlertInformer:  factory.Flagger().V1beta1().AlertProviders(),
	}
	fi.CanaryInformer.Informer()
	fi.MetricInformer.Informer()
	fi.AlertInformer.Informer()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	factory.Start(stop)
	for typ, ok := range factory.WaitForCacheSync(stop) {
		if !ok {
			t.Fatalf("Flagger informer %v did not sync", typ)
		}
	}
	for _, m := range tmpls {
		// The informers run over the fake clientset; wait for the
		// templates to be listed (they are there from the start).
		if _, err := fi.MetricInformer.Lister().MetricTemplates(m.Namespace).Get(m.Name); err != nil {
			t.Fatalf("metric template %s.%s not in Flagger's cache: %v", m.Name, m.Namespace, err)
		}
	}

	rf := router.NewFactory(nil, fc.kube, fl, fc.kn, "", "", logger, fl, true)
	of, err := observers.NewFactory(metricsServer)
	if err != nil {
		t.Fatal(err)
	}
	tracker := &canary.ConfigTracker{Logger: logger, KubeClient: fc.kube, FlaggerClient: fl}
	cf := canary.NewFactory(fc.kube, fl, fc.kn, tracker, []string{"app", "name"}, []string{""}, logger)

	registryMu.Lock()
	saved := prometheus.DefaultRegisterer
	prometheus.DefaultRegisterer = prometheus.NewRegistry()
	fc.ctrl = controller.NewController(fc.kube, fc.kn, fl, fi, time.Minute, logger, &notifier.NopNotifier{},
		cf, rf, of, mesh, "compat", "", "", false, nil)
	prometheus.DefaultRegisterer = saved
	registryMu.Unlock()

	// Replace the asynchronous recorder NewController built.
	f := reflect.ValueOf(fc.ctrl).Elem().FieldByName("eventRecorder")
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(fc.events))
	return fc
}

// deployment is the target workload at the current revision, ready.
func (fc *flaggerCluster) deployment() *appsv1.Deployment {
	one := int32(1)
	labels := map[string]string{"app": fc.target}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: fc.target, Namespace: fc.ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: fmt.Sprintf("example.org/app:%d", fc.rev),
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
		Status: readyStatus(),
	}
}

func readyStatus() appsv1.DeploymentStatus {
	return appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
}

// newRevision changes the target's pod template (a new image tag).
func (fc *flaggerCluster) newRevision(t *testing.T) {
	t.Helper()
	fc.rev++
	var err error
	if fc.kn != nil && fc.knative {
		fc.knativeRevision(t)
		return
	}
	if fc.kind == "Service" {
		_, err = fc.kube.CoreV1().Services(fc.ns).Update(context.Background(), fc.targetObject().(*corev1.Service), metav1.UpdateOptions{})
	} else {
		_, err = fc.kube.AppsV1().Deployments(fc.ns).Update(context.Background(), fc.deployment(), metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// makeReady marks every Deployment ready (the primary is created by the
// first tick, with no status, as in a cluster before its rollout ends).
func (fc *flaggerCluster) makeReady(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	list, err := fc.kube.AppsV1().Deployments(fc.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		d := &list.Items[i]
		if d.Status.UpdatedReplicas >= 1 && d.Status.AvailableReplicas >= 1 {
			continue
		}
		d.Status = readyStatus()
		if _, err := fc.kube.AppsV1().Deployments(fc.ns).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// sync runs syncHandler for the canary, as Flagger's work queue does when
// the Canary is created.
func (fc *flaggerCluster) sync(t *testing.T) {
	t.Helper()
	if err := flaggerSync(fc.ctrl, fc.ns+"/"+fc.name); err != nil {
		t.Fatalf("Flagger syncHandler: %v", err)
	}
}

// exceedDeadline puts a Deployment into a stuck rollout: its Progressing
// condition says ProgressDeadlineExceeded (what Kubernetes' deployment
// controller writes), no replica available.
func (fc *flaggerCluster) exceedDeadline(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	d, err := fc.kube.AppsV1().Deployments(fc.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Status = appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1, Conditions: []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"},
		{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable", LastUpdateTime: metav1.Now()},
	}}
	if _, err := fc.kube.AppsV1().Deployments(fc.ns).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// suspend sets the Canary's spec.suspend (when it changes).
func (fc *flaggerCluster) suspend(t *testing.T, on bool) {
	t.Helper()
	ctx := context.Background()
	cd, err := fc.fl.FlaggerV1beta1().Canaries(fc.ns).Get(ctx, fc.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cd.Spec.Suspend == on {
		return
	}
	cd.Spec.Suspend = on
	if _, err := fc.fl.FlaggerV1beta1().Canaries(fc.ns).Update(ctx, cd, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// tick runs one advanceCanary and returns the canary's status after it and
// the events recorded during it.
func (fc *flaggerCluster) tick(t *testing.T) (flaggerv1.CanaryStatus, []syncEvent) {
	t.Helper()
	flaggerAdvance(fc.ctrl, fc.name, fc.ns)
	cd, err := fc.fl.FlaggerV1beta1().Canaries(fc.ns).Get(context.Background(), fc.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cd.Status, fc.events.take()
}

// statusSubresource makes the fake Flagger clientset treat a Canary's
// status as the API server does with the CRD's status subresource: an
// UpdateStatus writes only the status, an Update keeps the stored status.
// (The bare fake stores the whole object either way, so a spec change
// Flagger makes on its in-memory copy, such as the kubernetes provider's
// "iterations: 10", would wrongly persist.)
func statusSubresource(fl *fakeflagger.Clientset) {
	gvr := flaggerv1.SchemeGroupVersion.WithResource("canaries")
	fl.PrependReactor("update", "canaries", func(action k8stesting.Action) (bool, runtime.Object, error) {
		ua, ok := action.(k8stesting.UpdateAction)
		if !ok {
			return false, nil, nil
		}
		obj, ok := ua.GetObject().(*flaggerv1.Canary)
		if !ok {
			return false, nil, nil
		}
		cur, err := fl.Tracker().Get(gvr, obj.Namespace, obj.Name)
		if err != nil {
			return true, nil, err
		}
		next := cur.(*flaggerv1.Canary).DeepCopy()
		if ua.GetSubresource() == "status" {
			next.Status = *obj.Status.DeepCopy()
		} else {
			status := next.Status
			next = obj.DeepCopy()
			next.Status = status
		}
		if err := fl.Tracker().Update(gvr, next, obj.Namespace); err != nil {
			return true, nil, err
		}
		return true, next.DeepCopy(), nil
	})
}

// ingress is the Ingress an ingressRef names (nginx, skipper): one rule
// sending every path to the apex Service.
func ingress(name, ns, service string, port int32) *netv1.Ingress {
	pt := netv1.PathTypePrefix
	return &netv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{"example.org/owner": "compat"}},
		Spec: netv1.IngressSpec{Rules: []netv1.IngressRule{{
			Host: "app.example.org",
			IngressRuleValue: netv1.IngressRuleValue{HTTP: &netv1.HTTPIngressRuleValue{Paths: []netv1.HTTPIngressPath{{
				Path: "/", PathType: &pt,
				Backend: netv1.IngressBackend{Service: &netv1.IngressServiceBackend{Name: service, Port: netv1.ServiceBackendPort{Number: port}}},
			}}}},
		}}},
	}
}
