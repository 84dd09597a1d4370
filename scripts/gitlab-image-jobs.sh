#!/usr/bin/env bash
# Runs a generated GitLab project's image jobs as a pipeline on the default
# branch would: each job's own script from its .gitlab-ci.yml
# (scripts/lib/ci_steps.py), in order, in a directory holding only what the
# job gets (a checkout, or the artifacts of the jobs it needs), with a /tmp
# of its own, as a job's container has:
#   image-build  rootless BuildKit: buildkitd, buildctl and
#                buildctl-daemonless.sh of the version the job's image is,
#                from the Go module proxy, under Debian's rootlesskit, as an
#                unprivileged user, with the job's variables (BUILDKITD_FLAGS);
#                a RUN step runs. It writes the OCI layout and its digest.
#   image-scan   the layout checks, then Trivy, played by a stand-in (its
#                vulnerability database is on ghcr.io, out of reach here)
#                that writes a small bill of materials.
#   image-push   Debian's skopeo pushes the layout to a registry on 127.0.0.1
#                (go-containerregistry's) and checks the digest there.
#   image-sign   the real cosign signs, attests the bill of materials and the
#                build provenance the job writes, and verifies, with a
#                certificate for the identity GitLab's ID token gets, from a
#                Fulcio stand-in (scripts/lib/fake_fulcio.sh).
# Then a deploy's checks: deploy/verify-signature.sh prints the pushed
# digest, and the README's cosign verify-attestation commands pass, the
# provenance naming the digest, the commit, the pipeline and the BuildKit
# image image-build runs. Refused: a layout that is not the digest built, or
# lists another image too (image-scan); a scanned digest that is not the
# layout's (image-push); an image with no provenance (the README's check).
# Limits: Docker Hub is out of reach, so the project's Dockerfile (its base is
# python on Docker Hub) is replaced by one FROM a busybox image pushed to the
# local registry, whose certificate BuildKit trusts by its own configuration
# (not the job's flags); Debian's rootlesskit stands in for the image's; GitLab's
# runner and its per-job containers are not here. KEEP=1 keeps the work
# directory; --tools only builds the Go tools. Needs root (an unprivileged
# user is made, with subordinate ids), Go and the Go module proxy, Debian.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
started=$SECONDS
# shellcheck source=scripts/lib/common.sh
. "$repo/scripts/lib/common.sh"
# shellcheck source=scripts/lib/proof_cache.sh
. "$repo/scripts/lib/proof_cache.sh"
# shellcheck source=scripts/lib/go_tools.sh
. "$repo/scripts/lib/go_tools.sh"
# shellcheck source=scripts/lib/fake_fulcio.sh
. "$repo/scripts/lib/fake_fulcio.sh"
# shellcheck source=scripts/lib/claims.sh
. "$repo/scripts/lib/claims.sh"

BUILDKIT_VERSION=v0.33.1 # the version of image-build's image (checked below)
COSIGN_VERSION=v3.1.3    # the version image-sign installs (checked below)
GGCR_VERSION=v0.22.1     # go-containerregistry: registry and crane
BUILDER=rampart-builder  # the unprivileged user image-build runs as

echo "== tools"
tools_start=$SECONDS
BUILDKITD=$(go_module_tool github.com/moby/buildkit "$BUILDKIT_VERSION" ./cmd/buildkitd)
BUILDCTL=$(go_module_tool github.com/moby/buildkit "$BUILDKIT_VERSION" ./cmd/buildctl)
COSIGN=$(go_tool github.com/sigstore/cosign/v3/cmd/cosign "$COSIGN_VERSION")
CRANE=$(go_tool github.com/google/go-containerregistry/cmd/crane "$GGCR_VERSION")
REGISTRY=$(go_tool github.com/google/go-containerregistry/cmd/registry "$GGCR_VERSION")
if [ "${1:-}" = --tools ]; then
  echo "tools built in $((SECONDS - tools_start)) s"
  exit 0
fi
install_commands openssl socat jq rootlesskit newuidmap:uidmap runc:runc skopeo busybox:busybox-static python3
buildkit_source=$(cd / && go mod download -json "github.com/moby/buildkit@$BUILDKIT_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
id -u "$BUILDER" >/dev/null 2>&1 || as_root useradd --create-home --shell /usr/sbin/nologin "$BUILDER"
grep -q "^$BUILDER:" /etc/subuid || { echo "$BUILDER has no subordinate ids in /etc/subuid"; exit 1; }

# Not under /tmp: each job gets a /tmp of its own, over the machine's.
work=$(mktemp -d /var/tmp/rampart-gitlab-jobs.XXXXXX)
chmod 755 "$work"
registry_pid="" socat_pid=""
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && [ -s "$work/log" ]; then
    echo "gitlab-image-jobs.sh stopped (exit $status); the end of its log:"
    tail -n 30 "$work/log"
  fi
  [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
  [ -z "$socat_pid" ] || kill "$socat_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/bin" "$work/out"
# The jobs see their own /tmp, so nothing they run may live there (the proof
# cache may): copies in the work directory.
cp "$BUILDKITD" "$work/bin/buildkitd" && cp "$BUILDCTL" "$work/bin/buildctl" && cp "$COSIGN" "$work/bin/cosign"
COSIGN=$work/bin/cosign
cp "$buildkit_source/examples/buildctl-daemonless/buildctl-daemonless.sh" "$work/bin/"
chmod 755 "$work/bin"/*
(cd "$repo" && go build -o "$work/rampart" .)
python3 -m venv "$work/py" && "$work/py/bin/pip" install --quiet pyyaml==6.0.3
echo "tools ready in $((SECONDS - tools_start)) s"

steps() { "$work/py/bin/python" "$repo/scripts/lib/ci_steps.py" "$@"; }

# The registry: go-containerregistry's, in memory, behind socat's TLS, as
# GitLab's registry is (skopeo login speaks nothing else). Its certificate
# is trusted through SSL_CERT_FILE (Go's, in every tool here) and BuildKit's
# configuration, and nothing else is.
start_registry "$REGISTRY" "$work/registry.log"
plain=127.0.0.1:$registry_port
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/registry.key" -out "$work/registry.pem" >>"$work/log" 2>&1
tls_port=$(free_port)
socat "OPENSSL-LISTEN:$tls_port,bind=127.0.0.1,reuseaddr,fork,cert=$work/registry.pem,key=$work/registry.key,verify=0" \
  "TCP:$plain" 2>>"$work/log" &
socat_pid=$!
registry=127.0.0.1:$tls_port
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$tls_port") 2>/dev/null && break; sleep 0.1; done
export SSL_CERT_FILE=$work/registry.pem
echo "registry on $registry (go-containerregistry $GGCR_VERSION, behind socat's TLS)"

(cd "$work" && "$work/rampart" new shop --yes --no-git --deploy compose --ci gitlab --output "$work/shop") >>"$work/log" 2>&1
pipeline=$work/shop/.gitlab-ci.yml
identity=https://gitlab.com/acme/shop//.gitlab-ci.yml@refs/heads/main
issuer=https://gitlab.com
commit=$(random_hex 20)

# What GitLab gives every job of this pipeline: a push to main of acme/shop
# on gitlab.com, the registry being the local one.
ci_variables=(
  CI_SERVER_URL=https://gitlab.com CI_SERVER_HOST=gitlab.com CI_PROJECT_PATH=acme/shop
  CI_PROJECT_URL=https://gitlab.com/acme/shop CI_PROJECT_VISIBILITY=public
  CI_DEFAULT_BRANCH=main CI_COMMIT_BRANCH=main CI_COMMIT_SHA="$commit"
  CI_PIPELINE_URL=https://gitlab.com/acme/shop/-/pipelines/4242
  CI_PIPELINE_CREATED_AT="$(date -u +%Y-%m-%dT%H:%M:%SZ)" CI_CONFIG_PATH=.gitlab-ci.yml
  CI_REGISTRY="$registry" CI_REGISTRY_IMAGE="$registry/acme/shop"
  CI_REGISTRY_USER=gitlab-ci-token CI_REGISTRY_PASSWORD=proof-job-token
)

# run_job JOB DIR [USER] [NAME=VALUE...]: JOB's script, as `sh -e` (GitLab
# stops a job at its first failing line), in DIR, as USER (root if empty),
# with nothing of this machine's environment but PATH: GitLab's variables,
# the job's own variables:, SSL_CERT_FILE (the registry's certificate) and
# NAME=VALUE. /tmp is a fresh tmpfs.
run_job() {
  local job=$1 dir=$2 user=${3:-} script
  shift 3 || shift $#
  script=$(steps gitlab "$pipeline" "$job") || return 1
  mapfile -t job_variables < <(steps gitlab-variables "$pipeline" "$job")
  local as=()
  [ -z "$user" ] || as=(runuser -u "$user" --)
  (cd "$dir" && unshare --mount --propagation private sh -c 'mount -t tmpfs -o mode=1777 job-tmp /tmp && exec "$@"' sh \
    "${as[@]}" env -i PATH="$work/job-path/$job:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" HOME="$dir" \
    SSL_CERT_FILE="$SSL_CERT_FILE" \
    "${ci_variables[@]}" "${job_variables[@]}" "$@" sh -ec "$script")
}

echo "== the pipeline's image jobs, from $(basename "$pipeline") of a generated project"
pipeline_buildkit=$(sed -n 's|^ *moby/buildkit:\(v[0-9.]*\)-rootless@sha256:\([0-9a-f]\{64\}\)$|\1 \2|p' "$pipeline")
claim "image-build's image is BuildKit $BUILDKIT_VERSION rootless, by digest ($pipeline_buildkit)" \
  test "${pipeline_buildkit%% *}" = "$BUILDKIT_VERSION"
claim "image-sign installs cosign $COSIGN_VERSION" \
  grep -qF "go install github.com/sigstore/cosign/v3/cmd/cosign@$COSIGN_VERSION" "$pipeline"

# The base: busybox (Debian's static build) as /bin/sh, pushed here.
mkdir -p "$work/base/bin"
cp "$(command -v busybox)" "$work/base/bin/busybox" && ln -s busybox "$work/base/bin/sh"
tar -C "$work/base" -cf "$work/base.tar" bin
"$CRANE" append --oci-empty-base -f "$work/base.tar" -t "$registry/proof/base:1" >>"$work/log" 2>&1
"$CRANE" mutate --set-platform linux/amd64 -t "$registry/proof/base:1" "$registry/proof/base:1" >>"$work/log" 2>&1
base=$registry/proof/base@$("$CRANE" digest "$registry/proof/base:1")
cat >"$work/shop/Dockerfile" <<EOF
# The proof's stand-in for the project's Dockerfile (scripts/gitlab-image-jobs.sh):
# its python base is on Docker Hub, out of reach here.
FROM $base
RUN echo "built by a RUN step as uid \$(id -u)" > /built.txt
COPY pyproject.toml /app/pyproject.toml
EOF

# image-build: a checkout as the runner makes one (root's, every file
# writable by all: GitLab's Docker executor clones with umask 0000), BuildKit's
# configuration in the builder's home (the registry's certificate); USER,
# HOME and XDG_RUNTIME_DIR set as the image sets them (rootless buildkitd
# keeps its state under HOME, and takes its rootless defaults only with USER
# set). The image is Alpine: its shell and tools are BusyBox's, and so are
# the job's here (image-scan's image, Trivy's, too).
mkdir -p "$work/jobs" "$work/job-path/image-build" "$work/job-path/image-scan"
busybox --install -s "$work/job-path/image-build" && busybox --install -s "$work/job-path/image-scan"
cp -R "$work/shop" "$work/jobs/build"
chmod -R a+rwX "$work/jobs/build"
mkdir -p "$work/jobs/build-home/.config/buildkit" "$work/jobs/build-run"
printf '[registry."%s"]\n  http = false\n  ca = ["%s"]\n' "$registry" "$SSL_CERT_FILE" >"$work/jobs/build-home/.config/buildkit/buildkitd.toml"
ln -s "$work/bin/buildkitd" "$work/bin/buildctl" "$work/bin/buildctl-daemonless.sh" "$work/job-path/image-build/"
as_root chown -R "$BUILDER" "$work/jobs/build-home" "$work/jobs/build-run"
chmod 700 "$work/jobs/build-run"
claim "image-build: rootless BuildKit, as $BUILDER (uid $(id -u "$BUILDER")), writes the layout and its digest" \
  run_job image-build "$work/jobs/build" "$BUILDER" XDG_RUNTIME_DIR="$work/jobs/build-run" \
  HOME="$work/jobs/build-home" USER="$BUILDER"
built=$(cat "$work/jobs/build/image.digest" 2>/dev/null || true)
echo "  built $built"

# job_dir NAME FILE...: $work/jobs/NAME, fresh, holding copies of the FILEs:
# the artifacts a job is given by the jobs it needs.
job_dir() {
  local dir=$work/jobs/$1; shift
  rm -rf "$dir" && mkdir -p "$dir" && cp -R "$@" "$dir/"
}
# scan_dir NAME: image-build's artifacts, as image-scan gets them.
scan_dir() { job_dir "$1" "$work/jobs/build/image" "$work/jobs/build/image.digest"; }
cat >"$work/job-path/image-scan/trivy" <<'EOF'
#!/bin/sh
# Trivy's stand-in: its vulnerability database is on ghcr.io, out of reach.
# Records its arguments; asked for a CycloneDX bill of materials, writes one.
printf '%s\n' "$*" >>trivy-calls
output=
while [ $# -gt 0 ]; do
  [ "$1" != --output ] || output=$2
  shift
done
[ -z "$output" ] || printf '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}\n' >"$output"
EOF
chmod 755 "$work/job-path/image-scan/trivy"
scan_dir scan
claim "image-scan: the layout holds the digest built and nothing else; Trivy asked to fail on findings" \
  eval 'run_job image-scan "$work/jobs/scan" && [ "$(cat "$work/jobs/scan/scanned.digest")" = "$built" ] &&
    grep -qx -- "image --input image --exit-code 1 --ignore-unfixed --severity CRITICAL,HIGH --no-progress" \
      "$work/jobs/scan/trivy-calls"'
scan_dir scan-other
printf 'sha256:%s\n' "$(random_hex 32)" >"$work/jobs/scan-other/image.digest"
claim "image-scan refuses a digest that is not the layout's, before Trivy" \
  eval '! run_job image-scan "$work/jobs/scan-other" && [ ! -e "$work/jobs/scan-other/trivy-calls" ] &&
    [ ! -e "$work/jobs/scan-other/scanned.digest" ]'
scan_dir scan-two
sed -i 's/"manifests":\[\(.*\)\]/"manifests":[\1,\1]/' "$work/jobs/scan-two/image/index.json"
claim "image-scan refuses a layout that lists a second image, before Trivy" \
  eval 'grep -c sha256 "$work/jobs/scan-two/image/index.json" && ! run_job image-scan "$work/jobs/scan-two" &&
    [ ! -e "$work/jobs/scan-two/trivy-calls" ]'

# image-push: the layout and the scanned digest.
push_dir() { job_dir "$1" "$work/jobs/build/image" "$work/jobs/scan/scanned.digest"; }
push_dir push-other
printf 'sha256:%s\n' "$(random_hex 32)" >"$work/jobs/push-other/scanned.digest"
claim "image-push refuses a scanned digest that is not the layout's, and pushes nothing" \
  eval '! run_job image-push "$work/jobs/push-other" &&
    ! "$CRANE" digest "$registry/acme/shop:$commit"'
push_dir push
claim "image-push: skopeo pushes the layout as it is; the registry holds the scanned digest" \
  eval 'run_job image-push "$work/jobs/push" &&
    [ "$("$CRANE" digest "$registry/acme/shop:$commit")" = "$built" ]'
claim "the image ran its RUN step (rootless: uid 0 in the build's user namespace)" \
  eval '"$CRANE" export "$registry/acme/shop@$built" - | tar -xOf - built.txt | grep -qx "built by a RUN step as uid 0"'

# image-sign: the scanned digest and the bill of materials (image-scan's
# artifacts); go install is already done (cosign $COSIGN_VERSION, built
# here); cosign signs with a certificate for the identity GitLab's ID token
# gets, issued by the Fulcio stand-in; it verifies as a deploy does.
fulcio_ca "$work/fulcio" "fake fulcio" >>"$work/log" 2>&1
verifying_cosign "$work/verify-path" "$COSIGN" "$work/fulcio/trusted_root.json" "$work/cosign-calls"
"$COSIGN" signing-config create --out "$work/no-services.json" >>"$work/log" 2>&1
fulcio_leaf "$work/fulcio" "$work/leaf" "$identity" "$issuer" >>"$work/log" 2>&1
COSIGN_PASSWORD=proof-only "$COSIGN" import-key-pair --key "$work/leaf.key" --output-key-prefix "$work/leaf-cosign" >>"$work/log" 2>&1
mkdir -p "$work/job-path/image-sign"
cat >"$work/job-path/image-sign/go" <<EOF
#!/bin/sh
# go as image-sign runs it: cosign $COSIGN_VERSION is already built here.
[ "\$*" = "install github.com/sigstore/cosign/v3/cmd/cosign@$COSIGN_VERSION" ] || { echo "go \$*: not expected" >&2; exit 99; }
EOF
cat >"$work/job-path/image-sign/cosign" <<EOF
#!/bin/sh
# cosign as image-sign finds it: the real one ($COSIGN_VERSION). Keyless
# signing gets its certificate from Fulcio for the job's ID token; here the
# proof's Fulcio stand-in issued it for $identity, and
# the job must hold an ID token (id_tokens). Verifying is the deploys'
# verifying cosign (verifying_cosign in scripts/lib/fake_fulcio.sh).
command=\$1
shift
case \$command in
  sign | attest)
    [ -n "\${SIGSTORE_ID_TOKEN:-}" ] || { echo "no ID token: keyless signing would fail" >&2; exit 1; }
    COSIGN_PASSWORD=proof-only exec "$COSIGN" "\$command" --key "$work/leaf-cosign.key" --certificate "$work/leaf.pem" \\
      --signing-config "$work/no-services.json" --trusted-root "$work/fulcio/trusted_root.json" "\$@" ;;
  verify | verify-attestation) exec "$work/verify-path/cosign" "\$command" "\$@" ;;
  login | version) exec "$COSIGN" "\$command" "\$@" ;;
  *) echo "cosign \$command: not expected in image-sign" >&2; exit 99 ;;
esac
EOF
chmod 755 "$work/job-path/image-sign"/*
job_dir sign "$work/jobs/scan/scanned.digest" "$work/jobs/scan/image.cdx.json"
claim "image-sign: signs the digest, attests the bill of materials and the build provenance, verifies" \
  eval 'run_job image-sign "$work/jobs/sign" "" SIGSTORE_ID_TOKEN=proof-id-token >"$work/sign.log" 2>&1 ||
    { cat "$work/sign.log"; false; }; cat "$work/sign.log"; grep -qxF "Signed $registry/acme/shop@$built as $identity" "$work/sign.log"'

echo "== a deploy's checks, as the README gives them"
script=$work/shop/deploy/verify-signature.sh
sed -i "s|^SIGNER_IDENTITY='.*'\$|SIGNER_IDENTITY='$identity'|" "$script"
claim "deploy/verify-signature.sh prints the pushed digest's reference" \
  eval '[ "$(PATH="$work/verify-path:$PATH" sh "$script" "$registry/acme/shop@$built")" = "$registry/acme/shop@$built" ]'

# readme_checks IMAGE_DIGEST: the README's attestation checks, its
# placeholders replaced by this pipeline's, run with the verifying cosign;
# what they print in $work/readme.out, cosign's complaints in $work/readme.err.
readme_checks() {
  python3 "$repo/scripts/lib/readme_block.py" "$work/shop/README.md" "Continuous integration" verify-attestation |
    sed -e "s|GROUP/PROJECT|acme/shop|g" -e "s|REGISTRY/shop@sha256:DIGEST|$registry/acme/shop@$1|g" >"$work/readme-checks.sh" &&
    cat "$work/readme-checks.sh" && ! grep -q 'GROUP\|REGISTRY\|DIGEST' "$work/readme-checks.sh" &&
    PATH="$work/verify-path:$PATH" sh -e "$work/readme-checks.sh" >"$work/readme.out" 2>"$work/readme.err"
}
claim "the README's checks pass and print the commit built ($commit)" \
  eval 'readme_checks "$built" && cat "$work/readme.out" "$work/readme.err" && [ "$(cat "$work/readme.out")" = "$commit" ]'
claim "the provenance is the statement the job wrote, of the digest pushed, with image-build's BuildKit" \
  eval 'PATH="$work/verify-path:$PATH" cosign verify-attestation --type slsaprovenance1 --certificate-identity "$identity" \
    --certificate-oidc-issuer "$issuer" "$registry/acme/shop@$built" >"$work/attestations.json" &&
    python3 "$repo/scripts/lib/check_provenance.py" "$work/attestations.json" "$built" "$commit" "$identity" "$pipeline_buildkit"'

# An image signed and with a bill of materials by the same identity, but no
# provenance: the README's provenance check prints no commit, for cosign's
# reason, while its bill-of-materials check passes.
unproven_image() {
  printf 'unproven\n' >"$work/unproven.txt" && tar -C "$work" -cf "$work/unproven.tar" unproven.txt &&
    "$CRANE" append --oci-empty-base -f "$work/unproven.tar" -t "$registry/acme/shop:unproven" &&
    unproven=$("$CRANE" digest "$registry/acme/shop:unproven") &&
    PATH="$work/job-path/image-sign:$PATH" SIGSTORE_ID_TOKEN=proof-id-token sh -ec '
      cosign sign --yes "$1" && cosign attest --yes --type cyclonedx --predicate "$2" "$1"' \
      sh "$registry/acme/shop@$unproven" "$work/jobs/sign/image.cdx.json"
}
claim "an image signed, with a bill of materials, no provenance: made" unproven_image
claim "the README's checks print no commit for it (none of the attestations matched the predicate type)" \
  eval 'readme_checks "$unproven"; cat "$work/readme.out" "$work/readme.err"; [ ! -s "$work/readme.out" ] &&
    grep -qF "none of the attestations matched the predicate type: slsaprovenance1" "$work/readme.err" &&
    [ "$(grep -c "^Verification for " "$work/readme.err")" -eq 1 ]'

echo "gitlab image jobs: $([ "$failed" -eq 0 ] && echo "$claims claims passed" || echo "$failed of $claims claims failed") in $((SECONDS - started)) s"
[ "$failed" -eq 0 ]
