//! What each request records in its audit event (CloudTrail `requestParameters`, lower camel
//! case) and which key ARNs each response names (`resources`): one declaration per wire type.
//! Only members listed here are recorded; plaintexts, ciphertexts, messages, signatures, MACs,
//! key material, import and grant tokens, public keys and policy documents never are.

use std::sync::Arc;

use trent_api::dto::*;
use trent_audit::{Parameters, Value};

use crate::pipeline::{AuditMembers, Resources};

/// Longest string recorded as it is. Members are recorded before validation (a refused request
/// is audited too), so a hostile request's oversized member must not become an oversized event.
const MAX_RECORDED_CHARS: usize = 2048;
/// Largest encryption context recorded pair by pair (the validated limit,
/// `validate::MAX_CONTEXT_BYTES`); a larger one is recorded as its size.
const MAX_RECORDED_CONTEXT_BYTES: usize = crate::validate::MAX_CONTEXT_BYTES;

/// Most list items recorded (AWS's longest lists — tags, grant operations — are 50 or fewer).
const MAX_RECORDED_ITEMS: usize = 64;

/// A list, at most [`MAX_RECORDED_ITEMS`] of its items, then a note of how many were left out.
fn list<T>(items: &[T], f: impl Fn(&T) -> Value) -> Value {
    let mut out: Vec<Value> = items.iter().take(MAX_RECORDED_ITEMS).map(f).collect();
    if items.len() > MAX_RECORDED_ITEMS {
        out.push(Value::Str(format!("(and {} more)", items.len() - MAX_RECORDED_ITEMS)));
    }
    Value::List(out)
}

fn text(v: &str) -> Value {
    if v.len() <= MAX_RECORDED_CHARS {
        return Value::Str(v.to_owned());
    }
    let mut t: String = v.chars().take(MAX_RECORDED_CHARS).collect();
    t.push_str("…(truncated)");
    Value::Str(t)
}

/// A request member as an audit value.
trait Member {
    fn put(&self, name: &'static str, p: &mut Parameters);
}

impl Member for Option<String> {
    fn put(&self, name: &'static str, p: &mut Parameters) {
        if let Some(v) = self {
            p.push(name, text(v));
        }
    }
}

impl Member for Option<i64> {
    fn put(&self, name: &'static str, p: &mut Parameters) {
        if let Some(v) = self {
            p.push(name, *v);
        }
    }
}

impl Member for Option<f64> {
    fn put(&self, name: &'static str, p: &mut Parameters) {
        if let Some(v) = self {
            p.push(name, Value::Float(*v));
        }
    }
}

impl Member for Option<bool> {
    fn put(&self, name: &'static str, p: &mut Parameters) {
        if let Some(v) = self {
            p.push(name, *v);
        }
    }
}

fn map(m: &EncryptionContextMap) -> Value {
    let bytes: usize = m.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_RECORDED_CONTEXT_BYTES {
        return Value::Str(format!("(not recorded: {} pairs, {bytes} bytes)", m.len()));
    }
    Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::Str(v.clone()))).collect())
}

impl Member for Option<EncryptionContextMap> {
    fn put(&self, name: &'static str, p: &mut Parameters) {
        if let Some(m) = self {
            p.push(name, map(m));
        }
    }
}

impl Member for Option<Vec<String>> {
    fn put(&self, name: &'static str, p: &mut Parameters) {
        if let Some(l) = self {
            p.push(name, list(l, |s| text(s)));
        }
    }
}

impl Member for Option<Vec<Tag>> {
    fn put(&self, name: &'static str, p: &mut Parameters) {
        if let Some(tags) = self {
            let recorded = list(tags, |t| {
                let mut m = Vec::new();
                if let Some(k) = &t.tag_key {
                    m.push(("tagKey".to_owned(), text(k)));
                }
                if let Some(v) = &t.tag_value {
                    m.push(("tagValue".to_owned(), text(v)));
                }
                Value::Map(m)
            });
            p.push(name, recorded);
        }
    }
}

impl Member for Option<GrantConstraints> {
    fn put(&self, name: &'static str, p: &mut Parameters) {
        if let Some(c) = self {
            let mut m = Vec::new();
            if let Some(s) = &c.encryption_context_subset {
                m.push(("encryptionContextSubset".to_owned(), map(s)));
            }
            if let Some(e) = &c.encryption_context_equals {
                m.push(("encryptionContextEquals".to_owned(), map(e)));
            }
            p.push(name, Value::Map(m));
        }
    }
}

macro_rules! audit_members {
    ($($ty:ty { $($field:ident => $name:literal),* $(,)? })*) => {$(
        impl AuditMembers for $ty {
            fn audit(&self, p: &mut Parameters) {
                $(Member::put(&self.$field, $name, p);)*
            }
        }
    )*};
}

audit_members! {
    CreateKeyRequest {
        description => "description", key_usage => "keyUsage", customer_master_key_spec => "customerMasterKeySpec",
        key_spec => "keySpec", origin => "origin", bypass_policy_lockout_safety_check => "bypassPolicyLockoutSafetyCheck",
        tags => "tags", multi_region => "multiRegion",
    }
    KeyIdRequest { key_id => "keyId" }
    ReplicateKeyRequest {
        key_id => "keyId", replica_region => "replicaRegion", description => "description",
        bypass_policy_lockout_safety_check => "bypassPolicyLockoutSafetyCheck", tags => "tags",
    }
    UpdatePrimaryRegionRequest { key_id => "keyId", primary_region => "primaryRegion" }
    ListRequest { key_id => "keyId", limit => "limit" }
    DescribeCustomKeyStoresRequest { custom_key_store_id => "customKeyStoreId", custom_key_store_name => "customKeyStoreName", limit => "limit" }
    CustomKeyStoreIdRequest { custom_key_store_id => "customKeyStoreId" }
    CustomKeyStoreRequest {
        custom_key_store_id => "customKeyStoreId", custom_key_store_name => "customKeyStoreName",
        new_custom_key_store_name => "newCustomKeyStoreName", custom_key_store_type => "customKeyStoreType",
        xks_proxy_uri_endpoint => "xksProxyUriEndpoint", xks_proxy_uri_path => "xksProxyUriPath",
        xks_proxy_connectivity => "xksProxyConnectivity",
        xks_proxy_vpc_endpoint_service_name => "xksProxyVpcEndpointServiceName",
    }
    UpdateKeyDescriptionRequest { key_id => "keyId", description => "description" }
    ScheduleKeyDeletionRequest { key_id => "keyId", pending_window_in_days => "pendingWindowInDays" }
    EncryptRequest {
        key_id => "keyId", encryption_context => "encryptionContext", encryption_algorithm => "encryptionAlgorithm",
        dry_run => "dryRun",
    }
    DecryptRequest {
        key_id => "keyId", encryption_context => "encryptionContext", encryption_algorithm => "encryptionAlgorithm",
        dry_run => "dryRun", dry_run_modifiers => "dryRunModifiers",
    }
    ReEncryptRequest {
        source_key_id => "sourceKeyId", destination_key_id => "destinationKeyId",
        source_encryption_context => "sourceEncryptionContext",
        destination_encryption_context => "destinationEncryptionContext",
        source_encryption_algorithm => "sourceEncryptionAlgorithm",
        destination_encryption_algorithm => "destinationEncryptionAlgorithm", dry_run => "dryRun",
        dry_run_modifiers => "dryRunModifiers",
    }
    GenerateDataKeyRequest {
        key_id => "keyId", encryption_context => "encryptionContext", number_of_bytes => "numberOfBytes",
        key_spec => "keySpec", dry_run => "dryRun",
    }
    GenerateRandomRequest { number_of_bytes => "numberOfBytes", custom_key_store_id => "customKeyStoreId" }
    AliasRequest { alias_name => "aliasName", target_key_id => "targetKeyId" }
    TagResourceRequest { key_id => "keyId", tags => "tags" }
    UntagResourceRequest { key_id => "keyId", tag_keys => "tagKeys" }
    KeyPolicyRequest {
        key_id => "keyId", policy_name => "policyName",
        bypass_policy_lockout_safety_check => "bypassPolicyLockoutSafetyCheck",
    }
    SignRequest { key_id => "keyId", message_type => "messageType", signing_algorithm => "signingAlgorithm", dry_run => "dryRun" }
    MacRequest { key_id => "keyId", mac_algorithm => "macAlgorithm", dry_run => "dryRun" }
    DeriveSharedSecretRequest { key_id => "keyId", key_agreement_algorithm => "keyAgreementAlgorithm", dry_run => "dryRun" }
    GenerateDataKeyPairRequest {
        key_id => "keyId", encryption_context => "encryptionContext", key_pair_spec => "keyPairSpec", dry_run => "dryRun",
    }
    KeyRotationRequest { key_id => "keyId", rotation_period_in_days => "rotationPeriodInDays" }
    ListKeyRotationsRequest { key_id => "keyId", include_key_material => "includeKeyMaterial", limit => "limit" }
    GetParametersForImportRequest {
        key_id => "keyId", wrapping_algorithm => "wrappingAlgorithm", wrapping_key_spec => "wrappingKeySpec",
    }
    ImportKeyMaterialRequest {
        key_id => "keyId", valid_to => "validTo", expiration_model => "expirationModel", import_type => "importType",
        key_material_description => "keyMaterialDescription", key_material_id => "keyMaterialId",
    }
    DeleteImportedKeyMaterialRequest { key_id => "keyId", key_material_id => "keyMaterialId" }
    CreateGrantRequest {
        key_id => "keyId", grantee_principal => "granteePrincipal", retiring_principal => "retiringPrincipal",
        operations => "operations", constraints => "constraints", name => "name", dry_run => "dryRun",
    }
    ListGrantsRequest {
        key_id => "keyId", limit => "limit", grant_id => "grantId", grantee_principal => "granteePrincipal",
        retiring_principal => "retiringPrincipal",
    }
    RetireGrantRequest { key_id => "keyId", grant_id => "grantId", dry_run => "dryRun" }
}

fn arn(out: &mut Vec<Arc<str>>, s: &str) {
    if s.starts_with("arn:") && !out.iter().any(|a| a.as_ref() == s) {
        out.push(Arc::from(s));
    }
}

macro_rules! resources {
    ($($ty:ty => |$r:ident, $out:ident| $body:expr;)*) => {$(
        impl Resources for $ty {
            fn resources(&self, $out: &mut Vec<Arc<str>>) {
                let $r = self;
                $body
            }
        }
    )*};
}

resources! {
    KeyMetadataResponse => |r, out| arn(out, &r.key_metadata.arn);
    ReplicateKeyResponse => |r, out| arn(out, &r.replica_key_metadata.arn);
    KeyIdResponse => |r, out| arn(out, &r.key_id);
    ScheduleKeyDeletionResponse => |r, out| arn(out, &r.key_id);
    EncryptResponse => |r, out| arn(out, &r.key_id);
    DecryptResponse => |r, out| arn(out, &r.key_id);
    ReEncryptResponse => |r, out| { arn(out, &r.source_key_id); arn(out, &r.key_id) };
    GenerateDataKeyResponse => |r, out| arn(out, &r.key_id);
    SignResponse => |r, out| arn(out, &r.key_id);
    VerifyResponse => |r, out| arn(out, &r.key_id);
    GetPublicKeyResponse => |r, out| arn(out, &r.key_id);
    GenerateMacResponse => |r, out| arn(out, &r.key_id);
    VerifyMacResponse => |r, out| arn(out, &r.key_id);
    DeriveSharedSecretResponse => |r, out| arn(out, &r.key_id);
    GenerateDataKeyPairResponse => |r, out| arn(out, &r.key_id);
    GetKeyRotationStatusResponse => |r, out| arn(out, &r.key_id);
    GetParametersForImportResponse => |r, out| arn(out, &r.key_id);
    KeyMaterialResponse => |r, out| arn(out, &r.key_id);
    GetKeyLastUsageResponse => |r, out| arn(out, &r.key_id);
    Empty => |_r, _out| ();
    ListKeysResponse => |_r, _out| ();
    ListAliasesResponse => |_r, _out| ();
    ListResourceTagsResponse => |_r, _out| ();
    GetKeyPolicyResponse => |_r, _out| ();
    ListKeyPoliciesResponse => |_r, _out| ();
    ListKeyRotationsResponse => |_r, _out| ();
    GenerateRandomResponse => |_r, _out| ();
    CreateGrantResponse => |_r, _out| ();
    ListGrantsResponse => |_r, _out| ();
    DescribeCustomKeyStoresResponse => |_r, _out| ();
    CreateCustomKeyStoreResponse => |_r, _out| ();
}
