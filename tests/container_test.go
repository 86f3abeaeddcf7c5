package tests

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
	"webshellbeat/internal/testfiles"
)

// The shipped nginx_container module (filestream's own container parser,
// then decode_container_log) on an nginx container's output as Docker and
// Kubernetes keep it (module/container/testdata): the events, datasets,
// streams, containers and alerts that hunt gives for the same files. The
// Kubernetes file is a link into a pod's folder, as in /var/log/containers.
func TestNginxContainerModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	logs := t.TempDir()
	id := strings.Repeat("5e", 32)
	docker := filepath.Join(logs, "docker", id, id+"-json.log")
	pod := filepath.Join(logs, "pods", "shop_web-5c9f-abcde_0e1d", "nginx", "0.log")
	link := filepath.Join(logs, "containers", "web-5c9f-abcde_shop_nginx-"+id+".log")
	testfiles.Copy(t, "../module/container/testdata/nginx-docker-json.log", docker)
	testfiles.Copy(t, "../module/container/testdata/nginx-cri.log", pod)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(pod, link); err != nil {
		t.Fatal(err)
	}

	wantEvents, wantAlerts := huntCounts(t, docker, link)
	want := huntKinds(t, docker, link)
	dir, cfgPath := shippedHome(t)
	runBeat(t, cfgPath, dir, func() bool { return len(readDocs(t, dir)) >= wantEvents },
		append(fileOutputFlags(dir), "--modules", "nginx_container", "-M", fmt.Sprintf("nginx_container.paths=[%q, %q]", docker, link),
			"-M", "nginx_container.prospector.scanner.fingerprint.length=64")...)
	events, gotAlerts := eventAlerts(t, dir)
	if events != wantEvents || !maps.Equal(gotAlerts, wantAlerts) {
		t.Errorf("the beat's nginx_container module: %d documents, alerts %v; hunt: %d events, alerts %v", events, gotAlerts, wantEvents, wantAlerts)
	}
	var got []string
	for _, d := range readDocs(t, dir) {
		if !isDerived(d) {
			got = append(got, kind(d))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the beat's documents by dataset, stream, container, pod, level:\n%s\nhunt's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// huntKinds hunts paths and returns kind of each event, sorted.
func huntKinds(t *testing.T, paths ...string) []string {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if _, err := hunt.Run(paths, detectorFunc(func(doc map[string]any) bool {
		alert := det.Detect(doc)
		out = append(out, kind(doc))
		return alert
	}), func(map[string]any) {}, nil); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

type detectorFunc func(map[string]any) bool

func (f detectorFunc) Detect(doc map[string]any) bool { return f(doc) }

// kind sums up a document of a container's line.
func kind(d map[string]any) string {
	s := func(k string) string { return detection.LookupString(d, k) }
	return strings.Join([]string{s("event.dataset"), s("event.kind"), s("stream"), s("container.id")[:4], s("kubernetes.pod.name"), s("log.level"), s("url.original")}, " ")
}
