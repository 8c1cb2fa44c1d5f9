//! The XKS proxy API's wire types (AWS "External Key Store Proxy API Specification", v1,
//! Nov 10 2022): the four operations' JSON bodies, both as Trent serves them (proxy side) and as
//! Trent sends them (KMS side), and the error catalogue with its HTTP statuses ("Error codes").
//!
//! Request members are lower camel case. Unknown members are ignored: the specification says AWS
//! may add `requestMetadata` fields ("Appendix B") and a proxy must not reject them. Base64
//! members are decoded by [`crate::Blob`] / [`crate::SensitiveBlob`] (plaintexts are zeroized).

use serde::{Deserialize, Serialize};

use crate::{Blob, SensitiveBlob};

/// The URI path every operation is under, after the optional prefix (spec "API operations").
pub const PATH_SUFFIX: &str = "/kms/xks/v1";
/// The SigV4 signing name (spec "Appendix A").
pub const SIGNING_NAME: &str = "kms-xks-proxy";
/// The longest `externalKeyId` (spec "API operations").
pub const MAX_KEY_ID: usize = 128;
/// The longest `XksProxyUriPath` (spec "API operations").
pub const MAX_URI_PATH: usize = 128;

/// `requestMetadata` (spec Appendix B). Only `kmsOperation` and `kmsRequestId` are always
/// present (GetHealthStatus sends nothing else).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_principal_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_source_vpc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_source_vpce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    pub kms_operation: String,
    pub kms_request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_via_service: Option<String>,
}

/// GetHealthStatus and GetKeyMetadata requests: only the metadata.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataOnly {
    pub request_metadata: RequestMetadata,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptRequest {
    pub request_metadata: RequestMetadata,
    pub plaintext: SensitiveBlob,
    pub encryption_algorithm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_authenticated_data: Option<Blob>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciphertext_data_integrity_value_algorithm: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptResponse {
    pub ciphertext: Blob,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_metadata: Option<Blob>,
    pub initialization_vector: Blob,
    pub authentication_tag: Blob,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_data_integrity_value: Option<Blob>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecryptRequest {
    pub request_metadata: RequestMetadata,
    pub ciphertext: Blob,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_metadata: Option<Blob>,
    pub encryption_algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_authenticated_data: Option<Blob>,
    pub initialization_vector: Blob,
    pub authentication_tag: Blob,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecryptResponse {
    pub plaintext: SensitiveBlob,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyMetadataResponse {
    pub key_spec: String,
    pub key_usage: Vec<String>,
    pub key_status: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EkmFleetDetail {
    pub id: String,
    pub model: String,
    pub health_status: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthResponse {
    pub xks_proxy_fleet_size: u32,
    pub xks_proxy_vendor: String,
    pub xks_proxy_model: String,
    pub ekm_vendor: String,
    pub ekm_fleet_details: Vec<EkmFleetDetail>,
}

/// The error body: `{"errorName": …, "errorMessage": …}` (spec "Error codes").
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Every error a proxy answers, with its HTTP status (spec "Error codes" table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorName {
    Validation,
    InvalidState,
    InvalidCiphertext,
    InvalidKeyUsage,
    AuthenticationFailed,
    AccessDenied,
    KeyNotFound,
    InvalidUriPath,
    Throttling,
    UnsupportedOperation,
    DependencyTimeout,
    Internal,
}

impl ErrorName {
    pub const ALL: [ErrorName; 12] = [
        ErrorName::Validation,
        ErrorName::InvalidState,
        ErrorName::InvalidCiphertext,
        ErrorName::InvalidKeyUsage,
        ErrorName::AuthenticationFailed,
        ErrorName::AccessDenied,
        ErrorName::KeyNotFound,
        ErrorName::InvalidUriPath,
        ErrorName::Throttling,
        ErrorName::UnsupportedOperation,
        ErrorName::DependencyTimeout,
        ErrorName::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::Validation => "ValidationException",
            ErrorName::InvalidState => "InvalidStateException",
            ErrorName::InvalidCiphertext => "InvalidCiphertextException",
            ErrorName::InvalidKeyUsage => "InvalidKeyUsageException",
            ErrorName::AuthenticationFailed => "AuthenticationFailedException",
            ErrorName::AccessDenied => "AccessDeniedException",
            ErrorName::KeyNotFound => "KeyNotFoundException",
            ErrorName::InvalidUriPath => "InvalidUriPathException",
            ErrorName::Throttling => "ThrottlingException",
            ErrorName::UnsupportedOperation => "UnsupportedOperationException",
            ErrorName::DependencyTimeout => "DependencyTimeoutException",
            ErrorName::Internal => "InternalException",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorName> {
        ErrorName::ALL.into_iter().find(|e| e.as_str() == s)
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorName::Validation
            | ErrorName::InvalidState
            | ErrorName::InvalidCiphertext
            | ErrorName::InvalidKeyUsage => 400,
            ErrorName::AuthenticationFailed => 401,
            ErrorName::AccessDenied => 403,
            ErrorName::KeyNotFound | ErrorName::InvalidUriPath => 404,
            ErrorName::Throttling => 429,
            ErrorName::Internal => 500,
            ErrorName::UnsupportedOperation => 501,
            ErrorName::DependencyTimeout => 503,
        }
    }
}

/// A proxy error: its name and a message of printable ASCII under 512 characters (spec "Error
/// codes").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XksError {
    pub name: ErrorName,
    pub message: String,
}

impl XksError {
    pub fn new(name: ErrorName, message: impl Into<String>) -> XksError {
        let message: String = message
            .into()
            .chars()
            .filter(|c| (' '..='~').contains(c))
            .take(511)
            .collect();
        XksError { name, message }
    }

    pub fn to_body(&self) -> String {
        let body = ErrorBody {
            error_name: self.name.as_str().to_owned(),
            error_message: (!self.message.is_empty()).then(|| self.message.clone()),
        };
        serde_json::to_string(&body).unwrap_or_else(|_| format!("{{\"errorName\":\"{}\"}}", self.name.as_str()))
    }
}

/// An `externalKeyId`: 1–128 characters of `A-Za-z0-9.-_` (spec "API operations").
pub fn is_external_key_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_KEY_ID
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// An `XksProxyUriPath`: at most 128 characters of `A-Za-z0-9/-_`, ending in `/kms/xks/v1`
/// (spec "API operations"; the KMS model's pattern).
pub fn is_uri_path(s: &str) -> bool {
    s.len() <= MAX_URI_PATH
        && s.ends_with(PATH_SUFFIX)
        && s.starts_with('/')
        && !s.contains("//")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_specification_table() {
        let table = [
            ("ValidationException", 400),
            ("InvalidStateException", 400),
            ("InvalidCiphertextException", 400),
            ("InvalidKeyUsageException", 400),
            ("AuthenticationFailedException", 401),
            ("AccessDeniedException", 403),
            ("KeyNotFoundException", 404),
            ("InvalidUriPathException", 404),
            ("ThrottlingException", 429),
            ("UnsupportedOperationException", 501),
            ("DependencyTimeoutException", 503),
            ("InternalException", 500),
        ];
        for (name, status) in table {
            let e = ErrorName::parse(name).expect(name);
            assert_eq!(e.http_status(), status, "{name}");
        }
        assert_eq!(ErrorName::ALL.len(), table.len());
    }

    #[test]
    fn error_messages_are_printable_ascii_under_512() {
        let e = XksError::new(ErrorName::Internal, format!("é\n{}", "x".repeat(600)));
        assert_eq!(e.message.len(), 511);
        assert!(e.message.bytes().all(|b| (0x20..=0x7e).contains(&b)));
    }

    #[test]
    fn the_specification_examples_parse() {
        let encrypt = r#"{
            "requestMetadata": {
                "awsPrincipalArn": "arn:aws:iam::123456789012:user/Alice",
                "kmsKeyArn": "arn:aws:kms:us-east-2:123456789012:/key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "kmsOperation": "Encrypt",
                "kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae",
                "kmsViaService": "ebs"
            },
            "additionalAuthenticatedData": "cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n",
            "plaintext": "SGVsbG8gV29ybGQh",
            "encryptionAlgorithm": "AES_GCM",
            "ciphertextDataIntegrityValueAlgorithm": "SHA_256"
        }"#;
        let r: EncryptRequest = serde_json::from_str(encrypt).expect("encrypt");
        assert_eq!(r.plaintext.expose(), b"Hello World!");
        assert_eq!(r.request_metadata.kms_via_service.as_deref(), Some("ebs"));
        let health = r#"{"requestMetadata": {"kmsRequestId": "4112f4d6", "kmsOperation": "CreateCustomKeyStore", "newField": 1}}"#;
        let h: MetadataOnly = serde_json::from_str(health).expect("health");
        assert_eq!(h.request_metadata.kms_operation, "CreateCustomKeyStore");
    }

    #[test]
    fn key_ids_and_paths() {
        assert!(is_external_key_id("Abc.def-1_2"));
        assert!(!is_external_key_id(""));
        assert!(!is_external_key_id("a/b"));
        assert!(!is_external_key_id(&"a".repeat(129)));
        assert!(is_uri_path("/kms/xks/v1"));
        assert!(is_uri_path(
            "/keystores/4a0d79d6-1d1b-49fd-9dbe-799cb9c0fb3f/kms/xks/v1"
        ));
        assert!(!is_uri_path("/kms/xks/v2"));
        assert!(!is_uri_path("kms/xks/v1"));
        assert!(!is_uri_path("/a.b/kms/xks/v1"));
    }
}
