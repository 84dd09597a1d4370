#!/usr/bin/env bash
# Proves the generated deploy/verify-signature.sh, GitHub's and GitLab's, for
# compose (an image) and for a virtual machine (a source archive; the
# "source" claims below),
# with the real cosign against a real OCI registry, offline on 127.0.0.1:
#   keyless  a private CA stands in for Fulcio (scripts/lib/fake_fulcio.sh)
#            and issues certificates as Fulcio would to a CI's identity;
#            cosign signs pushed digests with them (no transparency log). The
#            script, edited only where its user must (SIGNER_IDENTITY), prints
#            the reference of the CI's image (exit 0); refuses (exit 1) an
#            unsigned image, another branch's, another repository's, another
#            issuer's and another CA's signature, an expired certificate, a
#            signature moved onto another image, and an image that has only
#            an attestation by the CI's identity; and refuses bad input and a
#            cosign older than 3.1.3 (exit 2) before it runs cosign verify.
#   key      cosign generate-key-pair, sign, verify --key; an unsigned image,
#            another key's signature and a moved signature are refused.
# Limits: with no transparency log, every verification here happens while the
# ten-minute certificate is valid, as CI's own check does; a real deploy days
# later rests on the log entry's time and on Sigstore's trust root fetched
# over the network, which nothing here exercises. The source archives are
# one-file tarballs, not git archives.
# There is no Rekor, CT log or Sigstore TUF root here: the cosign that
# verify-signature.sh finds on PATH runs the real one with the proof's trust root
# (its comments say exactly what that relaxes). cosign, crane and registry are
# built from the Go module proxy once per version into the proof cache
# (scripts/lib/proof_cache.sh); `signing.sh --tools` only builds them.
# KEEP=1 keeps the work directory. Needs Go
# and the Go module proxy; installs openssl from Debian if it is missing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rampart-signing.XXXXXX)
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
registry_pid=""
cleanup() {
  local status=$?
  # A step outside the claims that failed stops the script: show why.
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && [ -s "$work/log" ]; then
    echo "signing.sh stopped (exit $status); the end of its log:"
    tail -n 30 "$work/log"
  fi
  [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

COSIGN_VERSION=v3.1.3 # the version the generated CI installs
GGCR_VERSION=v0.22.1  # go-containerregistry: registry and crane

echo "== tools"
tools_start=$SECONDS
COSIGN=$(go_tool github.com/sigstore/cosign/v3/cmd/cosign "$COSIGN_VERSION")
CRANE=$(go_tool github.com/google/go-containerregistry/cmd/crane "$GGCR_VERSION")
REGISTRY=$(go_tool github.com/google/go-containerregistry/cmd/registry "$GGCR_VERSION")
# --tools: only build them into the proof cache (.ci/run does it in the
# background, early, as cosign's first build takes minutes).
if [ "${1:-}" = --tools ]; then
  echo "tools built in $((SECONDS - tools_start)) s"
  exit 0
fi
install_commands openssl
(cd "$repo" && go build -o "$work/rampart" .)
"$COSIGN" version 2>&1 | grep GitVersion
echo "tools ready in $((SECONDS - tools_start)) s"

# cosign's own state stays in the work directory: no registry credentials of
# this machine's, no TUF cache, no trust from the environment.
export DOCKER_CONFIG=$work/docker TUF_ROOT=$work/tuf COSIGN_PASSWORD=proof-only
unset SIGSTORE_ROOT_FILE SIGSTORE_REKOR_PUBLIC_KEY SIGSTORE_CT_LOG_PUBLIC_KEY_FILE SIGSTORE_TSA_CERTIFICATE_FILE
mkdir -p "$DOCKER_CONFIG" "$TUF_ROOT" "$work/layers" "$work/out"

# The registry: go-containerregistry's, in memory (claims.sh).
start_registry "$REGISTRY" "$work/registry.log"
registry=127.0.0.1:$registry_port
echo "registry on $registry (go-containerregistry $GGCR_VERSION, plain HTTP)"

# push_image REPO TAG: a one-layer image unique to REPO:TAG, pushed there;
# prints REPO@DIGEST, what a CI's push job prints.
push_image() {
  local dir
  dir=$(mktemp -d "$work/layers/XXXXXX") &&
    printf '%s:%s\n' "$1" "$2" >"$dir/content.txt" &&
    tar -C "$dir" -cf "$dir.tar" content.txt &&
    "$CRANE" append --oci-empty-base -f "$dir.tar" -t "$1:$2" >>"$work/log" 2>&1 &&
    printf '%s@%s\n' "$1" "$("$CRANE" digest "$1:$2" 2>>"$work/log")"
}

# The signatures of cosign 3 are Sigstore bundles attached to the digest as
# OCI referrers; this registry has no referrers API, so cosign keeps them
# under the fallback tag sha256-HEX. move_signatures FROM TO: FROM's
# signatures tagged as TO's, as someone who can push to the repository could.
move_signatures() {
  local repository=${1%@*}
  "$CRANE" tag "$repository:sha256-${1##*sha256:}" "sha256-${2##*sha256:}" >>"$work/log" 2>&1 &&
    "$CRANE" manifest "$repository:sha256-${2##*sha256:}" 2>>"$work/log" | grep -q 'application/vnd.dev.sigstore.bundle'
}

# The keyless signers' side: a Fulcio stand-in and an unrelated CA of the
# same name; cosign signs with no service at all (its signing config lists
# none: no Fulcio, no Rekor, no timestamp authority).
fulcio_ca "$work/fulcio" "fake fulcio" >>"$work/log" 2>&1
fulcio_ca "$work/other-ca" "fake fulcio" >>"$work/log" 2>&1
"$COSIGN" signing-config create --out "$work/no-services.json" >>"$work/log" 2>&1

# sign_keyless IMAGE CA_DIR LEAF IDENTITY ISSUER [FROM TO]: a certificate
# from CA_DIR for IDENTITY and ISSUER, valid FROM TO (fake_fulcio.sh), then
# cosign sign with its key and only the leaf certificate, as a Fulcio
# signature is (a chain, --certificate-chain, makes a bundle that cosign
# verify skips). Given a signing config, cosign checks the new bundle against
# a trusted root (the issuing CA's here); an expired certificate fails that,
# so it is signed the deprecated way, --use-signing-config=false
# --tlog-upload=false, which checks nothing.
sign_keyless() {
  local image=$1 ca=$2 leaf=$work/leaves/$3 to=${7:-+10 min}
  mkdir -p "$work/leaves"
  fulcio_leaf "$ca" "$leaf" "$4" "$5" "${6:--1 min}" "$to" || return 1
  # cosign signs only with keys in its own encrypted format.
  "$COSIGN" import-key-pair --key "$leaf.key" --output-key-prefix "$leaf-cosign" || return 1
  if [ "$(date -u -d "$to" +%s)" -gt "$(date -u +%s)" ]; then
    "$COSIGN" sign --yes --key "$leaf-cosign.key" --certificate "$leaf.pem" \
      --signing-config "$work/no-services.json" --trusted-root "$ca/trusted_root.json" "$image"
  else
    "$COSIGN" sign --yes --key "$leaf-cosign.key" --certificate "$leaf.pem" \
      --use-signing-config=false --tlog-upload=false "$image"
  fi
}

# The cosign that verify-signature.sh finds on PATH (fake_fulcio.sh says
# what it relaxes), recording each call in $work/cosign-calls.
verifying_cosign "$work/path" "$COSIGN" "$work/fulcio/trusted_root.json" "$work/cosign-calls"

# run_script SCRIPT ARG...: sh SCRIPT ARG... as a deploy runs it, with the
# stand-in first on PATH; sets rc, and keeps stdout and stderr in files.
run_script() {
  rc=0
  : >"$work/cosign-calls"
  PATH="$work/path:$PATH" sh "$@" >"$work/stdout" 2>"$work/stderr" || rc=$?
  echo "exit $rc; stdout: $(cat "$work/stdout")"
  sed 's/^/stderr: /' "$work/stderr"
}
accepts() { # accepts SCRIPT IDENTITY ISSUER IMAGE: exit 0, stdout exactly IMAGE, cosign asked for exactly that signer
  run_script "$1" "$4"
  [ "$rc" -eq 0 ] && [ "$(cat "$work/stdout")" = "$4" ] &&
    [ "$(cat "$work/cosign-calls")" = "$(printf '%s\n' verify --certificate-identity "$2" --certificate-oidc-issuer "$3" "$4")" ]
}
refuses() { # refuses SCRIPT IMAGE REASON: exit 1, nothing on stdout, the script's refusal and cosign's REASON on stderr
  run_script "$1" "$2"
  [ "$rc" -eq 1 ] && [ ! -s "$work/stdout" ] &&
    grep -qF "has no valid signature by" "$work/stderr" && grep -qF -- "$3" "$work/stderr"
}
rejects_input() { # rejects_input SCRIPT MESSAGE ARG...: exit 2 with MESSAGE, cosign never run
  local script=$1 message=$2; shift 2
  run_script "$script" "$@"
  [ "$rc" -eq 2 ] && [ ! -s "$work/stdout" ] && grep -qF -- "$message" "$work/stderr" && [ ! -s "$work/cosign-calls" ]
}
old_cosign() { # old_cosign SCRIPT IMAGE: exit 2 when cosign says it is v3.1.2, and no verify run
  mkdir -p "$work/old-cosign"
  cat >"$work/old-cosign/cosign" <<EOF
#!/bin/sh
# A cosign that says it is 3.1.2, as \`cosign version --json\` does; it verifies nothing.
if [ "\$*" = "version --json" ]; then
  printf '{\\n  "gitVersion": "v3.1.2",\\n  "gitCommit": "unknown"\\n}\\n'
  exit 0
fi
printf '%s\\n' "\$@" >>"$work/cosign-calls"
exit 99
EOF
  chmod +x "$work/old-cosign/cosign"
  rc=0
  : >"$work/cosign-calls"
  PATH="$work/old-cosign:$PATH" sh "$1" "$2" >"$work/stdout" 2>"$work/stderr" || rc=$?
  cat "$work/stderr"
  [ "$rc" -eq 2 ] && [ ! -s "$work/stdout" ] && grep -qF "cosign 3.1.2 is too old" "$work/stderr" && [ ! -s "$work/cosign-calls" ]
}
user_edit() { # user_edit SCRIPT IDENTITY ISSUER: SIGNER_IDENTITY set with sed, the one line that changes; the issuer pinned
  local before=$work/verify-signature.sh.generated
  cp "$1" "$before"
  sed -i "s|^SIGNER_IDENTITY='.*'\$|SIGNER_IDENTITY='$2'|" "$1"
  diff "$before" "$1"
  [ "$(diff "$before" "$1" | grep -c '^[<>]')" -eq 2 ] &&
    grep -qxF "SIGNER_IDENTITY='$2'" "$1" && grep -qxF "SIGNER_ISSUER='$3'" "$1"
}

# forged LABEL CA_DIR IDENTITY ISSUER REASON [FROM TO]: in prove_variant, an
# image signed with a certificate from CA_DIR for IDENTITY and ISSUER, which
# the script must refuse, cosign giving REASON.
forged() {
  local label=$1 image
  image=$(push_image "$repository" "$(printf '%s' "${label%% (*}" | tr ' ' -)")
  claim "$label: signed as $3 ($4)" \
    sign_keyless "$image" "$2" "$ci-$(printf '%s' "${label%% (*}" | tr ' ' -)" "$3" "$4" "${6:--1 min}" "${7:-+10 min}"
  claim "$label: refused (${5})" refuses "$script" "$image" "$5"
}

prove_variant() { # prove_variant CI IDENTITY ISSUER OTHER_ISSUER PLACEHOLDER
  local ci=$1 identity=$2 issuer=$3 other_issuer=$4 placeholder=$5
  local script=$work/$ci/shop/deploy/verify-signature.sh repository=$registry/acme/shop-$ci
  local good unsigned moved attested
  echo "== $ci: the generated deploy/verify-signature.sh"
  (cd "$work" && "$work/rampart" new shop --yes --no-git --deploy compose --ci "$ci" --output "$work/$ci/shop") >>"$work/log" 2>&1
  good=$(push_image "$repository" main)

  echo "-- input refused (exit 2) before cosign runs"
  claim "the placeholder identity left as generated ($placeholder)" \
    rejects_input "$script" "set SIGNER_IDENTITY in" "$good"
  claim "the user sets SIGNER_IDENTITY (sed), the only line that changes; SIGNER_ISSUER is $issuer" \
    user_edit "$script" "$identity" "$issuer"
  claim "a tag, no digest ($repository:main)" rejects_input "$script" "names no digest" "$repository:main"
  claim "a malformed digest (upper-case hex)" \
    rejects_input "$script" "is not a digest" "$repository@sha256:$(printf '%s' "${good##*sha256:}" | tr a-f A-F)"
  claim "a malformed digest (63 hex digits)" rejects_input "$script" "is not a digest" "${good%?}"
  claim "no repository (@sha256:...)" rejects_input "$script" "names no repository" "@${good##*@}"
  claim "two arguments" rejects_input "$script" "give one image by digest" "$good" "$good"
  claim "two digests" rejects_input "$script" "names more than one digest" "$good@${good##*@}"
  claim "a cosign older than 3.1.3 (one that says it is v3.1.2)" old_cosign "$script" "$good"

  echo "-- keyless: signed by the CI's identity, verified by the script (exit 0, the reference on stdout)"
  claim "cosign signs ${good##*/} as $identity ($issuer), no transparency log" \
    sign_keyless "$good" "$work/fulcio" "$ci-good" "$identity" "$issuer"
  claim "verify-signature.sh prints exactly that reference (${good%%/*}/...), exit 0" accepts "$script" "$identity" "$issuer" "$good"

  echo "-- keyless: refused (exit 1, the signature is not valid), for cosign's reason"
  unsigned=$(push_image "$repository" unsigned)
  claim "unsigned: refused (no signatures found)" refuses "$script" "$unsigned" "no signatures found"
  forged "dev branch" "$work/fulcio" "${identity%main}dev" "$issuer" "expected SAN value"
  forged "another repository" "$work/fulcio" "${identity/acme\/shop/acme\/other}" "$issuer" "expected SAN value"
  forged "another issuer" "$work/fulcio" "$identity" "$other_issuer" "expected issuer value"
  forged "another CA (same name, another key)" "$work/other-ca" "$identity" "$issuer" \
    "leaf certificate verification failed"
  forged "expired (valid 50 to 40 minutes ago)" "$work/fulcio" "$identity" "$issuer" \
    "leaf certificate verification failed" "-50 min" "-40 min"
  moved=$(push_image "$repository" moved)
  claim "moved: the signature of ${good##*/} tagged as another image's" move_signatures "$good" "$moved"
  claim "moved: refused (does not match any digest)" refuses "$script" "$moved" "does not match any digest"

  # An attestation (cosign attest, as GitLab's image-sign job makes) by the
  # CI's identity passes cosign verify, but is no signature of the image.
  attested=$(push_image "$repository" attested-only)
  claim "attested only: a CycloneDX attestation as $identity, no cosign sign" \
    attest_only "$attested" "$identity" "$issuer"
  claim "attested only: refused (only other claims)" refuses "$script" "$attested" "only other claims"
}

attest_only() { # attest_only IMAGE IDENTITY ISSUER: cosign attest --type cyclonedx as IDENTITY
  local leaf=$work/leaves/attest-$RANDOM
  echo '{"bomFormat": "CycloneDX", "specVersion": "1.6"}' >"$work/bom.json"
  fulcio_leaf "$work/fulcio" "$leaf" "$2" "$3" &&
    "$COSIGN" import-key-pair --key "$leaf.key" --output-key-prefix "$leaf-cosign" &&
    "$COSIGN" attest --yes --type cyclonedx --predicate "$work/bom.json" --key "$leaf-cosign.key" \
      --certificate "$leaf.pem" --signing-config "$work/no-services.json" \
      --trusted-root "$work/fulcio/trusted_root.json" "$1"
}

prove_variant github "https://github.com/acme/shop/.github/workflows/ci.yml@refs/heads/main" \
  https://token.actions.githubusercontent.com https://gitlab.com OWNER/REPO
prove_variant gitlab "https://gitlab.com/acme/shop//.gitlab-ci.yml@refs/heads/main" \
  https://gitlab.com https://token.actions.githubusercontent.com GROUP/PROJECT

# sign_blob_keyless FILE CA_DIR LEAF IDENTITY ISSUER: FILE.sigstore.json, the
# bundle cosign sign-blob writes, with a certificate from CA_DIR for IDENTITY
# and ISSUER (as the CI's sign job does, with Fulcio's).
sign_blob_keyless() {
  local leaf=$work/leaves/$3
  mkdir -p "$work/leaves"
  fulcio_leaf "$2" "$leaf" "$4" "$5" "-1 min" "+10 min" &&
    "$COSIGN" import-key-pair --key "$leaf.key" --output-key-prefix "$leaf-cosign" &&
    "$COSIGN" sign-blob --yes --key "$leaf-cosign.key" --certificate "$leaf.pem" \
      --signing-config "$work/no-services.json" --trusted-root "$2/trusted_root.json" \
      --bundle "$1.sigstore.json" "$1"
}
accepts_source() { # accepts_source SCRIPT IDENTITY ISSUER ARCHIVE: exit 0, stdout exactly ARCHIVE, verify-blob for that signer
  run_script "$1" "$4"
  [ "$rc" -eq 0 ] && [ "$(cat "$work/stdout")" = "$4" ] &&
    [ "$(cat "$work/cosign-calls")" = "$(printf '%s\n' verify-blob --bundle "$4.sigstore.json" \
      --certificate-identity "$2" --certificate-oidc-issuer "$3" "$4")" ]
}
# source_archive NAME: a gzipped tar of a project file, as git archive makes
# one, in its own directory; prints its path.
source_archive() {
  mkdir -p "$work/sources/$1" &&
    printf 'print("%s")\n' "$1" >"$work/sources/$1/app.py" &&
    tar -C "$work/sources/$1" -czf "$work/sources/$1/shop-source.tar.gz" app.py &&
    echo "$work/sources/$1/shop-source.tar.gz"
}

prove_source_variant() { # prove_source_variant CI IDENTITY ISSUER OTHER_ISSUER PLACEHOLDER
  local ci=$1 identity=$2 issuer=$3 other_issuer=$4 placeholder=$5
  local script=$work/vm-$ci/shop/deploy/verify-signature.sh good label
  echo "== $ci, vm: the generated deploy/verify-signature.sh on a source archive (cosign verify-blob)"
  (cd "$work" && "$work/rampart" new shop --yes --no-git --deploy vm --ci "$ci" --output "$work/vm-$ci/shop") >>"$work/log" 2>&1
  good=$(source_archive "$ci-good")
  claim "source: no bundle beside the archive" rejects_input "$script" ".sigstore.json is missing" "$good"
  claim "source: not a file" rejects_input "$script" "is not a file" "$work/sources/none.tar.gz"
  claim "source: two arguments" rejects_input "$script" "give one source archive" "$good" "$good"
  claim "source: cosign sign-blob as $identity, no transparency log" \
    sign_blob_keyless "$good" "$work/fulcio" "vm-$ci-good" "$identity" "$issuer"
  claim "source: the placeholder identity left as generated ($placeholder)" rejects_input "$script" "set SIGNER_IDENTITY in" "$good"
  claim "source: the user sets SIGNER_IDENTITY (sed), the only line that changes" user_edit "$script" "$identity" "$issuer"
  claim "source: verify-signature.sh prints the archive, exit 0" accepts_source "$script" "$identity" "$issuer" "$good"
  for label in "dev branch|$work/fulcio|${identity%main}dev|$issuer|expected SAN value" \
    "another repository|$work/fulcio|${identity/acme\/shop/acme\/other}|$issuer|expected SAN value" \
    "another issuer|$work/fulcio|$identity|$other_issuer|expected issuer value" \
    "another CA (same name, another key)|$work/other-ca|$identity|$issuer|leaf certificate verification failed"; do
    IFS='|' read -r name ca who from reason <<<"$label"
    local forged_archive; forged_archive=$(source_archive "$ci-$(printf '%s' "${name%% (*}" | tr ' ' -)")
    claim "source, $name: signed as $who ($from)" \
      sign_blob_keyless "$forged_archive" "$ca" "vm-$ci-$(printf '%s' "${name%% (*}" | tr ' ' -)" "$who" "$from"
    claim "source, $name: refused${reason:+ ($reason)}" refuses "$script" "$forged_archive" "$reason"
  done
  # The archive changed after it was signed.
  local changed; changed=$(source_archive "$ci-changed")
  claim "source, changed after signing: signed as $identity" \
    sign_blob_keyless "$changed" "$work/fulcio" "vm-$ci-changed" "$identity" "$issuer"
  claim "source, changed after signing: refused (invalid signature)" \
    eval 'printf x >>"$changed" && refuses "$script" "$changed" "invalid signature"'
}

prove_source_variant github "https://github.com/acme/shop/.github/workflows/ci.yml@refs/heads/main" \
  https://token.actions.githubusercontent.com https://gitlab.com OWNER/REPO
prove_source_variant gitlab "https://gitlab.com/acme/shop//.gitlab-ci.yml@refs/heads/main" \
  https://gitlab.com https://token.actions.githubusercontent.com GROUP/PROJECT

echo "== a key pair: cosign generate-key-pair, sign, verify --key"
keyed=$registry/acme/shop-key
key_sign() { # key_sign IMAGE KEY_PREFIX
  "$COSIGN" sign --yes --key "$2.key" --signing-config "$work/no-services.json" \
    --trusted-root "$work/fulcio/trusted_root.json" "$1"
}
key_verifies() { # key_verifies IMAGE KEY_PREFIX: exit 0, and the verified claim names IMAGE's digest
  "$COSIGN" verify --key "$2.pub" --insecure-ignore-tlog "$1" >"$work/key-verify.json" || return 1
  cat "$work/key-verify.json"
  grep -qF "\"docker-manifest-digest\":\"${1##*@}\"" "$work/key-verify.json"
}
key_refused() { # key_refused IMAGE KEY_PREFIX REASON: verify --key fails, for REASON
  ! "$COSIGN" verify --key "$2.pub" --insecure-ignore-tlog "$1" >"$work/key-verify.out" 2>&1 || return 1
  cat "$work/key-verify.out"
  grep -qF -- "$3" "$work/key-verify.out"
}
mkdir -p "$work/keys"
claim "cosign generate-key-pair (COSIGN_PASSWORD set), and another pair" \
  eval '"$COSIGN" generate-key-pair --output-key-prefix "$work/keys/cosign" &&
    "$COSIGN" generate-key-pair --output-key-prefix "$work/keys/other"'
key_good=$(push_image "$keyed" main)
claim "cosign sign --key ${key_good##*/}, no transparency log" key_sign "$key_good" "$work/keys/cosign"
claim "cosign verify --key: exit 0, the verified claim names its digest" key_verifies "$key_good" "$work/keys/cosign"
key_unsigned=$(push_image "$keyed" unsigned)
claim "unsigned: refused (no signatures found)" key_refused "$key_unsigned" "$work/keys/cosign" "no signatures found"
key_other=$(push_image "$keyed" other-key)
claim "another key: signed with the other pair" key_sign "$key_other" "$work/keys/other"
claim "another key: refused (accepted signatures do not match threshold)" \
  key_refused "$key_other" "$work/keys/cosign" "accepted signatures do not match threshold"
key_moved=$(push_image "$keyed" moved)
claim "moved: the signature of ${key_good##*/} tagged as another image's" move_signatures "$key_good" "$key_moved"
claim "moved: refused (does not match any digest)" key_refused "$key_moved" "$work/keys/cosign" "does not match any digest"

echo "signing: $([ "$failed" -eq 0 ] && echo "$claims claims passed" || echo "$failed of $claims claims failed") in $((SECONDS - started)) s"
[ "$failed" -eq 0 ]
