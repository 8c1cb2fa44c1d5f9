//! IAM JSON policy documents (key policies now; identity and trust policies later).
//!
//! Owns: the typed grammar ([`PolicyDocument`], [`Statement`], principals, conditions) and its
//! parser, which rejects what AWS rejects with `MalformedPolicyDocumentException`; the pure
//! evaluator — wildcards and policy variables ([`pattern`]), every condition operator family
//! ([`condition`]), statement matching ([`evaluate`]) and the request context ([`context`]).
//! Combining key policy, identity policies and grants into a decision belongs to the service.
//! Must not do I/O.

#![forbid(unsafe_code)]

pub mod condition;
pub mod context;
mod document;
pub mod evaluate;
pub mod pattern;

pub use condition::{BaseOperator, Condition, Operator, SetQualifier};
pub use context::{strip_prefix_ignore_ascii_case, Context, Facts, NoFacts, Principal, PrincipalKind, Values};
pub use document::{
    parse, parse_identity, Effect, OneOrMany, Patterns, PolicyDocument, PolicyError, Principal as PrincipalElement,
    Statement,
};
pub use evaluate::{applicable, outcome, Applied, Named, Outcome, PolicyKind, Request};
pub use pattern::Glob;
