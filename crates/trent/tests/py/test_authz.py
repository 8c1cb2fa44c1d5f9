"""End-to-end authorization scenarios with boto3 against a running Trent (IAM, STS and KMS).

Environment: TRENT_ENDPOINT, AWS credentials of account A's root (AWS_ACCESS_KEY_ID/...), and
B_ACCESS_KEY_ID / B_SECRET_ACCESS_KEY / B_ACCOUNT for a second account's root. Prints one line
per scenario and a final 'N passed, N failed' line; exits non-zero on any failure.
"""
import json
import os
import sys
import time
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["TRENT_ENDPOINT"]
REGION = os.environ.get("AWS_REGION", "us-east-1")
CFG = Config(retries={"max_attempts": 1})


def client(service, ak, sk, token=None):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION, aws_access_key_id=ak,
                        aws_secret_access_key=sk, aws_session_token=token, config=CFG)


A_AK, A_SK = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
iam = client("iam", A_AK, A_SK)
kms = client("kms", A_AK, A_SK)
sts = client("sts", A_AK, A_SK)
ACCOUNT = sts.get_caller_identity()["Account"]
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def user(name, policy=None):
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return f"arn:aws:iam::{ACCOUNT}:user/{name}", k["AccessKeyId"], k["SecretAccessKey"]


def allow(actions, resource="*", effect="Allow"):
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": actions, "Resource": resource}]}


def key_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def st(principal, actions, condition=None, effect="Allow"):
    s = {"Effect": effect, "Principal": {"AWS": principal}, "Action": actions, "Resource": "*"}
    if condition:
        s["Condition"] = condition
    return s


def denied(fn, contains=None, code="AccessDeniedException"):
    try:
        fn()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        msg = e.response["Error"].get("Message", "")
        assert got == code, f"expected {code}, got {got}: {msg}"
        if contains:
            assert contains in msg, f"{contains!r} not in {msg!r}"
        return msg
    raise AssertionError(f"expected {code}, the call succeeded")


SCENARIOS = []


def scenario(fn):
    SCENARIOS.append(fn)
    return fn


@scenario
def role_separation_encrypt_but_not_decrypt():
    arn, ak, sk = user("encryptor")
    k = kms.create_key(Policy=key_policy(st(ROOT, "kms:*"), st(arn, "kms:Encrypt")))["KeyMetadata"]
    time.sleep(0.01)
    c = client("kms", ak, sk)
    ct = c.encrypt(KeyId=k["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    msg = denied(lambda: c.decrypt(CiphertextBlob=ct))
    assert msg == (f"User: {arn} is not authorized to perform: kms:Decrypt on resource: {k['Arn']} "
                   "because no identity-based policy allows the kms:Decrypt action"), msg
    # A key that does not trust the account at all: the message names the resource-based policy.
    k2 = kms.create_key(Policy=key_policy(st(arn, "kms:Encrypt")), BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    c.encrypt(KeyId=k2["KeyId"], Plaintext=b"x")
    denied(lambda: c.describe_key(KeyId=k2["KeyId"]), "because no resource-based policy allows the kms:DescribeKey action")
    denied(lambda: kms.describe_key(KeyId=k2["KeyId"]), "because no resource-based policy allows")


@scenario
def iam_policies_count_only_while_the_key_policy_trusts_the_account():
    arn, ak, sk = user("iamuser", allow(["kms:Encrypt", "kms:Decrypt"]))
    admin_arn, _, _ = user("keyadmin", allow("kms:*"))
    k = kms.create_key()["KeyMetadata"]
    c = client("kms", ak, sk)
    c.encrypt(KeyId=k["KeyId"], Plaintext=b"x")
    kms.put_key_policy(KeyId=k["KeyId"], PolicyName="default", Policy=key_policy(st(admin_arn, "kms:*")),
                       BypassPolicyLockoutSafetyCheck=True)
    denied(lambda: c.encrypt(KeyId=k["KeyId"], Plaintext=b"x"), "because no resource-based policy allows the kms:Encrypt action")


@scenario
def explicit_deny_in_iam_beats_allow_in_key_policy():
    arn, ak, sk = user("denied", allow("kms:Encrypt", effect="Deny"))
    k = kms.create_key(Policy=key_policy(st(ROOT, "kms:*"), st(arn, "kms:Encrypt")))["KeyMetadata"]
    denied(lambda: client("kms", ak, sk).encrypt(KeyId=k["KeyId"], Plaintext=b"x"),
           "with an explicit deny in an identity-based policy")


@scenario
def encryption_context_condition_admits_one_context_and_refuses_another():
    arn, ak, sk = user("ecuser")
    cond = {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}
    k = kms.create_key(Policy=key_policy(st(ROOT, "kms:*"), st(arn, ["kms:Encrypt", "kms:Decrypt"], cond)))["KeyMetadata"]
    c = client("kms", ak, sk)
    ct = c.encrypt(KeyId=k["KeyId"], Plaintext=b"x", EncryptionContext={"Dept": "IT"})["CiphertextBlob"]
    assert c.decrypt(CiphertextBlob=ct, EncryptionContext={"Dept": "IT"})["Plaintext"] == b"x"
    denied(lambda: c.encrypt(KeyId=k["KeyId"], Plaintext=b"x", EncryptionContext={"Dept": "HR"}))
    denied(lambda: c.encrypt(KeyId=k["KeyId"], Plaintext=b"x"))


@scenario
def assumed_role_session_is_authorized_by_its_role():
    arn, ak, sk = user("assumer", allow("sts:AssumeRole"))
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName="app", PolicyName="dec", PolicyDocument=json.dumps(allow(["kms:Decrypt", "kms:Encrypt"])))
    k = kms.create_key()["KeyMetadata"]
    creds = client("sts", ak, sk).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    ident = client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1", ident
    session = client("kms", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    ct = session.encrypt(KeyId=k["KeyId"], Plaintext=b"role")["CiphertextBlob"]
    assert session.decrypt(CiphertextBlob=ct)["Plaintext"] == b"role"
    denied(lambda: session.schedule_key_deletion(KeyId=k["KeyId"]), "assumed-role/app/s1")
    # Without the session token the temporary key is not recognised.
    denied(lambda: client("kms", creds["AccessKeyId"], creds["SecretAccessKey"]).list_keys(),
           code="UnrecognizedClientException")
    # A user without sts:AssumeRole in its policies cannot assume a role that trusts only the account.
    _, ak2, sk2 = user("noassume")
    denied(lambda: client("sts", ak2, sk2).assume_role(RoleArn=role["Arn"], RoleSessionName="xx"), code="AccessDenied")


@scenario
def second_account_needs_both_sides():
    b_ak, b_sk, b_account = os.environ["B_ACCESS_KEY_ID"], os.environ["B_SECRET_ACCESS_KEY"], os.environ["B_ACCOUNT"]
    b_iam = client("iam", b_ak, b_sk)
    k = kms.create_key()["KeyMetadata"]
    b_iam.create_user(UserName="partner")
    pk = b_iam.create_access_key(UserName="partner")["AccessKey"]
    partner = client("kms", pk["AccessKeyId"], pk["SecretAccessKey"])
    b_iam.put_user_policy(UserName="partner", PolicyName="use-a", PolicyDocument=json.dumps(allow("kms:Encrypt", k["Arn"])))
    denied(lambda: partner.encrypt(KeyId=k["Arn"], Plaintext=b"x"), "because no resource-based policy allows")
    policy = key_policy(st(ROOT, "kms:*"), st(f"arn:aws:iam::{b_account}:root", "kms:Encrypt"))
    kms.put_key_policy(KeyId=k["KeyId"], PolicyName="default", Policy=policy)
    partner.encrypt(KeyId=k["Arn"], Plaintext=b"x")
    b_iam.delete_user_policy(UserName="partner", PolicyName="use-a")
    denied(lambda: partner.encrypt(KeyId=k["Arn"], Plaintext=b"x"), "because no identity-based policy allows")


@scenario
def lockout_check_and_principals_that_must_exist():
    arn, _, _ = user("someone")
    lock = "The new key policy will not allow you to update the key policy in the future."
    only_someone = key_policy(st(arn, "kms:Encrypt"))
    denied(lambda: kms.create_key(Policy=only_someone), lock, code="MalformedPolicyDocumentException")
    k = kms.create_key()["KeyMetadata"]
    denied(lambda: kms.put_key_policy(KeyId=k["KeyId"], PolicyName="default", Policy=only_someone), lock,
           code="MalformedPolicyDocumentException")
    kms.put_key_policy(KeyId=k["KeyId"], PolicyName="default", Policy=only_someone, BypassPolicyLockoutSafetyCheck=True)
    ghost = key_policy(st(ROOT, "kms:*"), st(f"arn:aws:iam::{ACCOUNT}:user/ghost", "kms:Encrypt"))
    denied(lambda: kms.create_key(Policy=ghost), "invalid principals", code="MalformedPolicyDocumentException")


@scenario
def iam_requests_are_authorized_too():
    _, ak, sk = user("plain")
    denied(lambda: client("iam", ak, sk).create_user(UserName="x"), "iam:CreateUser", code="AccessDenied")
    _, ak2, sk2 = user("iamadmin", allow("iam:*"))
    client("iam", ak2, sk2).create_user(UserName="made-by-admin")
    assert any(u["UserName"] == "made-by-admin" for u in iam.list_users()["Users"])
    denied(lambda: client("kms", ak, sk).create_key(), "kms:CreateKey")


@scenario
def groups_have_members_policies_and_delete_conflicts():
    g = iam.create_group(GroupName="ops")["Group"]
    assert g["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/ops" and g["GroupId"].startswith("AGPA"), g
    denied(lambda: iam.create_group(GroupName="ops"), "Group with name ops already exists.", code="EntityAlreadyExists")
    iam.create_user(UserName="member")
    iam.add_user_to_group(GroupName="ops", UserName="member")
    iam.add_user_to_group(GroupName="ops", UserName="member")  # already a member: no change
    got = iam.get_group(GroupName="ops")
    assert [u["UserName"] for u in got["Users"]] == ["member"], got
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName="member")["Groups"]] == ["ops"]
    assert "ops" in [x["GroupName"] for x in iam.list_groups()["Groups"]]
    denied(lambda: iam.add_user_to_group(GroupName="ops", UserName="nobody"), code="NoSuchEntity")
    denied(lambda: iam.add_user_to_group(GroupName="nogroup", UserName="member"), code="NoSuchEntity")
    conflict = "Cannot delete entity, must remove users from group first."
    denied(lambda: iam.delete_user(UserName="member"), conflict, code="DeleteConflict")
    denied(lambda: iam.delete_group(GroupName="ops"), conflict, code="DeleteConflict")
    iam.remove_user_from_group(GroupName="ops", UserName="member")
    denied(lambda: iam.remove_user_from_group(GroupName="ops", UserName="member"), code="NoSuchEntity")
    iam.put_group_policy(GroupName="ops", PolicyName="inline", PolicyDocument=json.dumps(allow("kms:List*")))
    assert iam.list_group_policies(GroupName="ops")["PolicyNames"] == ["inline"]
    assert "kms:List*" in json.dumps(iam.get_group_policy(GroupName="ops", PolicyName="inline")["PolicyDocument"])
    denied(lambda: iam.delete_group(GroupName="ops"), "must delete policies first", code="DeleteConflict")
    iam.delete_group_policy(GroupName="ops", PolicyName="inline")
    arn = iam.create_policy(PolicyName="ops-managed", PolicyDocument=json.dumps(allow("kms:List*")))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="ops", PolicyArn=arn)
    assert [a["PolicyArn"] for a in iam.list_attached_group_policies(GroupName="ops")["AttachedPolicies"]] == [arn]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    denied(lambda: iam.delete_group(GroupName="ops"), "must detach all policies first", code="DeleteConflict")
    iam.detach_group_policy(GroupName="ops", PolicyArn=arn)
    # A rename keeps members and policies with the group.
    iam.add_user_to_group(GroupName="ops", UserName="member")
    iam.update_group(GroupName="ops", NewGroupName="ops2", NewPath="/team/")
    denied(lambda: iam.get_group(GroupName="ops"), code="NoSuchEntity")
    got = iam.get_group(GroupName="ops2")
    assert got["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/team/ops2", got
    assert [u["UserName"] for u in got["Users"]] == ["member"], got
    iam.remove_user_from_group(GroupName="ops2", UserName="member")
    iam.delete_group(GroupName="ops2")
    iam.delete_user(UserName="member")


@scenario
def a_groups_policies_authorize_its_members_and_only_while_they_belong():
    _, ak, sk = user("grouped")
    me = client("kms", ak, sk)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    denied(lambda: me.encrypt(KeyId=key, Plaintext=b"x"), "kms:Encrypt")
    iam.create_group(GroupName="encrypters")
    iam.put_group_policy(GroupName="encrypters", PolicyName="p", PolicyDocument=json.dumps(allow("kms:Encrypt")))
    iam.add_user_to_group(GroupName="encrypters", UserName="grouped")
    me.encrypt(KeyId=key, Plaintext=b"x")
    denied(lambda: me.decrypt(CiphertextBlob=me.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]), "kms:Decrypt")
    # An explicit deny in another group of the user wins.
    arn = iam.create_policy(PolicyName="no-encrypt",
                            PolicyDocument=json.dumps(allow("kms:Encrypt", effect="Deny")))["Policy"]["Arn"]
    iam.create_group(GroupName="restricted")
    iam.attach_group_policy(GroupName="restricted", PolicyArn=arn)
    iam.add_user_to_group(GroupName="restricted", UserName="grouped")
    denied(lambda: me.encrypt(KeyId=key, Plaintext=b"x"), "explicit deny")
    iam.remove_user_from_group(GroupName="restricted", UserName="grouped")
    me.encrypt(KeyId=key, Plaintext=b"x")
    iam.remove_user_from_group(GroupName="encrypters", UserName="grouped")
    denied(lambda: me.encrypt(KeyId=key, Plaintext=b"x"), "kms:Encrypt")


@scenario
def managed_policies_have_versions_and_the_default_one_is_in_force():
    _, ak, sk = user("versioned")
    me = client("kms", ak, sk)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    arn = iam.create_policy(PolicyName="evolving", PolicyDocument=json.dumps(allow("kms:Encrypt")))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="versioned", PolicyArn=arn)
    me.encrypt(KeyId=key, Plaintext=b"x")
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(allow("kms:DescribeKey")),
                                   SetAsDefault=True)["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"], v2
    denied(lambda: me.encrypt(KeyId=key, Plaintext=b"x"), "kms:Encrypt")
    me.describe_key(KeyId=key)
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(allow("kms:List*")))
    denied(lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(allow("kms:List*"))),
           "up to 5 versions", code="LimitExceeded")
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2", "v3", "v4", "v5"], versions
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v2"], versions
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    me.encrypt(KeyId=key, Plaintext=b"x")
    doc = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    assert not doc["IsDefaultVersion"] and "kms:DescribeKey" in json.dumps(doc["Document"]), doc
    denied(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId="v1"), "default version", code="DeleteConflict")
    denied(lambda: iam.get_policy_version(PolicyArn=arn, VersionId="v9"), code="NoSuchEntity")
    iam.detach_user_policy(UserName="versioned", PolicyArn=arn)
    denied(lambda: iam.delete_policy(PolicyArn=arn), "more than one version", code="DeleteConflict")
    for v in ["v2", "v3", "v4", "v5"]:
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)


@scenario
def users_and_roles_are_tagged_after_creation():
    iam.create_user(UserName="tagged", Tags=[{"Key": "a", "Value": "1"}])
    iam.tag_user(UserName="tagged", Tags=[{"Key": "a", "Value": "2"}, {"Key": "b", "Value": "3"}])
    assert iam.list_user_tags(UserName="tagged")["Tags"] == [{"Key": "a", "Value": "2"}, {"Key": "b", "Value": "3"}]
    iam.untag_user(UserName="tagged", TagKeys=["a", "absent"])
    assert iam.list_user_tags(UserName="tagged")["Tags"] == [{"Key": "b", "Value": "3"}]
    assert iam.get_user(UserName="tagged")["User"]["Tags"] == [{"Key": "b", "Value": "3"}]
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    denied(lambda: iam.tag_user(UserName="tagged", Tags=too_many), "maximum limit of 50", code="LimitExceeded")
    denied(lambda: iam.tag_user(UserName="ghost", Tags=[{"Key": "a", "Value": "1"}]), code="NoSuchEntity")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="tagged-role", AssumeRolePolicyDocument=json.dumps(trust))
    iam.tag_role(RoleName="tagged-role", Tags=[{"Key": "env", "Value": "prod"}])
    assert iam.list_role_tags(RoleName="tagged-role")["Tags"] == [{"Key": "env", "Value": "prod"}]
    iam.untag_role(RoleName="tagged-role", TagKeys=["env"])
    assert iam.list_role_tags(RoleName="tagged-role")["Tags"] == []
    got = iam.list_instance_profiles_for_role(RoleName="tagged-role")
    assert got["InstanceProfiles"] == [] and not got["IsTruncated"], got
    denied(lambda: iam.list_instance_profiles_for_role(RoleName="ghost-role"), code="NoSuchEntity")


passed = failed = 0
for s in SCENARIOS:
    try:
        s()
        passed += 1
        print(f"ok   {s.__name__}")
    except Exception:  # noqa: BLE001 - report and continue
        failed += 1
        print(f"FAIL {s.__name__}")
        traceback.print_exc()
print(f"authz: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
