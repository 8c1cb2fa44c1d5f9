//! The request half of the condition context (reference §9.4): condition keys taken from the
//! request's parameters, with AWS's rule that a parameter's default applies when it is absent
//! (`kms:KeySpec = SYMMETRIC_DEFAULT` matches a CreateKey without KeySpec). Key and principal
//! keys are added by the authorization stage (`authz`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use trent_api::Operation;
use trent_policy::Context;

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn encryption_context(ctx: &mut Context, ec: Option<&Value>) {
    let Some(Value::Object(m)) = ec else { return };
    let mut keys = Vec::with_capacity(m.len());
    for (k, v) in m {
        if let Some(v) = text(v) {
            ctx.set(&format!("kms:EncryptionContext:{k}"), v);
        }
        keys.push(k.clone());
    }
    ctx.set_all("kms:EncryptionContextKeys", keys);
}

/// `kms:RequestAlias`: the alias named in a KeyId member, if any.
fn request_alias(ctx: &mut Context, key_id: Option<&Value>) {
    let Some(Value::String(id)) = key_id else { return };
    if id.starts_with("alias/") {
        ctx.set("kms:RequestAlias", id.clone());
    } else if let Some(i) = id.find(":alias/").filter(|_| id.starts_with("arn:")) {
        ctx.set("kms:RequestAlias", id[i + 1..].to_owned());
    }
}

fn param(ctx: &mut Context, body: &Map<String, Value>, member: &str, key: &str, default: Option<&str>) {
    match body.get(member).and_then(text) {
        Some(v) => ctx.set(key, v),
        None => {
            if let Some(d) = default {
                ctx.set(key, d);
            }
        }
    }
}

fn tags(ctx: &mut Context, body: &Map<String, Value>) {
    if let Some(Value::Array(tags)) = body.get("Tags") {
        let mut keys = Vec::new();
        for t in tags {
            if let (Some(k), Some(v)) = (t.get("TagKey").and_then(text), t.get("TagValue").and_then(text)) {
                ctx.set(&format!("aws:RequestTag/{k}"), v);
                keys.push(k);
            }
        }
        ctx.set_all("aws:TagKeys", keys);
    }
    if let Some(Value::Array(keys)) = body.get("TagKeys") {
        ctx.set_all("aws:TagKeys", keys.iter().filter_map(text).collect());
    }
}

/// The request's condition context, and the destination's for ReEncrypt.
pub fn from_body(op: Operation, body: &Value) -> (Context, Option<Context>) {
    let mut ctx = Context::new();
    let empty = Map::new();
    let b = body.as_object().unwrap_or(&empty);
    use Operation as O;
    match op {
        O::ReEncrypt => {
            let mut dest = Context::new();
            encryption_context(&mut ctx, b.get("SourceEncryptionContext"));
            encryption_context(&mut dest, b.get("DestinationEncryptionContext"));
            param(
                &mut ctx,
                b,
                "SourceEncryptionAlgorithm",
                "kms:EncryptionAlgorithm",
                Some("SYMMETRIC_DEFAULT"),
            );
            param(
                &mut dest,
                b,
                "DestinationEncryptionAlgorithm",
                "kms:EncryptionAlgorithm",
                Some("SYMMETRIC_DEFAULT"),
            );
            request_alias(&mut ctx, b.get("SourceKeyId"));
            request_alias(&mut dest, b.get("DestinationKeyId"));
            return (ctx, Some(dest));
        }
        O::Encrypt | O::Decrypt => {
            encryption_context(&mut ctx, b.get("EncryptionContext"));
            param(
                &mut ctx,
                b,
                "EncryptionAlgorithm",
                "kms:EncryptionAlgorithm",
                Some("SYMMETRIC_DEFAULT"),
            );
        }
        O::GenerateDataKey | O::GenerateDataKeyWithoutPlaintext => {
            encryption_context(&mut ctx, b.get("EncryptionContext"));
            ctx.set("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        }
        O::GenerateDataKeyPair | O::GenerateDataKeyPairWithoutPlaintext => {
            encryption_context(&mut ctx, b.get("EncryptionContext"));
            ctx.set("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
            param(&mut ctx, b, "KeyPairSpec", "kms:DataKeyPairSpec", None);
        }
        O::Sign | O::Verify => {
            param(&mut ctx, b, "SigningAlgorithm", "kms:SigningAlgorithm", None);
            param(&mut ctx, b, "MessageType", "kms:MessageType", Some("RAW"));
        }
        O::GenerateMac | O::VerifyMac => param(&mut ctx, b, "MacAlgorithm", "kms:MacAlgorithm", None),
        O::DeriveSharedSecret => param(&mut ctx, b, "KeyAgreementAlgorithm", "kms:KeyAgreementAlgorithm", None),
        O::CreateKey => {
            let spec = b
                .get("KeySpec")
                .or_else(|| b.get("CustomerMasterKeySpec"))
                .and_then(text);
            let spec = spec.unwrap_or_else(|| "SYMMETRIC_DEFAULT".to_owned());
            ctx.set("kms:KeySpec", spec.clone());
            ctx.set("kms:CustomerMasterKeySpec", spec);
            param(&mut ctx, b, "KeyUsage", "kms:KeyUsage", Some("ENCRYPT_DECRYPT"));
            param(
                &mut ctx,
                b,
                "KeyUsage",
                "kms:CustomerMasterKeyUsage",
                Some("ENCRYPT_DECRYPT"),
            );
            param(&mut ctx, b, "Origin", "kms:KeyOrigin", Some("AWS_KMS"));
            param(&mut ctx, b, "MultiRegion", "kms:MultiRegion", Some("false"));
            param(
                &mut ctx,
                b,
                "BypassPolicyLockoutSafetyCheck",
                "kms:BypassPolicyLockoutSafetyCheck",
                Some("false"),
            );
        }
        O::PutKeyPolicy => param(
            &mut ctx,
            b,
            "BypassPolicyLockoutSafetyCheck",
            "kms:BypassPolicyLockoutSafetyCheck",
            Some("false"),
        ),
        O::ScheduleKeyDeletion => param(
            &mut ctx,
            b,
            "PendingWindowInDays",
            "kms:ScheduleKeyDeletionPendingWindowInDays",
            Some("30"),
        ),
        O::EnableKeyRotation => param(
            &mut ctx,
            b,
            "RotationPeriodInDays",
            "kms:RotationPeriodInDays",
            Some("365"),
        ),
        O::ImportKeyMaterial => {
            param(
                &mut ctx,
                b,
                "ExpirationModel",
                "kms:ExpirationModel",
                Some("KEY_MATERIAL_EXPIRES"),
            );
            param(&mut ctx, b, "ValidTo", "kms:ValidTo", None);
        }
        O::CreateGrant => {
            if let Some(Value::Array(ops)) = b.get("Operations") {
                ctx.set_all("kms:GrantOperations", ops.iter().filter_map(text).collect());
            }
            param(&mut ctx, b, "GranteePrincipal", "kms:GranteePrincipal", None);
            param(&mut ctx, b, "RetiringPrincipal", "kms:RetiringPrincipal", None);
            if let Some(Value::Object(c)) = b.get("Constraints") {
                ctx.set_all("kms:GrantConstraintType", c.keys().cloned().collect());
            }
            ctx.set("kms:GrantIsForAWSResource", "false");
        }
        O::ListGrants | O::RevokeGrant => ctx.set("kms:GrantIsForAWSResource", "false"),
        O::GetParametersForImport => {
            param(&mut ctx, b, "WrappingAlgorithm", "kms:WrappingAlgorithm", None);
            param(&mut ctx, b, "WrappingKeySpec", "kms:WrappingKeySpec", None);
        }
        _ => {}
    }
    tags(&mut ctx, b);
    request_alias(&mut ctx, b.get("KeyId"));
    (ctx, None)
}

/// The encryption contexts of a request as maps (source/only, destination), for grant constraints.
pub fn encryption_contexts(op: Operation, body: &Value) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let map = |v: Option<&Value>| -> BTreeMap<String, String> {
        match v {
            Some(Value::Object(m)) => m.iter().filter_map(|(k, v)| text(v).map(|t| (k.clone(), t))).collect(),
            _ => BTreeMap::new(),
        }
    };
    if op == Operation::ReEncrypt {
        (
            map(body.get("SourceEncryptionContext")),
            map(body.get("DestinationEncryptionContext")),
        )
    } else {
        (map(body.get("EncryptionContext")), BTreeMap::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_apply_and_context_keys_are_listed() {
        let (c, _) = from_body(
            Operation::CreateKey,
            &json!({"Tags": [{"TagKey": "a", "TagValue": "b"}]}),
        );
        assert_eq!(c.get("kms:keyspec"), Some(&vec!["SYMMETRIC_DEFAULT".to_owned()]));
        assert_eq!(c.get("aws:RequestTag/a"), Some(&vec!["b".to_owned()]));
        assert_eq!(c.get("aws:TagKeys"), Some(&vec!["a".to_owned()]));
        let (c, _) = from_body(
            Operation::Encrypt,
            &json!({"KeyId": "alias/app", "EncryptionContext": {"Dept": "IT"}}),
        );
        assert_eq!(c.get("kms:EncryptionContext:Dept"), Some(&vec!["IT".to_owned()]));
        assert_eq!(c.get("kms:EncryptionContextKeys"), Some(&vec!["Dept".to_owned()]));
        assert_eq!(c.get("kms:RequestAlias"), Some(&vec!["alias/app".to_owned()]));
        let (s, d) = from_body(
            Operation::ReEncrypt,
            &json!({"SourceEncryptionContext": {"a": "1"}, "DestinationEncryptionContext": {"b": "2"}}),
        );
        assert!(s.get("kms:EncryptionContext:a").is_some());
        assert!(d.expect("dest").get("kms:EncryptionContext:b").is_some());
    }
}
