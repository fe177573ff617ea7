# Sourced by check-modules and release: the module set's tools.
#
# modset_setup ROOT TMP: builds scripts/modset into TMP (the tool is its own
# module, outside go.work) and makes sure the third-party modules that the
# workspace's packages and tests import are in the local module cache (a
# no-op once it has been built).
# offline_go TMP PROXY: exports the environment in which the go command sees
# only the file proxy PROXY (see modset proxy) and the local module cache's
# download directory, which is in proxy layout: nothing is fetched from the
# network. It works outside the workspace and in a fresh module cache under
# TMP, so that unpublished zips never enter the user's.

modset_setup() {
	(cd "$1" && go list -deps -test $(go work edit -json | sed -n 's#.*"DiskPath": "\./\(.*\)".*#github.com/gopmdk/pmdk/\1/...#p') >/dev/null)
	GOWORK=off go -C "$1/scripts/modset" vet ./...
	GOWORK=off go -C "$1/scripts/modset" build -o "$2/modset" .
}

offline_go() {
	local cache
	cache=$(go env GOMODCACHE)/cache/download
	export GOWORK=off GOFLAGS="-mod=mod -modcacherw" GOMODCACHE="$1/modcache" GOTOOLCHAIN=local \
		GOPROXY="file://$2,file://$cache" GOSUMDB=off GONOSUMDB= GOPRIVATE= GONOPROXY= GOINSECURE=
}

# rm_tmp TMP: removes TMP, module cache included (read-only files).
rm_tmp() {
	chmod -R u+w "$1" 2>/dev/null || true
	rm -rf "$1"
}
