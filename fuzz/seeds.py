#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/seeds/<target>/): real request shapes as AWS SDKs send
them, so the fuzzer starts from valid inputs of every operation. Run from anywhere:
`python3 fuzz/seeds.py`. Deterministic: rerunning rewrites the same files."""
import base64, hashlib, hmac, json, os, re, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
OPS = re.findall(r"Operation::(\w+),", open(os.path.join(HERE, "../crates/trent-api/src/operation.rs")).read().split("pub const ALL")[1].split("];")[0])
SYM, RSA, ECC, AGREE, HMAC = ("alias/fuzz-" + s for s in ("symmetric", "rsa", "ecc", "agree", "hmac"))
B64 = base64.b64encode(b"hello fuzz").decode()
BLOB = base64.b64encode(bytes([1, 0]) + bytes(16) + bytes(32) + bytes(16) + bytes(12) + b"ct" + bytes(16)).decode()
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "Ctx", "Effect": "Deny", "Principal": "*", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
     "Condition": {"StringLike": {"kms:EncryptionContext:app": "a*b?"}, "ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["x", "y"]},
                   "Bool": {"aws:SecureTransport": "true"}, "NumericLessThan": {"kms:GrantConstraintType": "3"}}},
    {"Effect": "Allow", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:user/bob"]}, "NotAction": "kms:Sign",
     "NotResource": "arn:aws:kms:*:*:key/*", "Condition": {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "${aws:username}"}}},
]})

KMS = {
    "CancelKeyDeletion": {"KeyId": SYM},
    "CreateAlias": {"AliasName": "alias/fuzz-new", "TargetKeyId": SYM},
    "CreateGrant": {"KeyId": SYM, "GranteePrincipal": "arn:aws:iam::111122223333:user/alice", "Operations": ["Encrypt", "Decrypt"],
                    "Constraints": {"EncryptionContextSubset": {"a": "b"}}, "Name": "g", "RetiringPrincipal": "arn:aws:iam::111122223333:root"},
    "CreateKey": {"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "Description": "fuzz", "Policy": POLICY,
                  "Tags": [{"TagKey": "team", "TagValue": "blue"}], "BypassPolicyLockoutSafetyCheck": False, "Origin": "AWS_KMS",
                  "MultiRegion": True},
    "Decrypt": {"CiphertextBlob": BLOB, "EncryptionContext": {"a": "b"}, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT", "GrantTokens": ["t"]},
    "DeleteAlias": {"AliasName": "alias/fuzz-new"},
    "DeleteImportedKeyMaterial": {"KeyId": SYM},
    "DeriveSharedSecret": {"KeyId": AGREE, "KeyAgreementAlgorithm": "ECDH", "PublicKey":
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ=="},
    "DescribeCustomKeyStores": {"Limit": 10},
    "DescribeKey": {"KeyId": SYM, "GrantTokens": []},
    "DisableKey": {"KeyId": SYM},
    "DisableKeyRotation": {"KeyId": SYM},
    "EnableKey": {"KeyId": SYM},
    "EnableKeyRotation": {"KeyId": SYM, "RotationPeriodInDays": 365},
    "Encrypt": {"KeyId": SYM, "Plaintext": B64, "EncryptionContext": {"app": "ab", "x": "1"}},
    "GenerateDataKey": {"KeyId": SYM, "KeySpec": "AES_256", "EncryptionContext": {"a": "b"}},
    "GenerateDataKeyPair": {"KeyId": SYM, "KeyPairSpec": "ECC_NIST_P256"},
    "GenerateDataKeyPairWithoutPlaintext": {"KeyId": SYM, "KeyPairSpec": "RSA_2048"},
    "GenerateDataKeyWithoutPlaintext": {"KeyId": SYM, "NumberOfBytes": 64},
    "GenerateMac": {"KeyId": HMAC, "Message": B64, "MacAlgorithm": "HMAC_SHA_256"},
    "GenerateRandom": {"NumberOfBytes": 32},
    "GetKeyLastUsage": {"KeyId": SYM},
    "GetKeyPolicy": {"KeyId": SYM, "PolicyName": "default"},
    "GetKeyRotationStatus": {"KeyId": SYM},
    "GetParametersForImport": {"KeyId": SYM, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
    "GetPublicKey": {"KeyId": ECC},
    "ImportKeyMaterial": {"KeyId": SYM, "ImportToken": B64, "EncryptedKeyMaterial": B64, "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"},
    "ListAliases": {"KeyId": SYM, "Limit": 5, "Marker": "abc"},
    "ListGrants": {"KeyId": SYM, "Limit": 5},
    "ListKeyPolicies": {"KeyId": SYM},
    "ListKeyRotations": {"KeyId": SYM, "Limit": 2},
    "ListKeys": {"Limit": 3},
    "ListResourceTags": {"KeyId": SYM},
    "ListRetirableGrants": {"RetiringPrincipal": "arn:aws:iam::111122223333:root"},
    "PutKeyPolicy": {"KeyId": SYM, "PolicyName": "default", "Policy": POLICY},
    "ReplicateKey": {"KeyId": SYM, "ReplicaRegion": "eu-west-1", "Description": "replica", "Policy": POLICY,
                     "Tags": [{"TagKey": "team", "TagValue": "blue"}], "BypassPolicyLockoutSafetyCheck": False},
    "UpdatePrimaryRegion": {"KeyId": SYM, "PrimaryRegion": "us-west-2"},
    "ReEncrypt": {"CiphertextBlob": BLOB, "DestinationKeyId": SYM, "DestinationEncryptionContext": {"b": "c"}},
    "RetireGrant": {"KeyId": SYM, "GrantId": "0" * 64},
    "RevokeGrant": {"KeyId": SYM, "GrantId": "0" * 64},
    "RotateKeyOnDemand": {"KeyId": SYM},
    "ScheduleKeyDeletion": {"KeyId": "alias/fuzz-new", "PendingWindowInDays": 7},
    "Sign": {"KeyId": ECC, "Message": B64, "MessageType": "RAW", "SigningAlgorithm": "ECDSA_SHA_256"},
    "TagResource": {"KeyId": SYM, "Tags": [{"TagKey": "aws-x", "TagValue": "é"}]},
    "UntagResource": {"KeyId": SYM, "TagKeys": ["team", "aaaaaaaaaaaé"]},
    "UpdateAlias": {"AliasName": "alias/fuzz-new", "TargetKeyId": HMAC},
    "UpdateKeyDescription": {"KeyId": SYM, "Description": "new"},
    "Verify": {"KeyId": ECC, "Message": B64, "Signature": B64, "SigningAlgorithm": "ECDSA_SHA_256"},
    "VerifyMac": {"KeyId": HMAC, "Message": B64, "Mac": B64, "MacAlgorithm": "HMAC_SHA_256"},
}

IAM = [
    {"Action": "CreateUser", "UserName": "fuzz", "Path": "/team/", "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"},
    {"Action": "CreateAccessKey", "UserName": "fuzz"},
    {"Action": "PutUserPolicy", "UserName": "fuzz", "PolicyName": "p", "PolicyDocument": POLICY},
    {"Action": "CreateRole", "RoleName": "r", "AssumeRolePolicyDocument": POLICY, "MaxSessionDuration": "3600"},
    {"Action": "CreatePolicy", "PolicyName": "mp", "PolicyDocument": POLICY, "Description": "d"},
    {"Action": "AttachUserPolicy", "UserName": "fuzz", "PolicyArn": "arn:aws:iam::111122223333:policy/mp"},
    {"Action": "ListUsers", "MaxItems": "2", "Marker": "x", "PathPrefix": "/"},
    {"Action": "TagRole", "RoleName": "r", "Tags.member.1.Key": "a", "Tags.member.1.Value": "b"},
    {"Action": "CreateGroup", "GroupName": "g", "Path": "/ops/"},
    {"Action": "AddUserToGroup", "GroupName": "g", "UserName": "fuzz"},
    {"Action": "PutGroupPolicy", "GroupName": "g", "PolicyName": "p", "PolicyDocument": POLICY},
    {"Action": "AttachGroupPolicy", "GroupName": "g", "PolicyArn": "arn:aws:iam::111122223333:policy/mp"},
    {"Action": "GetGroup", "GroupName": "g", "MaxItems": "1"},
    {"Action": "ListGroupsForUser", "UserName": "fuzz"},
    {"Action": "UpdateGroup", "GroupName": "g", "NewGroupName": "g2", "NewPath": "/x/"},
    {"Action": "RemoveUserFromGroup", "GroupName": "g2", "UserName": "fuzz"},
    {"Action": "DeleteGroup", "GroupName": "g2"},
    {"Action": "TagUser", "UserName": "fuzz", "Tags.member.1.Key": "a", "Tags.member.1.Value": "b"},
    {"Action": "UntagUser", "UserName": "fuzz", "TagKeys.member.1": "a"},
    {"Action": "ListUserTags", "UserName": "fuzz", "MaxItems": "1"},
    {"Action": "ListInstanceProfilesForRole", "RoleName": "r"},
    {"Action": "CreatePolicyVersion", "PolicyArn": "arn:aws:iam::111122223333:policy/mp", "PolicyDocument": POLICY,
     "SetAsDefault": "true"},
    {"Action": "ListPolicyVersions", "PolicyArn": "arn:aws:iam::111122223333:policy/mp", "MaxItems": "1"},
    {"Action": "SetDefaultPolicyVersion", "PolicyArn": "arn:aws:iam::111122223333:policy/mp", "VersionId": "v1"},
    {"Action": "DeletePolicyVersion", "PolicyArn": "arn:aws:iam::111122223333:policy/mp", "VersionId": "v2"},
    {"Action": "DeleteUser", "UserName": "fuzz"},
]
STS = [
    {"Action": "GetCallerIdentity"},
    {"Action": "AssumeRole", "RoleArn": "arn:aws:iam::111122223333:role/r", "RoleSessionName": "s", "DurationSeconds": "900",
     "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"},
    {"Action": "GetSessionToken", "DurationSeconds": "900"},
]


def sigv4_seed(body):
    """A KMS request signed as an SDK signs it — with a secret the fuzz target does not know."""
    amz_date, date = "20260101T000000Z", "20260101"
    headers = {"content-type": "application/x-amz-json-1.1", "host": "localhost:4000", "x-amz-date": amz_date,
               "x-amz-target": "TrentService.Encrypt"}
    signed = ";".join(sorted(headers))
    canon = "\n".join(["POST", "/", "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed, hashlib.sha256(body).hexdigest()])
    scope = f"{date}/us-east-1/kms/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canon.encode()).hexdigest()])
    k = b"AWS4seed-secret"
    for part in (date, "us-east-1", "kms", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential=AKIAFUZZEXAMPLE/{scope}, SignedHeaders={signed}, Signature={sig}"
    return ("/\n" + "".join(f"{k}: {v}\n" for k, v in headers.items()) + "\n").encode() + body


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


for i, op in enumerate(OPS):
    write("kms_request", op, bytes([i]) + json.dumps(KMS.get(op, {})).encode())
for n, p in enumerate(IAM):
    write("iam_query", f"iam-{n}-{p['Action']}", b"\x00" + urllib.parse.urlencode({**p, "Version": "2010-05-08"}).encode())
for n, p in enumerate(STS):
    write("iam_query", f"sts-{n}-{p['Action']}", b"\x01" + urllib.parse.urlencode({**p, "Version": "2011-06-15"}).encode())
write("sigv4_request", "encrypt", sigv4_seed(json.dumps(KMS["Encrypt"]).encode()))
write("sigv4_request", "query", sigv4_seed(b"{}").replace(b"/\n", b"/?b=2&a=1&a=%20&c\n", 1))
write("ciphertext_blob", "v1", base64.b64decode(BLOB))
write("sealed_record", "v1", bytes([1]) + bytes(12) + b"sealed-material-bytes-0123456789" + bytes(16))
write("policy", "key-policy", POLICY.encode() + b"\0kms:encryptioncontext:app=aab\nkms:encryptioncontextkeys=x\nkms:encryptioncontextkeys=app\naws:securetransport=true")
write("policy", "identity", json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*",
      "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}, "Null": {"kms:GrantIsForAWSResource": "true"}}}}).encode()
      + b"\0aws:sourceip=10.1.2.3\naws:principalarn=arn:aws:iam::111122223333:user/alice")
