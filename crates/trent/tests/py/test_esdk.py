"""The AWS Encryption SDK for Python against Trent, unchanged except for the endpoint.

Exercises the KMS keyring paths the ESDK uses: GenerateDataKey on encrypt (with the ESDK's
encryption context, which includes its own `aws-crypto-public-key` entry for signed suites),
Decrypt on decrypt (with KeyId = the key ARN the ESDK requires in responses), a multi-key
message (Encrypt for the additional key), and the discovery provider. Exits non-zero on any
mismatch; the Rust test `esdk.rs` runs it.
"""

import os
import sys

import aws_encryption_sdk
import botocore.session
from aws_encryption_sdk.exceptions import DecryptKeyError
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.identifiers import Algorithm

ENDPOINT = os.environ["TRENT_ENDPOINT"]
os.environ["AWS_ENDPOINT_URL_KMS"] = ENDPOINT
KEY_A = os.environ["KEY_A_ARN"]
KEY_B = os.environ["KEY_B_ARN"]


def session():
    s = botocore.session.Session()
    s.set_config_variable("region", os.environ["AWS_REGION"])
    return s


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


client = aws_encryption_sdk.EncryptionSDKClient(
    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
)
plaintext = os.urandom(100_000)
context = {"purpose": "trent-esdk-test", "tenant": "t-1"}

# 1. Single key, default (signed, committing) suite.
strict_a = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[KEY_A], botocore_session=session())
ct, header = client.encrypt(source=plaintext, key_provider=strict_a, encryption_context=context)
check(len(header.encrypted_data_keys) == 1, "one encrypted data key")
pt, dec_header = client.decrypt(source=ct, key_provider=strict_a)
check(pt == plaintext, "round trip under key A (signed suite)")
check(all(dec_header.encryption_context.get(k) == v for k, v in context.items()), "context preserved")

# 2. Unsigned committing suite.
ct2, _ = client.encrypt(
    source=plaintext,
    key_provider=strict_a,
    encryption_context=context,
    algorithm=Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
)
pt2, _ = client.decrypt(source=ct2, key_provider=strict_a)
check(pt2 == plaintext, "round trip (unsigned committing suite)")

# 3. Two keys: GenerateDataKey under A, Encrypt under B; B alone decrypts.
strict_ab = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[KEY_A, KEY_B], botocore_session=session())
ct3, header3 = client.encrypt(source=plaintext, key_provider=strict_ab, encryption_context=context)
check(len(header3.encrypted_data_keys) == 2, "two encrypted data keys")
strict_b = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[KEY_B], botocore_session=session())
pt3, _ = client.decrypt(source=ct3, key_provider=strict_b)
check(pt3 == plaintext, "key B alone decrypts the multi-key message")

# 4. Discovery provider decrypts without being told the key.
discovery = aws_encryption_sdk.DiscoveryAwsKmsMasterKeyProvider(botocore_session=session())
pt4, _ = client.decrypt(source=ct, key_provider=discovery)
check(pt4 == plaintext, "discovery provider decrypts")

# 5. Tampering with the message body is detected.
bad = bytearray(ct2)
bad[-40] ^= 0x01
try:
    client.decrypt(source=bytes(bad), key_provider=strict_a)
    check(False, "tampered message rejected")
except Exception:  # noqa: BLE001 - the ESDK raises several types for this
    check(True, "tampered message rejected")

# 6. A provider for a key that did not encrypt the message cannot decrypt it.
try:
    client.decrypt(source=ct, key_provider=strict_b)
    check(False, "key B cannot decrypt a message only for key A")
except DecryptKeyError:
    check(True, "key B cannot decrypt a message only for key A")

print("all ESDK checks passed")
