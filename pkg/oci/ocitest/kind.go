package ocitest

import "strings"

// Kind names what a request of Requests ("METHOD /path") does, so that tests and benchmarks can
// count requests by kind: "ping" (GET /v2/), "token" (a token from TokenPath), "list" (a page of
// tags), "POST upload", "PATCH upload" and "PUT upload" (a blob upload), "HEAD blob",
// "GET blob", and "HEAD manifest", "GET manifest", "PUT manifest", "DELETE manifest". Anything
// else is returned as it is.
func Kind(request string) string {
	method, path, _ := strings.Cut(request, " ")
	switch {
	case path == "/v2/":
		return "ping"
	case path == TokenPath:
		return "token"
	case strings.HasSuffix(path, "/tags/list"):
		return "list"
	case strings.Contains(path, "/blobs/uploads/"):
		return method + " upload"
	case strings.Contains(path, "/blobs/"):
		return method + " blob"
	case strings.Contains(path, "/manifests/"):
		return method + " manifest"
	}
	return request
}
