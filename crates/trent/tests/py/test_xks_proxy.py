"""Trent's XKS proxy API checked against AWS's "External Key Store Proxy API Specification"
(v1, Nov 10 2022) with tools that share no code with Trent:

- every request is signed by curl's own SigV4 (`--aws-sigv4 aws:amz:<region>:kms-xks-proxy`),
  as the specification's Appendix D does it;
- the request bodies are the specification's examples (GetHealthStatus, GetKeyMetadata,
  Encrypt with "Hello World!" and the "project=nile,department=marketing" AAD and SHA_256 CDIV,
  Decrypt);
- the CDIV is recomputed with hashlib (Appendix C), and the ciphertext is decrypted with the
  Python `cryptography` package's AES-GCM under the key material the test imported, with the
  AAD encoding the specification prescribes (u16 len ‖ aad ‖ u8 len ‖ ciphertextMetadata);
- status codes and error names follow the specification's error table.

Environment: XKS_URL, XKS_AK, XKS_SK, XKS_CA, KEY_IMPORTED (material MATERIAL_HEX), KEY_DENIED,
KEY_RSA, KEY_DISABLED, plus the account root's AWS credentials.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

URL = os.environ["XKS_URL"]
AK = os.environ["XKS_AK"]
SK = os.environ["XKS_SK"]
CA = os.environ["XKS_CA"]
REGION = "us-east-2"


def call(path, body, method="POST", creds=None, service="kms-xks-proxy"):
    ak, sk = creds or (AK, SK)
    out = subprocess.run(
        [
            "curl", "-sS", "--cacert", CA, "-X", method,
            "--aws-sigv4", f"aws:amz:{REGION}:{service}", "--user", f"{ak}:{sk}",
            "-H", "Content-Type: application/json",
            "-w", "\n%{http_code}",
            "--data-binary", json.dumps(body) if body is not None else "",
            URL + path,
        ],
        capture_output=True, text=True, check=True,
    ).stdout
    text, _, status = out.rpartition("\n")
    return int(status), (json.loads(text) if text.strip() else None)


def expect_error(path, body, status, name, **kw):
    got, doc = call(path, body, **kw)
    assert got == status and doc and doc.get("errorName") == name, (path, got, doc)
    msg = doc.get("errorMessage", "")
    assert len(msg) < 512 and all(0x20 <= ord(c) <= 0x7E for c in msg), msg


def b64(b):
    return base64.b64encode(b).decode()


def unb64(s):
    return base64.b64decode(s)


def metadata(op, key=None):
    m = {
        "awsPrincipalArn": "arn:aws:iam::123456789012:user/Alice",
        "kmsOperation": op,
        "kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae",
        "kmsViaService": "ebs",
    }
    if key:
        m["kmsKeyArn"] = "arn:aws:kms:us-east-2:123456789012:key/" + key
    return m


imported = os.environ["KEY_IMPORTED"]
material = bytes.fromhex(os.environ["MATERIAL_HEX"])

# GetHealthStatus (spec example request); every member the response MUST have.
status, health = call("/health", {"requestMetadata": {"kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae", "kmsOperation": "CreateCustomKeyStore"}})
assert status == 200, health
assert isinstance(health["xksProxyFleetSize"], int) and health["xksProxyFleetSize"] > 0, health
for member in ("xksProxyVendor", "xksProxyModel", "ekmVendor"):
    assert isinstance(health[member], str) and health[member], health
assert 1 <= len(health["ekmFleetDetails"]) <= 10, health
for d in health["ekmFleetDetails"]:
    assert d["healthStatus"] in ("ACTIVE", "DEGRADED", "UNAVAILABLE") and d["id"] and d["model"], d
assert health["ekmFleetDetails"][0]["healthStatus"] == "ACTIVE", health

# GetKeyMetadata (spec example).
status, meta = call(f"/keys/{imported}/metadata", {"requestMetadata": metadata("DescribeKey", imported)})
assert status == 200, meta
assert meta == {"keySpec": "AES_256", "keyUsage": ["ENCRYPT", "DECRYPT"], "keyStatus": "ENABLED"}, meta

# Encrypt: the specification's example request.
aad = b"project=nile,department=marketing"
enc_req = {
    "requestMetadata": metadata("Encrypt", imported),
    "additionalAuthenticatedData": b64(aad),
    "plaintext": "SGVsbG8gV29ybGQh",
    "encryptionAlgorithm": "AES_GCM",
    "ciphertextDataIntegrityValueAlgorithm": "SHA_256",
}
status, enc = call(f"/keys/{imported}/encrypt", enc_req)
assert status == 200, enc
iv, ct, tag = unb64(enc["initializationVector"]), unb64(enc["ciphertext"]), unb64(enc["authenticationTag"])
ctm = unb64(enc.get("ciphertextMetadata", ""))
assert len(iv) in (12, 16) and len(tag) == 16 and len(ct) == len(b"Hello World!") and len(ctm) <= 20, enc
# Appendix C: SHA-256 over aad ‖ metadata ‖ iv ‖ ciphertext ‖ tag.
assert unb64(enc["ciphertextDataIntegrityValue"]) == hashlib.sha256(aad + ctm + iv + ct + tag).digest(), enc
# The ciphertext is standard AES-256-GCM under the key's material with the spec's AAD encoding.
spec_aad = len(aad).to_bytes(2, "big") + aad + len(ctm).to_bytes(1, "big") + ctm
assert AESGCM(material).decrypt(iv, ct + tag, spec_aad) == b"Hello World!"
# Without a CDIV algorithm there is no CDIV.
status, plain_enc = call(f"/keys/{imported}/encrypt", {k: v for k, v in enc_req.items() if k != "ciphertextDataIntegrityValueAlgorithm"})
assert status == 200 and "ciphertextDataIntegrityValue" not in plain_enc, plain_enc

# Decrypt (spec example shape) round trip.
dec_req = {
    "requestMetadata": metadata("Decrypt", imported),
    "additionalAuthenticatedData": b64(aad),
    "encryptionAlgorithm": "AES_GCM",
    "ciphertext": enc["ciphertext"],
    "ciphertextMetadata": enc["ciphertextMetadata"],
    "initializationVector": enc["initializationVector"],
    "authenticationTag": enc["authenticationTag"],
}
status, dec = call(f"/keys/{imported}/decrypt", dec_req)
assert status == 200 and unb64(dec["plaintext"]) == b"Hello World!", dec
# Every protected input is authenticated: AAD, metadata, metadata moved into the AAD, IV, tag.
path = f"/keys/{imported}/decrypt"
expect_error(path, {**dec_req, "additionalAuthenticatedData": b64(b"project=nile")}, 400, "InvalidCiphertextException")
expect_error(path, {**dec_req, "additionalAuthenticatedData": b64(aad + ctm), "ciphertextMetadata": None}, 400, "InvalidCiphertextException")
flipped = bytearray(tag)
flipped[0] ^= 1
expect_error(path, {**dec_req, "authenticationTag": b64(bytes(flipped))}, 400, "InvalidCiphertextException")
expect_error(path, {**dec_req, "initializationVector": b64(bytes(12))}, 400, "InvalidCiphertextException")
# A ciphertext made by an independent AES-GCM under the same material, same encoding, decrypts.
iv2 = os.urandom(12)
sealed = AESGCM(material).encrypt(iv2, b"from outside", spec_aad)
status, dec2 = call(path, {**dec_req, "initializationVector": b64(iv2), "ciphertext": b64(sealed[:-16]), "authenticationTag": b64(sealed[-16:])})
assert status == 200 and unb64(dec2["plaintext"]) == b"from outside", dec2

# The error table.
expect_error(f"/keys/{imported}/encrypt", {**enc_req, "plaintext": "!!"}, 400, "ValidationException")
expect_error(f"/keys/{imported}/encrypt", {"requestMetadata": {}}, 400, "ValidationException")
expect_error(f"/keys/{imported}/encrypt", {**enc_req, "encryptionAlgorithm": "AES_CBC"}, 501, "UnsupportedOperationException")
expect_error("/keys/0123abcd-0000-4000-8000-000000000000/metadata", {"requestMetadata": metadata("DescribeKey")}, 404, "KeyNotFoundException")
expect_error(f"/keys/{os.environ['KEY_DENIED']}/encrypt", {**enc_req}, 403, "AccessDeniedException")
expect_error(f"/keys/{os.environ['KEY_RSA']}/encrypt", {**enc_req}, 400, "InvalidKeyUsageException")
status, rsa_meta = call(f"/keys/{os.environ['KEY_RSA']}/metadata", {"requestMetadata": metadata("DescribeKey")})
assert status == 200 and rsa_meta["keySpec"] != "AES_256", rsa_meta
disabled = os.environ["KEY_DISABLED"]
expect_error(f"/keys/{disabled}/encrypt", {**enc_req}, 400, "InvalidStateException")
status, dmeta = call(f"/keys/{disabled}/metadata", {"requestMetadata": metadata("DescribeKey")})
assert status == 200 and dmeta["keyStatus"] == "DISABLED", dmeta
expect_error("/nope", enc_req, 404, "InvalidUriPathException")
expect_error(f"/keys/{imported}/sign", enc_req, 404, "InvalidUriPathException")
# Hostile inputs: key ids outside the specification's alphabet, a traversal, a body past 64 KiB.
expect_error("/keys/a%2Fb/metadata", {"requestMetadata": metadata("DescribeKey")}, 404, "InvalidUriPathException")
expect_error("/keys/" + "k" * 129 + "/metadata", {"requestMetadata": metadata("DescribeKey")}, 404, "InvalidUriPathException")
out = subprocess.run(["curl", "-sS", "--path-as-is", "--cacert", CA, "-X", "POST", "-w", "\n%{http_code}", "--data-binary", "{}", URL + "/keys/../health"], capture_output=True, text=True, check=True).stdout
assert out.endswith("\n404") and "InvalidUriPathException" in out, out
expect_error(f"/keys/{imported}/encrypt", {**enc_req, "plaintext": b64(os.urandom(70000))}, 501, "UnsupportedOperationException")
# A GET on an operation's URI is 405 (spec "API operations").
status, _ = call("/health", None, method="GET")
assert status == 405, status
# Authentication: a wrong secret, an IAM access key, and no signature at all are 401.
expect_error("/health", {"requestMetadata": metadata("KmsHealthCheck")}, 401, "AuthenticationFailedException", creds=(AK, SK[:-2] + "xx"))
expect_error("/health", {"requestMetadata": metadata("KmsHealthCheck")}, 401, "AuthenticationFailedException", creds=(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]))
out = subprocess.run(["curl", "-sS", "--cacert", CA, "-X", "POST", "-w", "\n%{http_code}", "--data-binary", "{}", URL + "/health"], capture_output=True, text=True, check=True).stdout
assert out.endswith("\n401") and "AuthenticationFailedException" in out, out
# The XKS credential cannot sign KMS API requests.
out = subprocess.run(
    ["curl", "-sS", "-X", "POST", "--aws-sigv4", "aws:amz:us-east-1:kms", "--user", f"{AK}:{SK}",
     "-H", "Content-Type: application/x-amz-json-1.1", "-H", "X-Amz-Target: TrentService.ListKeys",
     "-w", "\n%{http_code}", "--data-binary", "{}", os.environ["TRENT_ENDPOINT"] + "/"],
    capture_output=True, text=True, check=True).stdout
assert out.endswith("\n400") and "UnrecognizedClientException" in out, out

print("xks proxy ok")
sys.stdout.flush()
