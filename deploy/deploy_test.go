package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/televisit/televisit/internal/turncred"
)

// TestComposeConfig runs Debian's docker-compose over compose.yaml: it must
// accept the file as it is, without the generated secrets.
func TestComposeConfig(t *testing.T) {
	dc, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Fatal("docker-compose is missing: run `make deps` (.ci/install-deps installs Debian's docker-compose)")
	}
	withIP := map[string]string{"TELEVISIT_PUBLIC_IP": "203.0.113.10"}
	if _, err := runToolEnv(t, ".", withIP, dc, "-f", "compose.yaml", "config", "-q"); err != nil {
		t.Fatalf("docker-compose config: %v", err)
	}
	// Without the host's public address media cannot work: refuse to start.
	_, err = runToolEnv(t, ".", map[string]string{"TELEVISIT_PUBLIC_IP": ""}, dc, "-f", "compose.yaml", "config", "-q")
	if err == nil || !strings.Contains(err.Error(), "TELEVISIT_PUBLIC_IP") {
		t.Errorf("docker-compose config without TELEVISIT_PUBLIC_IP: got %v, want an error naming it", err)
	}
	out, err := runToolEnv(t, ".", withIP, dc, "-f", "compose.yaml", "config", "--services")
	if err != nil {
		t.Fatalf("docker-compose config --services: %v", err)
	}
	got := strings.Fields(out)
	for _, want := range []string{"televisit", "migrate", "postgres", "minio", "minio-init", "coturn"} {
		if !slices.Contains(got, want) {
			t.Errorf("service %q missing; services: %v", want, got)
		}
	}
}

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     any               `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Secrets     []string          `yaml:"secrets"`
		ReadOnly    bool              `yaml:"read_only"`
		CapDrop     []string          `yaml:"cap_drop"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	if err := yaml.Unmarshal([]byte(readFile(t, "compose.yaml")), &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// TestComposeInvariants checks what docker-compose cannot: health checks on
// /readyz, migrations before serve, secrets only from files, images pinned,
// televisit locked down.
func TestComposeInvariants(t *testing.T) {
	c := readCompose(t)
	tv := c.Services["televisit"]
	if hc := strings.Join(tv.Healthcheck.Test, " "); !strings.Contains(hc, "/readyz") {
		t.Errorf("televisit healthcheck %q does not ask /readyz", hc)
	}
	if d := tv.DependsOn["migrate"].Condition; d != "service_completed_successfully" {
		t.Errorf("televisit depends on migrate with %q, want service_completed_successfully", d)
	}
	if d := tv.DependsOn["postgres"].Condition; d != "service_healthy" {
		t.Errorf("televisit depends on postgres with %q, want service_healthy", d)
	}
	if !tv.ReadOnly || !slices.Contains(tv.CapDrop, "ALL") {
		t.Error("televisit must run with read_only: true and cap_drop: [ALL]")
	}
	for name, s := range c.Services {
		if s.Image == "" || strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":") {
			t.Errorf("service %s: image %q is not pinned to a tag", name, s.Image)
		}
		for k, v := range s.Environment {
			secretish := regexp.MustCompile(`PASSWORD|SECRET|_KEY$|DATABASE_URL$`).MatchString(k)
			if secretish && !strings.HasSuffix(k, "_FILE") {
				t.Errorf("service %s: %s=%q puts a secret in the environment; use a *_FILE secret", name, k, v)
			}
		}
		for _, sec := range s.Secrets {
			f := c.Secrets[sec].File
			if !strings.HasPrefix(f, "./secrets/") {
				t.Errorf("service %s: secret %s comes from %q, want a file under ./secrets/", name, sec, f)
			}
		}
	}
}

// TestComposeSampleConfig generates the secrets as an operator would and
// loads deploy/televisit.yaml with them exactly as `televisit serve` does.
func TestComposeSampleConfig(t *testing.T) {
	dir := genSecrets(t)
	before := readFile(t, filepath.Join(dir, "phi_keyring"))
	genSecrets2 := func() {
		if _, err := runTool(t, ".", "bash", "gen-secrets.sh", dir); err != nil {
			t.Fatal(err)
		}
	}
	genSecrets2()
	if after := readFile(t, filepath.Join(dir, "phi_keyring")); after != before {
		t.Fatal("gen-secrets.sh replaced an existing key: running it again must keep keys")
	}
	// compose mounts secret NAME at /run/secrets/NAME from its file.
	mnt := t.TempDir()
	c := readCompose(t)
	for name, s := range c.Secrets {
		src := filepath.Join(dir, strings.TrimPrefix(s.File, "./secrets/"))
		if _, err := os.Stat(src); err != nil {
			t.Fatalf("gen-secrets.sh did not create %s for secret %s", s.File, name)
		}
		if err := os.Symlink(src, filepath.Join(mnt, name)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := loadServeConfig(t, readFile(t, "televisit.yaml"), map[string]string{"/run/secrets/": mnt})
	if !cfg.Server.TLS() || cfg.Server.Addr != ":8443" {
		t.Errorf("televisit.yaml must serve TLS on :8443, got addr %q tls %v", cfg.Server.Addr, cfg.Server.TLS())
	}
	tc := turncred.Config{Secret: cfg.TURN.Secret.Value(), TTL: cfg.TURN.TTL, URLs: cfg.TURN.URLs}
	if err := tc.Validate(); err != nil {
		t.Errorf("TURN settings with the generated secret: %v", err)
	}
	if cfg.Media.UDPPort != 50000 {
		t.Errorf("media.udp_port %d, but compose publishes 50000/udp", cfg.Media.UDPPort)
	}
	// The spool is a volume the image prepares for the non-root user.
	spool := cfg.Recording.SpoolDir
	if !cfg.Recording.Enabled() || !strings.Contains(readFile(t, "compose.yaml"), "spool:"+spool+"\n") ||
		!strings.Contains(readFile(t, "Dockerfile"), "--chown=65532:65532 /out/spool "+spool+"\n") {
		t.Errorf("recording.spool_dir %q must be the compose spool volume and prepared in the Dockerfile", spool)
	}
}

// TestHealthcheckInImage checks that the compose health check's binary is
// built and copied into the image.
func TestHealthcheckInImage(t *testing.T) {
	df := readFile(t, "Dockerfile")
	tv := readCompose(t).Services["televisit"]
	if len(tv.Healthcheck.Test) < 2 || tv.Healthcheck.Test[0] != "CMD" {
		t.Fatalf("televisit healthcheck %q: want an exec-form CMD (the image has no shell)", tv.Healthcheck.Test)
	}
	bin := tv.Healthcheck.Test[1]
	if !strings.Contains(df, "-o /out/"+filepath.Base(bin)+" ./deploy/healthcheck") ||
		!regexp.MustCompile(`(?m)^COPY --from=build .*/out/`+regexp.QuoteMeta(filepath.Base(bin))+` .*`+regexp.QuoteMeta(filepath.Dir(bin))+`/$`).MatchString(df) {
		t.Errorf("the image does not build and copy %s from ./deploy/healthcheck", bin)
	}
}

// TestOperationsLinks checks that docs/operations.md's relative links name
// files that exist.
func TestOperationsLinks(t *testing.T) {
	doc := readFile(t, "../docs/operations.md")
	links := regexp.MustCompile(`\]\(([^)#:]+)(#[^)]*)?\)`).FindAllStringSubmatch(doc, -1)
	if len(links) == 0 {
		t.Fatal("no relative links found: the pattern is wrong")
	}
	for _, l := range links {
		if _, err := os.Stat(filepath.Join("../docs", l[1])); err != nil {
			t.Errorf("docs/operations.md links to %s, which does not exist", l[1])
		}
	}
}

// TestDockerfile checks the image's invariants: a multi-stage build of a
// static binary with the Go version of go.mod, a distroless or scratch final
// stage, a non-root user, serve as the command, no secrets.
func TestDockerfile(t *testing.T) {
	df := readFile(t, "Dockerfile")
	var froms []string
	var lastStage []string
	for _, line := range strings.Split(df, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "FROM ") {
			froms = append(froms, line)
			lastStage = nil
		}
		lastStage = append(lastStage, line)
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got FROM lines %q", froms)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readFile(t, "../go.mod"))
	if goVersion == nil || !strings.Contains(df, "ARG GO_VERSION="+goVersion[1]+"\n") ||
		!strings.HasPrefix(froms[0], "FROM golang:${GO_VERSION}") {
		t.Errorf("the build stage must be golang:${GO_VERSION} with GO_VERSION = go.mod's %q", goVersion)
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "FROM gcr.io/distroless/static") && final != "FROM scratch" {
		t.Errorf("final stage %q is neither distroless static nor scratch", final)
	}
	stage := strings.Join(lastStage, "\n")
	user := regexp.MustCompile(`(?m)^USER (\S+)`).FindStringSubmatch(stage)
	if user == nil || user[1] == "root" || strings.HasPrefix(user[1], "0") {
		t.Errorf("final stage must set a non-root USER, got %q", user)
	}
	if !regexp.MustCompile(`(?m)^(CMD|ENTRYPOINT) .*"serve"`).MatchString(stage) {
		t.Error(`the image must run "televisit serve" (CMD or ENTRYPOINT)`)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "./cmd/televisit", "EXPOSE 8443/tcp 50000/udp"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?mi)^(ENV|ARG) \S*(PASSWORD|SECRET|TOKEN|PHI|KEY)`).MatchString(df) {
		t.Error("Dockerfile bakes a secret-looking ENV/ARG into the image")
	}
	ignore := strings.Fields(readFile(t, "../.dockerignore"))
	for _, want := range []string{".git", ".dev", "deploy/secrets"} {
		if !slices.Contains(ignore, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}
