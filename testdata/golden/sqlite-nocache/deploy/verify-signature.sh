#!/bin/sh
# Checks that an image was signed by this project's CI on its default branch
# (cosign keyless: the signer's identity and its issuer are pinned below),
# then prints the reference to deploy, by digest. Deploy only what it prints:
#   APP_IMAGE=$(sh deploy/verify-signature.sh IMAGE@sha256:DIGEST)
# Needs cosign 3.1.3 or newer and read access to the registry (docker login).
set -eu

# The workflow that signs (.github/workflows/ci.yml, its sign job) at the
# default branch, and GitHub's OIDC issuer. Put your repository in place of
# OWNER/REPO (as GitHub spells it), and your branch if it is not main.
SIGNER_IDENTITY='https://github.com/OWNER/REPO/.github/workflows/ci.yml@refs/heads/main'
SIGNER_ISSUER='https://token.actions.githubusercontent.com'

fail() { echo "verify-signature.sh: $*" >&2; exit 2; }
[ $# -eq 1 ] || fail "give one image by digest, IMAGE@sha256:DIGEST (the push job printed it)"
image=$1
digest=${image##*@}
name=${image%@*}
case $image in
  *@*@*) fail "$image names more than one digest" ;;
  *@*) ;;
  *) fail "$image names no digest: give IMAGE@sha256:DIGEST; a tag can be moved to another image" ;;
esac
printf '%s\n' "$digest" | grep -Eqx 'sha256:[0-9a-f]{64}' ||
  fail "$digest is not a digest: sha256: and 64 lower-case hex digits"
[ -n "$name" ] || fail "$image names no repository"
case $SIGNER_IDENTITY in
  *OWNER/REPO*) fail "set SIGNER_IDENTITY in $0 to your repository's workflow first" ;;
esac
command -v cosign > /dev/null ||
  fail "cosign is not installed: https://docs.sigstore.dev/cosign/system_config/installation/ (3.1.3 or newer)"
# The version CI signs with; older ones have GHSA-fx35-mq7g-6g98.
version=$(cosign version --json 2> /dev/null | sed -n 's/^ *"gitVersion": *"v\{0,1\}\([0-9][0-9.]*\).*/\1/p')
printf '%s\n' "$version" 3.1.3 | sort -c -t . -k 1,1n -k 2,2n -k 3,3n 2> /dev/null &&
  [ "$version" != 3.1.3 ] && fail "cosign ${version:-of unknown version} is too old: 3.1.3 or newer"

# Exact identity and issuer, no regular expressions: another repository's,
# branch's or workflow's signature is refused.
if ! claims=$(cosign verify --certificate-identity "$SIGNER_IDENTITY" \
  --certificate-oidc-issuer "$SIGNER_ISSUER" "$name@$digest"); then
  echo "verify-signature.sh: $name@$digest has no valid signature by $SIGNER_IDENTITY, or it could not be checked (cosign says which above): do not deploy it" >&2
  exit 1
fi
# cosign verify also counts an attestation by the signer (cosign attest):
# one of the claims must be an image signature of this very digest, as
# cosign 3 prints it (a cosign that printed it otherwise would be refused).
case $claims in
  *'"docker-manifest-digest":"'"$digest"'"'*'"type":"https://sigstore.dev/cosign/sign/v1"'*) ;;
  *)
    echo "verify-signature.sh: $name@$digest has no valid signature by $SIGNER_IDENTITY, only other claims: do not deploy it" >&2
    exit 1
    ;;
esac
echo "$name@$digest"
