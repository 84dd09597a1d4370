# Sourced by the proofs that need Go commands (scripts/signing.sh,
# scripts/gitlab-image-jobs.sh): each built once per version from the Go
# module proxy into the proof cache (scripts/lib/proof_cache.sh), then
# reused. A build goes to a temporary directory beside the cache and is
# renamed into place, so a stopped build leaves nothing that looks finished.

# go_tool PACKAGE VERSION: the path of PACKAGE@VERSION's command (go install).
go_tool() {
  local pkg=$1 version=$2 name=${1##*/} dir=$PROOF_CACHE/bin tmp status=0
  local bin=$dir/$name-$version
  if [ ! -x "$bin" ]; then
    mkdir -p "$dir" && tmp=$(mktemp -d "$dir/.build-$name.XXXXXX") || return 1
    echo "building $name $version from the Go module proxy, once (into $dir)" >&2
    (cd "$tmp" && GOBIN=$tmp go install "$pkg@$version") >&2 && mv -f "$tmp/$name" "$bin" || status=$?
    rm -rf "$tmp"
    [ "$status" -eq 0 ] || return "$status"
  fi
  echo "$bin"
}

# go_module_tool MODULE VERSION PACKAGE: the path of the command PACKAGE (a
# directory of MODULE, ./cmd/x) built inside MODULE@VERSION's own source, as
# its go.mod says: go install refuses a module whose go.mod has replace or
# exclude directives (BuildKit's does).
go_module_tool() {
  local module=$1 version=$2 pkg=$3 name=${3##*/} dir=$PROOF_CACHE/bin tmp source status=0
  local bin=$dir/$name-$version
  if [ ! -x "$bin" ]; then
    mkdir -p "$dir" && tmp=$(mktemp -d "$dir/.build-$name.XXXXXX") || return 1
    echo "building $name $version ($module) from the Go module proxy, once (into $dir)" >&2
    {
      source=$(cd "$tmp" && go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') &&
        [ -n "$source" ] && cp -R "$source" "$tmp/src" && chmod -R u+w "$tmp/src" &&
        (cd "$tmp/src" && go build -o "$tmp/$name" "$pkg") >&2 && mv -f "$tmp/$name" "$bin"
    } || status=$?
    rm -rf "$tmp"
    [ "$status" -eq 0 ] || return "$status"
  fi
  echo "$bin"
}
