# Sourced by scripts/signing.sh and scripts/gitlab-image-jobs.sh: a private
# certificate authority, with openssl, standing in for Fulcio (Sigstore's).
# Fulcio issues a keyless signer a certificate for ten minutes: ECDSA P-256,
# code signing, an empty subject, the signer's identity as its one (critical)
# SAN URI, and the OIDC issuer that vouched for it in two extensions that
# cosign reads:
# 1.3.6.1.4.1.57264.1.1 (the issuer's raw bytes, deprecated) and
# 1.3.6.1.4.1.57264.1.8 (a DER UTF8String). These certificates are the same,
# from another root.

# fulcio_ca DIR NAME: a root CA (ECDSA P-256), DIR/ca.key and DIR/ca.pem,
# valid from an hour ago for a day, so that it covers the back-dated leaves
# (a leaf counts only while its CA is valid too), and DIR/trusted_root.json,
# a Sigstore trusted root naming it as the only certificate authority: no
# transparency log, no CT log, no timestamp authority.
fulcio_ca() {
  local dir=$1 name=$2 der
  mkdir -p "$dir/issued" || return 1
  : >"$dir/index.txt"
  cat >"$dir/ca.cnf" <<EOF
[ca]
default_ca = fulcio
[fulcio]
database = $dir/index.txt
new_certs_dir = $dir/issued
rand_serial = yes
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
copy_extensions = none
[any]
organizationName = optional
commonName = optional
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca.key" &&
    openssl req -new -key "$dir/ca.key" -subj "/O=sigstore-proof/CN=$name" -out "$dir/ca.csr" &&
    openssl ca -batch -config "$dir/ca.cnf" -selfsign -keyfile "$dir/ca.key" -in "$dir/ca.csr" \
      -out "$dir/ca.pem" -notext -extensions root \
      -startdate "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)" ||
    return 1
  der=$(openssl x509 -in "$dir/ca.pem" -outform DER | base64 -w0) || return 1
  cat >"$dir/trusted_root.json" <<EOF
{
  "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  "certificateAuthorities": [
    {
      "subject": {"organization": "sigstore-proof", "commonName": "$name"},
      "uri": "https://fulcio.invalid",
      "certChain": {"certificates": [{"rawBytes": "$der"}]},
      "validFor": {"start": "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"}
    }
  ]
}
EOF
}

# fulcio_leaf CA_DIR OUT IDENTITY ISSUER [FROM TO]: a fresh key, OUT.key
# (PKCS#8 PEM), and its certificate from CA_DIR's root, OUT.pem, for
# IDENTITY vouched for by ISSUER; valid from FROM to TO (date -d phrases:
# a minute ago to ten minutes from now unless told).
fulcio_leaf() {
  local ca=$1 out=$2 identity=$3 issuer=$4 from=${5:--1 min} to=${6:-+10 min} issuer_hex
  issuer_hex=$(printf %s "$issuer" | od -An -tx1 | tr -d ' \n')
  cat >"$out.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = critical,URI:$identity
1.3.6.1.4.1.57264.1.1 = DER:$issuer_hex
1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:$issuer
EOF
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out.key" &&
    openssl req -new -key "$out.key" -subj / -out "$out.csr" &&
    openssl ca -batch -config "$ca/ca.cnf" -cert "$ca/ca.pem" -keyfile "$ca/ca.key" -in "$out.csr" \
      -out "$out.pem" -notext -subj / -extfile "$out.ext" \
      -startdate "$(date -u -d "$from" +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d "$to" +%Y%m%d%H%M%SZ)"
}

# verifying_cosign DIR COSIGN TRUSTED_ROOT CALLS: DIR/cosign, the cosign a
# deploy finds on PATH in a proof: the real COSIGN, given the trust this
# offline machine can have, and nothing else; it appends each call's
# arguments, one a line, to CALLS. Only verify, verify-blob and
# verify-attestation run (and `version --json`, which verify-signature.sh
# asks first). Relaxed, and why:
#   --trusted-root      replaces Sigstore's public trust root (fetched through
#                       TUF from the internet, out of reach here) with
#                       TRUSTED_ROOT, which lists only the proof's Fulcio
#                       stand-in as a certificate authority, and no log. The
#                       certificate must still chain to it: signing.sh checks
#                       that another CA's is refused.
#   --insecure-ignore-tlog  no Rekor entry is required (no Rekor here). In
#                       production the entry shows the signature was made
#                       while the ten-minute certificate was valid, and made
#                       public; without it cosign checks the certificate's
#                       validity at the current time instead, so the proof
#                       verifies within the certificate's window (signing.sh
#                       checks that an expired one is refused).
#   --insecure-ignore-sct   no certificate-transparency timestamp is required
#                       in the certificate (no CT log here).
# Not relaxed, all done by the real cosign: the signature over the in-toto
# statement, its subject being the digest asked for, the chain to the trusted
# CA with the code-signing usage, and the exact SAN and issuer the caller
# passes (--certificate-identity, --certificate-oidc-issuer). The registry
# needs no flag: go-containerregistry, in cosign, falls back to plain HTTP for
# 127.0.0.1 by itself.
verifying_cosign() {
  mkdir -p "$1" || return 1
  cat >"$1/cosign" <<EOF
#!/bin/sh
# The proof's verifying cosign (scripts/lib/fake_fulcio.sh, verifying_cosign).
[ "\$*" != "version --json" ] || exec "$2" version --json
printf '%s\n' "\$@" >>"$4"
case \$1 in
  verify | verify-blob | verify-attestation) ;;
  *) echo "cosign stand-in: only verify, verify-blob and verify-attestation are expected, not \$1" >&2; exit 99 ;;
esac
command=\$1
shift
exec "$2" "\$command" --trusted-root "$3" --insecure-ignore-tlog --insecure-ignore-sct "\$@"
EOF
  chmod +x "$1/cosign"
}
