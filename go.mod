module github.com/ocipromote/ocipromote

go 1.26

require (
	github.com/Masterminds/semver/v3 v3.4.0 // indirect
	github.com/google/go-containerregistry v0.22.1 // indirect
	github.com/sethvargo/go-githubactions v1.3.2 // indirect
)
