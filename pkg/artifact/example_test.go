package artifact_test

import (
	"archive/tar"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/ocipromote/ocipromote/pkg/artifact"
)

func ExampleImage() {
	dir, err := os.MkdirTemp("", "manifests")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for name, content := range map[string]string{
		"apps/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n",
		"apps/podinfo/deployment.yaml":    "kind: Deployment\n",
		"apps/podinfo/notes.md":           "left out by the ignore pattern\n",
		".git/HEAD":                       "left out as VCS metadata\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}

	layer, err := artifact.Pack(dir, []string{"*.md"})
	if err != nil {
		log.Fatal(err)
	}
	img, err := artifact.Image(layer, artifact.Metadata{
		Source:   "https://github.com/acme/platform",
		Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
		Created:  time.Date(2026, 8, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		Version:  "0.4.2-rc.3",
	})
	if err != nil {
		log.Fatal(err)
	}

	m, err := img.Manifest()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("manifest:", m.MediaType)
	fmt.Println("config:  ", m.Config.MediaType)
	fmt.Println("layer:   ", m.Layers[0].MediaType)
	fmt.Println("created: ", m.Annotations[artifact.AnnotationCreated])

	rc, err := layer.Uncompressed()
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%o %s\n", h.Mode, h.Name)
	}
	// Output:
	// manifest: application/vnd.oci.image.manifest.v1+json
	// config:   application/vnd.cncf.flux.config.v1+json
	// layer:    application/vnd.cncf.flux.content.v1.tar+gzip
	// created:  2026-08-01T10:00:00Z
	// 755 apps/
	// 755 apps/podinfo/
	// 644 apps/podinfo/deployment.yaml
	// 644 apps/podinfo/kustomization.yaml
}
