module github.com/ocipromote/ocipromote/test/flux

go 1.26.0

require (
	github.com/ocipromote/ocipromote v0.0.0
	go.yaml.in/yaml/v3 v3.0.4
)

replace github.com/ocipromote/ocipromote => ../..
