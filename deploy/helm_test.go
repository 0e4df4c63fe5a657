package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const chartDir = "helm/televisit"

// kubeVersion is the cluster version `helm template` assumes: the chart
// needs 1.30 (preStop sleep), and helm's own default is older.
const kubeVersion = "1.31.0"

// helmBin finds the helm that .ci/deps.d/helm.sh builds.
func helmBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HELM_BIN"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	if p := filepath.Join(cache, "televisit", "bin", "helm"); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	t.Fatal("helm is missing: run `make deps` (.ci/deps.d/helm.sh builds it)")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func helmTemplate(t *testing.T, sets ...string) (string, error) {
	t.Helper()
	args := []string{"template", "tv", chartDir, "--namespace", "clinic", "--kube-version", kubeVersion}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return runTool(t, ".", helmBin(t), args...)
}

func TestHelmLint(t *testing.T) {
	if out, err := runTool(t, ".", helmBin(t), "lint", "--strict", chartDir); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
}

// TestHelmTemplate renders the chart with the defaults and with each media
// mode and optional part switched on, and checks every document.
func TestHelmTemplate(t *testing.T) {
	cases := map[string][]string{
		"defaults": nil,
		"load balancer, created secret, ingress, network policy": {
			"media.mode=loadBalancer", "config.media.tcp_port=50001",
			"config.media.public_ips={203.0.113.10}",
			"secrets.create=true", "secrets.data.database_url=postgres://u:p@db/televisit",
			"secrets.data.phi_keyring=k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			"secrets.data.oidc_client_secret=s",
			"ingress.enabled=true", "ingress.className=nginx", "networkPolicy.enabled=true",
		},
		"node port":                   {"media.mode=nodePort", "config.media.udp_port=31000", "config.media.public_ips={203.0.113.10}"},
		"three nodes on host network": {"replicaCount=3", "image.tag=1.2.3"},
		"three nodes, short drain and lease": {"replicaCount=3", "cluster.drainTimeout=2m", "cluster.lease=3s",
			"networkPolicy.enabled=true", "networkPolicy.httpFrom[0].namespaceSelector.matchLabels.team=ingress",
			"cluster.caFile=/etc/televisit/secrets/ca.pem"},
		"recording to S3 with a spool claim": {
			"config.recording.endpoint=s3.example.org", "config.recording.bucket=televisit-recordings",
			"config.recording.access_key_file=/etc/televisit/secrets/s3_access_key",
			"config.recording.secret_key_file=/etc/televisit/secrets/s3_secret_key",
			"config.recording.sse=kms", "config.recording.kms_key_id=televisit-recordings",
			"spool.existingClaim=televisit-spool",
		},
	}
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := helmTemplate(t, sets...)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			checkRendered(t, yamlDocs(t, out), sets)
		})
	}
}

// TestHelmTemplateRefuses checks that values that cannot work fail the
// render with a clear message.
func TestHelmTemplateRefuses(t *testing.T) {
	cases := map[string]struct {
		sets []string
		want string
	}{
		"latest tag":              {[]string{"image.tag=latest"}, "not latest"},
		"two pods behind one LB":  {[]string{"media.mode=loadBalancer", "replicaCount=2"}, "replicaCount 1"},
		"node port out of range":  {[]string{"media.mode=nodePort"}, "30000-32767"},
		"unknown media mode":      {[]string{"media.mode=magic"}, "media.mode must be"},
		"random media port":       {[]string{"config.media.udp_port=0"}, "udp_port must be 1-65535"},
		"created secret, no data": {[]string{"secrets.create=true"}, "secrets.data.database_url is required"},
		"other HTTP port":         {[]string{"config.server.addr=:9443"}, "port 8443"},
		"drain in days":           {[]string{"cluster.drainTimeout=2d"}, "cluster.drainTimeout must be whole"},
		"drain over a day":        {[]string{"cluster.drainTimeout=25h"}, "1s to 24h"},
		"no drain":                {[]string{"cluster.drainTimeout=0"}, "1s to 24h"},
		"bad lease":               {[]string{"cluster.lease=soon"}, "cluster.lease must be"},
		"cluster in config":       {[]string{"config.cluster.lease=3s"}, "not config.cluster"},
		"one spool, two pods":     {[]string{"replicaCount=2", "spool.existingClaim=spool"}, "spool belongs to one server"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := helmTemplate(t, c.sets...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("helm template %v: got %v, want an error containing %q", c.sets, err, c.want)
			}
		})
	}
}

func checkRendered(t *testing.T, docs []map[string]any, sets []string) {
	t.Helper()
	byKind := map[string][]map[string]any{}
	for _, d := range docs {
		k, _ := d["kind"].(string)
		byKind[k] = append(byKind[k], d)
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "ServiceAccount", "Job"} {
		if len(byKind[k]) == 0 {
			t.Errorf("no %s rendered", k)
		}
	}
	for _, d := range byKind["Deployment"] {
		checkPodSpec(t, "Deployment", dig(d, "spec", "template", "spec"))
		checkProbes(t, dig(d, "spec", "template", "spec", "containers", 0))
		if dig(d, "spec", "template", "spec", "terminationGracePeriodSeconds") == nil {
			t.Error("Deployment: terminationGracePeriodSeconds not set")
		}
	}
	for _, j := range byKind["Job"] {
		if h, _ := dig(j, "metadata", "annotations", "helm.sh/hook").(string); h != "pre-install,pre-upgrade" {
			t.Errorf("migration Job hook %q, want pre-install,pre-upgrade", h)
		}
		if a := dig(j, "spec", "template", "spec", "containers", 0, "args"); !strings.Contains(strings.TrimSpace(strings.Join(toStrings(a), " ")), "migrate") {
			t.Errorf("migration Job args %v do not run migrate", a)
		}
		checkPodSpec(t, "Job", dig(j, "spec", "template", "spec"))
	}
	for _, sa := range byKind["ServiceAccount"] {
		if sa["automountServiceAccountToken"] != false {
			t.Error("ServiceAccount must set automountServiceAccountToken: false")
		}
	}
	for _, s := range byKind["Secret"] {
		if h, _ := dig(s, "metadata", "annotations", "helm.sh/hook").(string); !strings.Contains(h, "pre-install") {
			t.Error("a chart-created Secret must exist before the migration hook (hook annotation)")
		}
	}
	checkMediaService(t, byKind["Service"], byKind["Deployment"], sets)
	checkChartConfig(t, byKind["ConfigMap"])
	checkCluster(t, byKind["Deployment"][0], byKind["ConfigMap"][0], byKind["NetworkPolicy"], sets)
}

// checkCluster wants every pod to be a cluster node named after the pod and
// reached on its pod address, the drain and lease in the configuration, a
// grace period that covers the drain, and the pods allowed to reach each
// other's HTTPS port through a restrictive network policy.
func checkCluster(t *testing.T, dep, cm map[string]any, policies []map[string]any, sets []string) {
	t.Helper()
	drain, lease, ca := 600, "5s", ""
	for _, s := range sets {
		switch {
		case strings.HasPrefix(s, "cluster.caFile="):
			ca = strings.TrimPrefix(s, "cluster.caFile=")
		case s == "cluster.drainTimeout=2m":
			drain = 120
		case strings.HasPrefix(s, "cluster.lease="):
			lease = strings.TrimPrefix(s, "cluster.lease=")
		}
	}
	spec := dig(dep, "spec", "template", "spec")
	want := drain + 30 + 5 // + preStopSleepSeconds
	if got := dig(spec, "terminationGracePeriodSeconds"); got != want {
		t.Errorf("terminationGracePeriodSeconds %v, want %d (preStop 5 + drain %d + 30)", got, want, drain)
	}
	env := map[string]any{}
	for _, e := range toSlice(dig(spec, "containers", 0, "env")) {
		name, _ := dig(e, "name").(string)
		if v := dig(e, "value"); v != nil {
			env[name] = v
		} else {
			env[name] = dig(e, "valueFrom", "fieldRef", "fieldPath")
		}
	}
	for name, v := range map[string]string{"POD_NAME": "metadata.name", "POD_IP": "status.podIP",
		"TELEVISIT_CLUSTER_NODE_ID": "$(POD_NAME)", "TELEVISIT_CLUSTER_ADVERTISE_URL": "https://$(POD_IP):8443"} {
		if env[name] != v {
			t.Errorf("env %s = %v, want %s", name, env[name], v)
		}
	}
	text, _ := dig(cm, "data", "televisit.yaml").(string)
	var cfg struct {
		Cluster map[string]string `yaml:"cluster"`
	}
	if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster["drain_timeout"] != fmt.Sprintf("%ds", drain) || cfg.Cluster["lease"] != lease || cfg.Cluster["ca_file"] != ca {
		t.Errorf("televisit.yaml cluster %v, want drain_timeout %ds, lease %s and ca_file %q", cfg.Cluster, drain, lease, ca)
	}
	for _, p := range policies {
		from := toSlice(dig(p, "spec", "ingress", 0, "from"))
		if len(from) == 0 {
			continue // HTTPS from anywhere
		}
		if dig(from[len(from)-1], "podSelector", "matchLabels", "app.kubernetes.io/name") != "televisit" {
			t.Errorf("network policy %v does not let the televisit pods reach each other's HTTPS port", from)
		}
	}
}

func checkPodSpec(t *testing.T, what string, spec any) {
	t.Helper()
	if dig(spec, "securityContext", "runAsNonRoot") != true {
		t.Errorf("%s: pod securityContext.runAsNonRoot is not true", what)
	}
	if dig(spec, "automountServiceAccountToken") != false {
		t.Errorf("%s: automountServiceAccountToken is not false", what)
	}
	c := dig(spec, "containers", 0)
	sc := dig(c, "securityContext")
	if dig(sc, "readOnlyRootFilesystem") != true || dig(sc, "allowPrivilegeEscalation") != false ||
		dig(sc, "runAsNonRoot") != true || dig(sc, "capabilities", "drop", 0) != "ALL" {
		t.Errorf("%s: container securityContext %v must be non-root, read-only, no escalation, drop ALL", what, sc)
	}
	img, _ := dig(c, "image").(string)
	if i := strings.LastIndex(img, ":"); i < 0 || img[i+1:] == "" || img[i+1:] == "latest" {
		t.Errorf("%s: image %q has no version tag", what, img)
	}
	for _, r := range [][]string{{"requests", "cpu"}, {"requests", "memory"}, {"limits", "memory"}} {
		if dig(c, "resources", r[0], r[1]) == nil {
			t.Errorf("%s: resources.%s.%s not set", what, r[0], r[1])
		}
	}
}

func checkProbes(t *testing.T, c any) {
	t.Helper()
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
		if got := dig(c, probe, "httpGet", "path"); got != path {
			t.Errorf("%s path %v, want %s", probe, got, path)
		}
		if got := dig(c, probe, "httpGet", "scheme"); got != "HTTPS" {
			t.Errorf("%s scheme %v, want HTTPS (televisit serves TLS)", probe, got)
		}
	}
	if dig(c, "lifecycle", "preStop", "sleep", "seconds") == nil {
		t.Error("no preStop sleep: load balancers would still send to a terminating pod")
	}
}

// checkMediaService wants media UDP to reach the pod: host network with one
// pod per node, or a UDP Service for the single pod.
func checkMediaService(t *testing.T, svcs, deps []map[string]any, sets []string) {
	t.Helper()
	hostNet := dig(deps[0], "spec", "template", "spec", "hostNetwork") == true
	var udp bool
	for _, s := range svcs {
		for _, p := range toSlice(dig(s, "spec", "ports")) {
			if dig(p, "protocol") == "UDP" {
				udp = true
			}
		}
	}
	modeSet := strings.Contains(strings.Join(sets, ","), "media.mode=")
	switch {
	case !modeSet && (!hostNet || udp):
		t.Errorf("default media mode: want hostNetwork and no UDP Service, got hostNetwork=%v udpService=%v", hostNet, udp)
	case modeSet && (hostNet || !udp):
		t.Errorf("media Service mode: want a UDP Service and no hostNetwork, got hostNetwork=%v udpService=%v", hostNet, udp)
	}
	if hostNet && dig(deps[0], "spec", "template", "spec", "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution", 0, "topologyKey") != "kubernetes.io/hostname" {
		t.Error("hostNetwork pods need a required anti-affinity per node (they share the node's ports)")
	}
}

// checkChartConfig loads the rendered televisit.yaml as `televisit serve`
// would, with stand-in secret files at the mount paths.
func checkChartConfig(t *testing.T, cms []map[string]any) {
	t.Helper()
	text, _ := dig(cms[0], "data", "televisit.yaml").(string)
	sec := t.TempDir()
	for name, v := range map[string]string{
		"database_url":       "postgres://televisit:pw@postgres.db:5432/televisit?sslmode=verify-full",
		"phi_keyring":        "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"oidc_client_secret": "client-secret",
		"s3_access_key":      "televisit",
		"s3_secret_key":      "s3-secret",
	} {
		if err := os.WriteFile(filepath.Join(sec, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	loadServeConfig(t, text, map[string]string{"/etc/televisit/secrets/": sec, "/etc/televisit/tls/": t.TempDir()})
}

func toSlice(v any) []any {
	l, _ := v.([]any)
	return l
}

func toStrings(v any) []string {
	var out []string
	for _, e := range toSlice(v) {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
