//! The AWS error catalogue and the typed error every Trent layer returns to the pipeline.
//!
//! `KmsError::code` is an exhaustive `match` (no `_` arm): a new variant cannot compile until it
//! is given its AWS `__type`. The HTTP status follows AWS as recorded: 400 for every client error,
//! 500 for `KMSInternalException` / `KeyUnavailableException`, 503 for `DependencyTimeoutException`
//! (reference §0).

/// Every `__type` Trent can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    AccessDenied,
    AlreadyExists,
    CustomKeyStoreNotFound,
    CustomKeyStoreInvalidState,
    CustomKeyStoreNameInUse,
    CustomKeyStoreHasCmks,
    XksKeyAlreadyInUse,
    XksKeyNotFound,
    XksKeyInvalidConfiguration,
    XksProxyUriInUse,
    XksProxyUriEndpointInUse,
    XksProxyUriUnreachable,
    XksProxyIncorrectAuthenticationCredential,
    XksProxyInvalidResponse,
    XksProxyInvalidConfiguration,
    XksProxyVpcEndpointServiceNotFound,
    DependencyTimeout,
    Disabled,
    DryRunOperation,
    ExpiredImportToken,
    ExpiredToken,
    IncompleteSignature,
    IncorrectKey,
    IncorrectKeyMaterial,
    InvalidAliasName,
    InvalidArn,
    InvalidCiphertext,
    InvalidGrantId,
    InvalidGrantToken,
    InvalidImportToken,
    InvalidKeyUsage,
    InvalidMarker,
    InvalidSignature,
    KmsInternal,
    KmsInvalidMac,
    KmsInvalidSignature,
    KmsInvalidState,
    LimitExceeded,
    MalformedPolicyDocument,
    MissingAuthenticationToken,
    NotAuthorized,
    NotFound,
    Serialization,
    Tag,
    Throttling,
    UnknownOperation,
    UnrecognizedClient,
    UnsupportedOperation,
    Validation,
}

impl ErrorCode {
    /// The `__type` string clients dispatch on.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::AccessDenied => "AccessDeniedException",
            ErrorCode::AlreadyExists => "AlreadyExistsException",
            ErrorCode::CustomKeyStoreNotFound => "CustomKeyStoreNotFoundException",
            ErrorCode::CustomKeyStoreInvalidState => "CustomKeyStoreInvalidStateException",
            ErrorCode::CustomKeyStoreNameInUse => "CustomKeyStoreNameInUseException",
            ErrorCode::CustomKeyStoreHasCmks => "CustomKeyStoreHasCMKsException",
            ErrorCode::XksKeyAlreadyInUse => "XksKeyAlreadyInUseException",
            ErrorCode::XksKeyNotFound => "XksKeyNotFoundException",
            ErrorCode::XksKeyInvalidConfiguration => "XksKeyInvalidConfigurationException",
            ErrorCode::XksProxyUriInUse => "XksProxyUriInUseException",
            ErrorCode::XksProxyUriEndpointInUse => "XksProxyUriEndpointInUseException",
            ErrorCode::XksProxyUriUnreachable => "XksProxyUriUnreachableException",
            ErrorCode::XksProxyIncorrectAuthenticationCredential => {
                "XksProxyIncorrectAuthenticationCredentialException"
            }
            ErrorCode::XksProxyInvalidResponse => "XksProxyInvalidResponseException",
            ErrorCode::XksProxyInvalidConfiguration => "XksProxyInvalidConfigurationException",
            ErrorCode::XksProxyVpcEndpointServiceNotFound => "XksProxyVpcEndpointServiceNotFoundException",
            ErrorCode::DependencyTimeout => "DependencyTimeoutException",
            ErrorCode::Disabled => "DisabledException",
            ErrorCode::DryRunOperation => "DryRunOperationException",
            ErrorCode::ExpiredImportToken => "ExpiredImportTokenException",
            ErrorCode::ExpiredToken => "ExpiredTokenException",
            ErrorCode::IncompleteSignature => "IncompleteSignatureException",
            ErrorCode::IncorrectKey => "IncorrectKeyException",
            ErrorCode::IncorrectKeyMaterial => "IncorrectKeyMaterialException",
            ErrorCode::InvalidAliasName => "InvalidAliasNameException",
            ErrorCode::InvalidArn => "InvalidArnException",
            ErrorCode::InvalidCiphertext => "InvalidCiphertextException",
            ErrorCode::InvalidGrantId => "InvalidGrantIdException",
            ErrorCode::InvalidGrantToken => "InvalidGrantTokenException",
            ErrorCode::InvalidImportToken => "InvalidImportTokenException",
            ErrorCode::InvalidKeyUsage => "InvalidKeyUsageException",
            ErrorCode::InvalidMarker => "InvalidMarkerException",
            ErrorCode::InvalidSignature => "InvalidSignatureException",
            ErrorCode::KmsInternal => "KMSInternalException",
            ErrorCode::KmsInvalidMac => "KMSInvalidMacException",
            ErrorCode::KmsInvalidSignature => "KMSInvalidSignatureException",
            ErrorCode::KmsInvalidState => "KMSInvalidStateException",
            ErrorCode::LimitExceeded => "LimitExceededException",
            ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocumentException",
            ErrorCode::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            ErrorCode::NotAuthorized => "NotAuthorizedException",
            ErrorCode::NotFound => "NotFoundException",
            ErrorCode::Serialization => "SerializationException",
            ErrorCode::Tag => "TagException",
            ErrorCode::Throttling => "ThrottlingException",
            ErrorCode::UnknownOperation => "UnknownOperationException",
            ErrorCode::UnrecognizedClient => "UnrecognizedClientException",
            ErrorCode::UnsupportedOperation => "UnsupportedOperationException",
            ErrorCode::Validation => "ValidationException",
        }
    }

    /// HTTP status: AWS answers 400 for every recorded client error (reference §0).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::KmsInternal => 500,
            // Retryable: the AWS SDKs retry 503s (reference §14, "SDK retries").
            ErrorCode::DependencyTimeout => 503,
            ErrorCode::AccessDenied
            | ErrorCode::AlreadyExists
            | ErrorCode::CustomKeyStoreNotFound
            | ErrorCode::CustomKeyStoreInvalidState
            | ErrorCode::CustomKeyStoreNameInUse
            | ErrorCode::CustomKeyStoreHasCmks
            | ErrorCode::XksKeyAlreadyInUse
            | ErrorCode::XksKeyNotFound
            | ErrorCode::XksKeyInvalidConfiguration
            | ErrorCode::XksProxyUriInUse
            | ErrorCode::XksProxyUriEndpointInUse
            | ErrorCode::XksProxyUriUnreachable
            | ErrorCode::XksProxyIncorrectAuthenticationCredential
            | ErrorCode::XksProxyInvalidResponse
            | ErrorCode::XksProxyInvalidConfiguration
            | ErrorCode::XksProxyVpcEndpointServiceNotFound
            | ErrorCode::Disabled
            | ErrorCode::DryRunOperation
            | ErrorCode::ExpiredImportToken
            | ErrorCode::ExpiredToken
            | ErrorCode::IncompleteSignature
            | ErrorCode::IncorrectKey
            | ErrorCode::IncorrectKeyMaterial
            | ErrorCode::InvalidAliasName
            | ErrorCode::InvalidArn
            | ErrorCode::InvalidCiphertext
            | ErrorCode::InvalidGrantId
            | ErrorCode::InvalidGrantToken
            | ErrorCode::InvalidImportToken
            | ErrorCode::InvalidKeyUsage
            | ErrorCode::InvalidMarker
            | ErrorCode::InvalidSignature
            | ErrorCode::KmsInvalidMac
            | ErrorCode::KmsInvalidSignature
            | ErrorCode::KmsInvalidState
            | ErrorCode::LimitExceeded
            | ErrorCode::MalformedPolicyDocument
            | ErrorCode::MissingAuthenticationToken
            | ErrorCode::NotAuthorized
            | ErrorCode::NotFound
            | ErrorCode::Serialization
            | ErrorCode::Tag
            | ErrorCode::Throttling
            | ErrorCode::UnknownOperation
            | ErrorCode::UnrecognizedClient
            | ErrorCode::UnsupportedOperation
            | ErrorCode::Validation => 400,
        }
    }
}

/// The typed error of a KMS request. Each variant carries the exact client-visible message;
/// `Internal` carries detail for the log only (never rendered).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KmsError {
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    CustomKeyStoreNotFound(String),
    #[error("{0}")]
    CustomKeyStoreInvalidState(String),
    #[error("{0}")]
    CustomKeyStoreNameInUse(String),
    #[error("{0}")]
    CustomKeyStoreHasCmks(String),
    #[error("{0}")]
    XksKeyAlreadyInUse(String),
    #[error("{0}")]
    XksKeyNotFound(String),
    #[error("{0}")]
    XksKeyInvalidConfiguration(String),
    #[error("{0}")]
    XksProxyUriInUse(String),
    #[error("{0}")]
    XksProxyUriEndpointInUse(String),
    #[error("{0}")]
    XksProxyUriUnreachable(String),
    #[error("{0}")]
    XksProxyIncorrectAuthenticationCredential(String),
    #[error("{0}")]
    XksProxyInvalidResponse(String),
    #[error("{0}")]
    XksProxyInvalidConfiguration(String),
    #[error("{0}")]
    XksProxyVpcEndpointServiceNotFound(String),
    /// `<key ARN> is disabled.`
    #[error("{0}")]
    Disabled(String),
    /// `The request would have succeeded, but the DryRun option is set.`
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRun,
    #[error("{0}")]
    ExpiredImportToken(String),
    #[error("{0}")]
    ExpiredToken(String),
    #[error("{0}")]
    IncorrectKeyMaterial(String),
    #[error("{0}")]
    InvalidImportToken(String),
    #[error("{0}")]
    IncompleteSignature(String),
    /// `The key ID in the request does not identify a CMK that can perform this operation.`
    #[error("The key ID in the request does not identify a CMK that can perform this operation.")]
    IncorrectKey,
    #[error("{0}")]
    InvalidAliasName(String),
    #[error("{0}")]
    InvalidArn(String),
    /// Always empty on the wire: decryption failures reveal nothing (reference §4.1).
    #[error("")]
    InvalidCiphertext,
    #[error("{0}")]
    InvalidGrantId(String),
    #[error("{0}")]
    InvalidGrantToken(String),
    #[error("{0}")]
    InvalidKeyUsage(String),
    #[error("{0}")]
    InvalidMarker(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    InvalidState(String),
    /// VerifyMac failure: always an empty message (reference §4.10).
    #[error("")]
    InvalidMac,
    /// Verify failure: always an empty message (reference §4.10).
    #[error("")]
    InvalidSignatureValue,
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    MissingAuthenticationToken(String),
    /// Reserved resources (`alias/aws/...`): AWS answers `NotAuthorizedException`.
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    Tag(String),
    /// The service cannot answer now (it is sealed, for one): HTTP 503, which clients retry.
    #[error("{0}")]
    DependencyTimeout(String),
    /// A request quota was exceeded (HTTP 400; the AWS SDKs retry it with backoff).
    #[error("{0}")]
    Throttling(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    UnrecognizedClient(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    Validation(String),
    /// A server-side failure. The detail is logged with the request id and never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl KmsError {
    pub fn code(&self) -> ErrorCode {
        match self {
            KmsError::AccessDenied(_) => ErrorCode::AccessDenied,
            KmsError::AlreadyExists(_) => ErrorCode::AlreadyExists,
            KmsError::CustomKeyStoreNotFound(_) => ErrorCode::CustomKeyStoreNotFound,
            KmsError::CustomKeyStoreInvalidState(_) => ErrorCode::CustomKeyStoreInvalidState,
            KmsError::CustomKeyStoreNameInUse(_) => ErrorCode::CustomKeyStoreNameInUse,
            KmsError::CustomKeyStoreHasCmks(_) => ErrorCode::CustomKeyStoreHasCmks,
            KmsError::XksKeyAlreadyInUse(_) => ErrorCode::XksKeyAlreadyInUse,
            KmsError::XksKeyNotFound(_) => ErrorCode::XksKeyNotFound,
            KmsError::XksKeyInvalidConfiguration(_) => ErrorCode::XksKeyInvalidConfiguration,
            KmsError::XksProxyUriInUse(_) => ErrorCode::XksProxyUriInUse,
            KmsError::XksProxyUriEndpointInUse(_) => ErrorCode::XksProxyUriEndpointInUse,
            KmsError::XksProxyUriUnreachable(_) => ErrorCode::XksProxyUriUnreachable,
            KmsError::XksProxyIncorrectAuthenticationCredential(_) => {
                ErrorCode::XksProxyIncorrectAuthenticationCredential
            }
            KmsError::XksProxyInvalidResponse(_) => ErrorCode::XksProxyInvalidResponse,
            KmsError::XksProxyInvalidConfiguration(_) => ErrorCode::XksProxyInvalidConfiguration,
            KmsError::XksProxyVpcEndpointServiceNotFound(_) => ErrorCode::XksProxyVpcEndpointServiceNotFound,
            KmsError::DependencyTimeout(_) => ErrorCode::DependencyTimeout,
            KmsError::Disabled(_) => ErrorCode::Disabled,
            KmsError::DryRun => ErrorCode::DryRunOperation,
            KmsError::ExpiredImportToken(_) => ErrorCode::ExpiredImportToken,
            KmsError::ExpiredToken(_) => ErrorCode::ExpiredToken,
            KmsError::IncorrectKeyMaterial(_) => ErrorCode::IncorrectKeyMaterial,
            KmsError::InvalidImportToken(_) => ErrorCode::InvalidImportToken,
            KmsError::IncompleteSignature(_) => ErrorCode::IncompleteSignature,
            KmsError::IncorrectKey => ErrorCode::IncorrectKey,
            KmsError::InvalidAliasName(_) => ErrorCode::InvalidAliasName,
            KmsError::InvalidArn(_) => ErrorCode::InvalidArn,
            KmsError::InvalidCiphertext => ErrorCode::InvalidCiphertext,
            KmsError::InvalidGrantId(_) => ErrorCode::InvalidGrantId,
            KmsError::InvalidGrantToken(_) => ErrorCode::InvalidGrantToken,
            KmsError::InvalidKeyUsage(_) => ErrorCode::InvalidKeyUsage,
            KmsError::InvalidMarker(_) => ErrorCode::InvalidMarker,
            KmsError::InvalidSignature(_) => ErrorCode::InvalidSignature,
            KmsError::InvalidState(_) => ErrorCode::KmsInvalidState,
            KmsError::InvalidMac => ErrorCode::KmsInvalidMac,
            KmsError::InvalidSignatureValue => ErrorCode::KmsInvalidSignature,
            KmsError::LimitExceeded(_) => ErrorCode::LimitExceeded,
            KmsError::MalformedPolicyDocument(_) => ErrorCode::MalformedPolicyDocument,
            KmsError::MissingAuthenticationToken(_) => ErrorCode::MissingAuthenticationToken,
            KmsError::NotAuthorized(_) => ErrorCode::NotAuthorized,
            KmsError::NotFound(_) => ErrorCode::NotFound,
            KmsError::Serialization(_) => ErrorCode::Serialization,
            KmsError::Tag(_) => ErrorCode::Tag,
            KmsError::Throttling(_) => ErrorCode::Throttling,
            KmsError::UnknownOperation(_) => ErrorCode::UnknownOperation,
            KmsError::UnrecognizedClient(_) => ErrorCode::UnrecognizedClient,
            KmsError::UnsupportedOperation(_) => ErrorCode::UnsupportedOperation,
            KmsError::Validation(_) => ErrorCode::Validation,
            KmsError::Internal(_) => ErrorCode::KmsInternal,
        }
    }

    /// The `message` member sent to the client. Internal detail is replaced.
    pub fn client_message(&self) -> String {
        match self {
            KmsError::Internal(_) => "An internal error occurred.".to_owned(),
            other => other.to_string(),
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        KmsError::Internal(detail.to_string())
    }

    /// The JSON body `{"__type": ..., "message": ...}`. An error without a message has no
    /// `message` member at all, as AWS sends it (`{"__type":"InvalidCiphertextException"}`).
    pub fn to_body(&self) -> String {
        let message = self.client_message();
        if message.is_empty() {
            return serde_json::json!({"__type": self.code().as_str()}).to_string();
        }
        serde_json::json!({"__type": self.code().as_str(), "message": message}).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_never_reaches_the_client() {
        let e = KmsError::internal("sqlite: disk I/O error at /secret/path");
        assert_eq!(e.code().http_status(), 500);
        assert!(!e.to_body().contains("/secret/path"));
    }

    /// AWS omits `message` rather than sending `""` (AWS-recorded for InvalidCiphertext,
    /// KMSInvalidSignature, KMSInvalidMac).
    #[test]
    fn an_empty_message_is_no_message() {
        for e in [
            KmsError::InvalidCiphertext,
            KmsError::InvalidMac,
            KmsError::InvalidSignatureValue,
            KmsError::UnsupportedOperation(String::new()),
            KmsError::Validation(String::new()),
        ] {
            let body: serde_json::Value = serde_json::from_str(&e.to_body()).expect("json");
            assert_eq!(body, serde_json::json!({"__type": e.code().as_str()}));
        }
    }
}
