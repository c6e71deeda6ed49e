package flux

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// components are the directories build.sh filled: each holds bin/ and crds/.
type components struct {
	apiserver, controllers, notification string
}

// buildComponents builds (or finds in the cache) kube-apiserver and the three Flux controllers
// with components/build.sh.
func buildComponents(t *testing.T) components {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("bash", filepath.Join("components", "build.sh"), "all")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build the Flux components (components/build.sh): %v", err)
	}
	dirs := strings.Fields(string(out))
	if len(dirs) != 3 {
		t.Fatalf("components/build.sh printed %q, want three directories", out)
	}
	t.Logf("components ready in %s: %s", time.Since(start).Round(time.Second), strings.Join(dirs, " "))
	return components{apiserver: dirs[0], controllers: dirs[1], notification: dirs[2]}
}

// cluster is etcd, kube-apiserver and the Flux controllers on loopback.
type cluster struct {
	dir        string
	kubeconfig string
	// notificationAddr is where the controllers send events (notification-controller's
	// --events-addr).
	notificationAddr string
}

// startCluster starts etcd and kube-apiserver, applies the controllers' CRDs and starts
// source-, kustomize- and notification-controller, all stopped when the test ends.
func startCluster(t *testing.T, c components) *cluster {
	t.Helper()
	dir := t.TempDir()
	etcdAddr, etcdPeer := freeAddr(t), freeAddr(t)
	etcd := start(t, dir, "etcd", nil, "etcd",
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", "http://"+etcdAddr, "--advertise-client-urls", "http://"+etcdAddr,
		"--listen-peer-urls", "http://"+etcdPeer, "--initial-advertise-peer-urls", "http://"+etcdPeer,
		"--initial-cluster", "default=http://"+etcdPeer)
	etcd.waitReady(t, "http://"+etcdAddr+"/health", "", 30*time.Second)

	token := randomHex(t, 16)
	write(t, filepath.Join(dir, "tokens.csv"), token+",admin,admin,system:masters\n")
	writeServiceAccountKey(t, dir)
	apiAddr := freeAddr(t)
	_, port, _ := strings.Cut(apiAddr, ":")
	api := start(t, dir, "kube-apiserver", nil, filepath.Join(c.apiserver, "bin", "kube-apiserver"),
		"--etcd-servers=http://"+etcdAddr, "--bind-address=127.0.0.1", "--secure-port="+port,
		"--cert-dir="+filepath.Join(dir, "certs"), "--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=RBAC", "--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16", "--disable-admission-plugins=ServiceAccount")
	api.waitReady(t, "https://"+apiAddr+"/readyz", token, 2*time.Minute)

	k := &cluster{dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig")}
	write(t, k.kubeconfig, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: loopback
  cluster:
    server: https://%s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: loopback
  context: {cluster: loopback, user: admin}
current-context: loopback
`, apiAddr, token))

	for _, d := range []string{c.controllers, c.notification} {
		k.kubectl(t, "", "apply", "--server-side", "-f", filepath.Join(d, "crds"))
	}
	k.kubectl(t, "", "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
	k.kubectl(t, "", "create", "namespace", "flux-system")

	k.notificationAddr = freeAddr(t)
	env := []string{"KUBECONFIG=" + k.kubeconfig, "RUNTIME_NAMESPACE=flux-system"}
	controller := func(name, bin string, extra ...string) {
		health := freeAddr(t)
		args := append([]string{"--enable-leader-election=false", "--metrics-addr=" + freeAddr(t),
			"--health-addr=" + health, "--log-level=debug"}, extra...)
		p := start(t, dir, name, env, bin, args...)
		p.waitReady(t, "http://"+health+"/readyz", "", 2*time.Minute)
	}
	controller("notification-controller", filepath.Join(c.notification, "bin", "notification-controller"),
		"--events-addr="+k.notificationAddr, "--receiverAddr="+freeAddr(t))
	storage := freeAddr(t)
	// source-controller refuses a storage path that does not exist ("invalid dir path").
	if err := os.MkdirAll(filepath.Join(dir, "storage"), 0o755); err != nil {
		t.Fatal(err)
	}
	events := "--events-addr=http://" + k.notificationAddr + "/"
	controller("source-controller", filepath.Join(c.controllers, "bin", "source-controller"), events,
		"--storage-path="+filepath.Join(dir, "storage"), "--storage-addr="+storage, "--storage-adv-addr="+storage)
	controller("kustomize-controller", filepath.Join(c.controllers, "bin", "kustomize-controller"), events)
	return k
}

// kubectl runs kubectl against the cluster with stdin, failing the test on error.
func (k *cluster) kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := k.tryKubectl(stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (k *cluster) tryKubectl(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+k.kubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return string(out), fmt.Errorf("kubectl %s: %s", strings.Join(args, " "), msg)
	}
	return string(out), nil
}

func writeServiceAccountKey(t *testing.T, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "sa.key"), string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	write(t, filepath.Join(dir, "sa.pub"), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
