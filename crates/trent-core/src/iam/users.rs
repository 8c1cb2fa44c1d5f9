//! IAM users, their access keys, inline policies and attached managed policies.

use trent_api::xml::Xml;

use super::model::{self, User, USER};
use super::protocol::{check_name, check_path, iso, tags_xml, url_encode, IamError, IamResult, Params};
use crate::credentials::{issue_access_key, Caller, KeyOwner};
use crate::Kms;

/// Access keys per user (IAM quota).
const MAX_KEYS_PER_USER: usize = 2;

pub(crate) fn user_xml(account: &str, u: &User) -> Xml {
    let mut c = vec![
        Xml::leaf("Path", &u.path),
        Xml::leaf("UserName", &u.name),
        Xml::leaf("UserId", &u.id),
        Xml::leaf("Arn", model::user_arn(account, &u.path, &u.name)),
        Xml::leaf("CreateDate", iso(u.created_ms)),
    ];
    c.extend(tags_xml(&u.tags));
    Xml::el("User", c)
}

/// The user an operation addresses: `UserName`, or the calling user when omitted.
fn target_user(caller: &Caller, p: &Params) -> Result<Option<String>, IamError> {
    match p.get("UserName") {
        Some(n) => {
            check_name("userName", n, 64)?;
            Ok(Some(n.to_owned()))
        }
        None => Ok(caller.principal.user_name.clone()),
    }
}

impl Kms {
    pub(crate) async fn iam_authorize(&self, caller: &Caller, action: &str, resource: &str) -> Result<(), IamError> {
        self.authorize_identity(caller, action, resource)
            .await
            .map_err(IamError::from)
    }

    async fn user_and_arn(&self, caller: &Caller, name: &str) -> Result<(User, String), IamError> {
        let u: User = self.iam_load(&caller.account_id, USER, name).await?;
        let arn = model::user_arn(&caller.account_id, &u.path, &u.name);
        Ok((u, arn))
    }

    pub(crate) async fn create_user(&self, caller: &Caller, p: &Params) -> IamResult {
        let name = p.req("UserName")?;
        check_name("userName", name, 64)?;
        let path = p.get("Path").unwrap_or("/");
        check_path(path)?;
        self.iam_authorize(
            caller,
            "iam:CreateUser",
            &model::user_arn(&caller.account_id, path, name),
        )
        .await?;
        let user = User {
            v: 1,
            name: name.to_owned(),
            id: model::unique_id("AIDA")?,
            path: path.to_owned(),
            created_ms: self.now_ms(),
            tags: p.tags(),
            inline: Default::default(),
            attached: Vec::new(),
        };
        self.iam_save(&caller.account_id, USER, name, &user, true).await?;
        Ok(Some(vec![user_xml(&caller.account_id, &user)]))
    }

    pub(crate) async fn get_user(&self, caller: &Caller, p: &Params) -> IamResult {
        let Some(name) = target_user(caller, p)? else {
            // The root user: AWS returns the account's root identity.
            self.iam_authorize(caller, "iam:GetUser", &caller.principal_arn).await?;
            return Ok(Some(vec![Xml::el(
                "User",
                vec![
                    Xml::leaf("UserId", &caller.account_id),
                    Xml::leaf("Arn", &caller.principal_arn),
                    Xml::leaf("CreateDate", iso(0)),
                ],
            )]));
        };
        let (u, arn) = self.user_and_arn(caller, &name).await?;
        self.iam_authorize(caller, "iam:GetUser", &arn).await?;
        Ok(Some(vec![user_xml(&caller.account_id, &u)]))
    }

    pub(crate) async fn list_users(&self, caller: &Caller, p: &Params) -> IamResult {
        self.iam_authorize(caller, "iam:ListUsers", "*").await?;
        let prefix = p.get("PathPrefix").unwrap_or("/");
        let users: Vec<User> = self.iam_list(&caller.account_id, USER).await?;
        let items = users
            .iter()
            .filter(|u| u.path.starts_with(prefix))
            .map(|u| user_xml(&caller.account_id, u))
            .collect();
        Ok(Some(vec![
            Xml::members("Users", items),
            Xml::leaf("IsTruncated", "false"),
        ]))
    }

    pub(crate) async fn delete_user(&self, caller: &Caller, p: &Params) -> IamResult {
        let name = p.req("UserName")?;
        let (u, arn) = self.user_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:DeleteUser", &arn).await?;
        if !self.user_keys(caller, &u.name).await?.is_empty() {
            return Err(IamError::delete_conflict(
                "Cannot delete entity, must delete access keys first.",
            ));
        }
        if !u.inline.is_empty() {
            return Err(IamError::delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        if !u.attached.is_empty() {
            return Err(IamError::delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        self.iam_delete(&caller.account_id, USER, name).await?;
        Ok(None)
    }

    async fn user_keys(&self, caller: &Caller, user: &str) -> Result<Vec<trent_store::AccessKeyRecord>, IamError> {
        let (account, user) = (caller.account_id.clone(), user.to_owned());
        let all = self.db(move |s| s.access_keys()).await?;
        Ok(all
            .into_iter()
            .filter(|k| k.account_id == account && k.user_name.as_deref() == Some(user.as_str()))
            .collect())
    }

    async fn root_keys(&self, caller: &Caller) -> Result<Vec<trent_store::AccessKeyRecord>, IamError> {
        let account = caller.account_id.clone();
        let all = self.db(move |s| s.access_keys()).await?;
        Ok(all
            .into_iter()
            .filter(|k| k.account_id == account && k.user_name.is_none() && k.session.is_none())
            .collect())
    }

    pub(crate) async fn create_access_key(&self, caller: &Caller, p: &Params) -> IamResult {
        let user = target_user(caller, p)?;
        let (resource, existing) = match &user {
            Some(u) => (self.user_and_arn(caller, u).await?.1, self.user_keys(caller, u).await?),
            None => (caller.principal_arn.clone(), self.root_keys(caller).await?),
        };
        self.iam_authorize(caller, "iam:CreateAccessKey", &resource).await?;
        if existing.len() >= MAX_KEYS_PER_USER {
            return Err(IamError::limit(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
            )));
        }
        let owner = match &user {
            Some(u) => KeyOwner::User(u),
            None => KeyOwner::Root,
        };
        let now = self.now_ms();
        let issued = {
            let store = std::sync::Arc::clone(&self.store);
            issue_access_key(
                store.as_ref(),
                &self.root,
                Some(&self.credentials),
                &caller.account_id,
                owner,
                now,
            )?
        };
        let secret = String::from_utf8_lossy(issued.secret_access_key.expose()).into_owned();
        let mut c = Vec::new();
        if let Some(u) = &user {
            c.push(Xml::leaf("UserName", u));
        }
        c.extend([
            Xml::leaf("AccessKeyId", &issued.access_key_id),
            Xml::leaf("Status", "Active"),
            Xml::leaf("SecretAccessKey", secret),
            Xml::leaf("CreateDate", iso(now)),
        ]);
        Ok(Some(vec![Xml::el("AccessKey", c)]))
    }

    pub(crate) async fn list_access_keys(&self, caller: &Caller, p: &Params) -> IamResult {
        let user = target_user(caller, p)?;
        let (resource, keys) = match &user {
            Some(u) => (self.user_and_arn(caller, u).await?.1, self.user_keys(caller, u).await?),
            None => (caller.principal_arn.clone(), self.root_keys(caller).await?),
        };
        self.iam_authorize(caller, "iam:ListAccessKeys", &resource).await?;
        let items = keys
            .iter()
            .map(|k| {
                let mut c = Vec::new();
                if let Some(u) = &k.user_name {
                    c.push(Xml::leaf("UserName", u));
                }
                c.extend([
                    Xml::leaf("AccessKeyId", &k.access_key_id),
                    Xml::leaf("Status", &k.status),
                    Xml::leaf("CreateDate", iso(k.created_ms)),
                ]);
                Xml::el("AccessKeyMetadata", c)
            })
            .collect();
        let mut out = vec![
            Xml::members("AccessKeyMetadata", items),
            Xml::leaf("IsTruncated", "false"),
        ];
        if let Some(u) = user {
            out.push(Xml::leaf("UserName", u));
        }
        Ok(Some(out))
    }

    /// The access key `AccessKeyId` of the addressed user (or root), with its resource ARN.
    async fn owned_key(&self, caller: &Caller, p: &Params) -> Result<(trent_store::AccessKeyRecord, String), IamError> {
        let id = p.req("AccessKeyId")?;
        let user = target_user(caller, p)?;
        let (resource, keys) = match &user {
            Some(u) => (self.user_and_arn(caller, u).await?.1, self.user_keys(caller, u).await?),
            None => (caller.principal_arn.clone(), self.root_keys(caller).await?),
        };
        let key = keys
            .into_iter()
            .find(|k| k.access_key_id == id)
            .ok_or_else(|| IamError::no_such_entity(format!("The Access Key with id {id} cannot be found.")))?;
        Ok((key, resource))
    }

    pub(crate) async fn update_access_key(&self, caller: &Caller, p: &Params) -> IamResult {
        let status = p.req("Status")?;
        if !matches!(status, "Active" | "Inactive") {
            return Err(IamError::validation(format!(
                "1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
            )));
        }
        let (key, resource) = self.owned_key(caller, p).await?;
        self.iam_authorize(caller, "iam:UpdateAccessKey", &resource).await?;
        let (id, st) = (key.access_key_id.clone(), status.to_owned());
        self.db(move |s| s.set_access_key_status(&id, &st)).await?;
        if status == "Active" {
            let store = std::sync::Arc::clone(&self.store);
            let mut rec = key;
            rec.status = "Active".to_owned();
            self.credentials.insert_record(store.as_ref(), &self.root, &rec)?;
        } else {
            self.credentials.remove(&key.access_key_id);
        }
        Ok(None)
    }

    pub(crate) async fn delete_access_key(&self, caller: &Caller, p: &Params) -> IamResult {
        let (key, resource) = self.owned_key(caller, p).await?;
        self.iam_authorize(caller, "iam:DeleteAccessKey", &resource).await?;
        let id = key.access_key_id.clone();
        self.db(move |s| s.delete_access_key(&id)).await?;
        self.credentials.remove(&key.access_key_id);
        Ok(None)
    }

    pub(crate) async fn put_user_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let (name, pname, doc) = (p.req("UserName")?, p.req("PolicyName")?, p.req("PolicyDocument")?);
        check_name("policyName", pname, 128)?;
        let (mut u, arn) = self.user_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:PutUserPolicy", &arn).await?;
        trent_policy::parse_identity(doc).map_err(|e| IamError::malformed(e.0))?;
        u.inline.insert(pname.to_owned(), doc.to_owned());
        self.iam_save(&caller.account_id, USER, name, &u, false).await?;
        Ok(None)
    }

    pub(crate) async fn get_user_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let (name, pname) = (p.req("UserName")?, p.req("PolicyName")?);
        let (u, arn) = self.user_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:GetUserPolicy", &arn).await?;
        let doc = u
            .inline
            .get(pname)
            .ok_or_else(|| IamError::no_such_entity(format!("The user policy with name {pname} cannot be found.")))?;
        Ok(Some(vec![
            Xml::leaf("UserName", name),
            Xml::leaf("PolicyName", pname),
            Xml::leaf("PolicyDocument", url_encode(doc)),
        ]))
    }

    pub(crate) async fn list_user_policies(&self, caller: &Caller, p: &Params) -> IamResult {
        let name = p.req("UserName")?;
        let (u, arn) = self.user_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:ListUserPolicies", &arn).await?;
        let names = u.inline.keys().map(|k| Xml::Text(k.clone())).collect();
        Ok(Some(vec![
            Xml::members("PolicyNames", names),
            Xml::leaf("IsTruncated", "false"),
        ]))
    }

    pub(crate) async fn delete_user_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let (name, pname) = (p.req("UserName")?, p.req("PolicyName")?);
        let (mut u, arn) = self.user_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:DeleteUserPolicy", &arn).await?;
        if u.inline.remove(pname).is_none() {
            return Err(IamError::no_such_entity(format!(
                "The user policy with name {pname} cannot be found."
            )));
        }
        self.iam_save(&caller.account_id, USER, name, &u, false).await?;
        Ok(None)
    }

    pub(crate) async fn attach_user_policy(&self, caller: &Caller, p: &Params, attach: bool) -> IamResult {
        let (name, policy_arn) = (p.req("UserName")?, p.req("PolicyArn")?);
        let (mut u, arn) = self.user_and_arn(caller, name).await?;
        let action = if attach {
            "iam:AttachUserPolicy"
        } else {
            "iam:DetachUserPolicy"
        };
        self.iam_authorize(caller, action, &arn).await?;
        if attach {
            self.policy_by_arn(&caller.account_id, policy_arn).await?;
            if !u.attached.iter().any(|a| a == policy_arn) {
                u.attached.push(policy_arn.to_owned());
            }
        } else {
            let before = u.attached.len();
            u.attached.retain(|a| a != policy_arn);
            if before == u.attached.len() {
                return Err(IamError::no_such_entity(format!("Policy {policy_arn} was not found.")));
            }
        }
        self.iam_save(&caller.account_id, USER, name, &u, false).await?;
        Ok(None)
    }

    pub(crate) async fn list_attached_user_policies(&self, caller: &Caller, p: &Params) -> IamResult {
        let name = p.req("UserName")?;
        let (u, arn) = self.user_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:ListAttachedUserPolicies", &arn).await?;
        Ok(Some(attached_xml(&u.attached)))
    }
}

pub(crate) fn attached_xml(arns: &[String]) -> Vec<Xml> {
    let items = arns
        .iter()
        .map(|a| {
            Xml::el(
                "AttachedPolicy",
                vec![
                    Xml::leaf("PolicyName", a.rsplit('/').next().unwrap_or_default()),
                    Xml::leaf("PolicyArn", a),
                ],
            )
        })
        .collect();
    vec![
        Xml::members("AttachedPolicies", items),
        Xml::leaf("IsTruncated", "false"),
    ]
}
