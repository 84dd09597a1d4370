# Sourced by scripts/signing.sh: a private certificate authority, with
# openssl, standing in for Fulcio (Sigstore's). Fulcio issues a keyless
# signer a certificate for ten minutes: ECDSA P-256, code signing, an empty
# subject, the signer's identity as its one (critical) SAN URI, and the OIDC
# issuer that vouched for it in two extensions that cosign reads:
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
