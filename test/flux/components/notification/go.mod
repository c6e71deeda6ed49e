module github.com/ocipromote/ocipromote/test/flux/components/notification

go 1.26.0

require github.com/fluxcd/notification-controller v1.9.3

replace gopkg.in/yaml.v3 => gopkg.in/yaml.v3 v3.0.1
