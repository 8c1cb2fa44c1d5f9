//! Tags of users and roles after creation: `TagUser`/`UntagUser`/`ListUserTags` and their role
//! twins (IAM API Reference). Tagging merges (an existing key takes the new value) and keeps at
//! most 50 tags; untagging a key that is not there is not an error. `ListInstanceProfilesForRole`
//! is here too: Trent has no instance profiles, so every role has none (Terraform reads it before
//! it deletes a role).

use std::collections::BTreeMap;

use trent_api::xml::Xml;

use super::actions::IamCx;
use super::holders::{self, Holder, Loaded};
use super::model::{Role, User};
use super::protocol::{check_tag_text, page, IamError, IamResult, Params, MAX_TAGS};

/// An entity with tags.
pub(crate) trait Tagged: Holder {
    fn tags_mut(&mut self) -> &mut BTreeMap<String, String>;
}

impl Tagged for User {
    fn tags_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.tags
    }
}

impl Tagged for Role {
    fn tags_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.tags
    }
}

pub(crate) async fn tag<H: Tagged>(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req(H::MEMBER)?;
    let tags = p.tags()?;
    if tags.is_empty() {
        return Err(IamError::validation(
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
        ));
    }
    let Loaded {
        mut entity,
        stored,
        auth,
    } = holders::load::<H>(cx, name).await?;
    let all = entity.tags_mut();
    all.extend(tags);
    if all.len() > MAX_TAGS {
        return Err(IamError::limit(format!(
            "The number of tags has reached the maximum limit of {MAX_TAGS}."
        )));
    }
    cx.kms
        .iam_save(&auth, cx.caller.account(), H::KIND, name, &entity, Some(&stored))
        .await?;
    Ok(None)
}

pub(crate) async fn untag<H: Tagged>(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req(H::MEMBER)?;
    let keys = p.members("TagKeys");
    if keys.is_empty() {
        return Err(IamError::validation(
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
        ));
    }
    if keys.len() > MAX_TAGS {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to {MAX_TAGS}"
        )));
    }
    for (i, k) in keys.iter().enumerate() {
        check_tag_text(&format!("tagKeys.{}.member", i + 1), k, 1, 128, "+")?;
    }
    let Loaded {
        mut entity,
        stored,
        auth,
    } = holders::load::<H>(cx, name).await?;
    let all = entity.tags_mut();
    let before = all.len();
    for k in &keys {
        all.remove(k);
    }
    if all.len() != before {
        cx.kms
            .iam_save(&auth, cx.caller.account(), H::KIND, name, &entity, Some(&stored))
            .await?;
    }
    Ok(None)
}

pub(crate) async fn list_tags<H: Tagged>(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let mut h = holders::load::<H>(cx, p.req(H::MEMBER)?).await?;
    let tags: Vec<(String, String)> = std::mem::take(h.entity.tags_mut()).into_iter().collect();
    let (items, mut tail) = page(tags, p, |(k, _)| k.as_str())?;
    let mut out = vec![Xml::members(
        "Tags",
        items
            .into_iter()
            .map(|(k, v)| Xml::el("Tag", vec![Xml::leaf("Key", k), Xml::leaf("Value", v)]))
            .collect(),
    )];
    out.append(&mut tail);
    Ok(Some(out))
}

pub(crate) async fn list_instance_profiles_for_role(cx: &IamCx<'_>, p: &Params) -> IamResult {
    holders::load::<Role>(cx, p.req("RoleName")?).await?;
    let (_, mut tail) = page(Vec::<String>::new(), p, |s| s.as_str())?;
    let mut out = vec![Xml::members("InstanceProfiles", Vec::new())];
    out.append(&mut tail);
    Ok(Some(out))
}
