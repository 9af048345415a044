//! S3 access points of stores (spec D.2, D.10, E17) and their access policies:
//! PutS3AccessPolicy, GetS3AccessPolicy, DeleteS3AccessPolicy (spec E30).

use crate::catalog::{AccessPolicy, StoreKind};
use crate::error::Result;
use crate::ids::{AccountId, StoreId};
use crate::s3_policy::{Policy, PolicyScope, default_policy};
use crate::{CoreError, Service, Settings, Timestamp};
use rand::Rng;
use seqstore_blob::{BlobPrefix, KeyError};
use seqstore_model::{GetS3AccessPolicyResponse, PutS3AccessPolicyResponse, StoreType};

/// The store behind an S3 access point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPoint {
    /// Sequence or reference store.
    pub kind: StoreKind,
    /// The owning account.
    pub account_id: AccountId,
    /// The store id.
    pub store_id: StoreId,
    /// `arn:<partition>:s3:<region>:<service account>:accesspoint/<owner>-<storeId>`.
    pub arn: String,
    /// The catalog's S3 revision when the request it serves resolved it: that request's
    /// lookups are the ones made at this revision.
    pub revision: u64,
}

impl AccessPoint {
    /// `<owner>/sequenceStore/<id>/` or `<owner>/referenceStore/<id>/`: every key starts so.
    pub fn key_prefix(&self) -> Result<BlobPrefix, KeyError> {
        match self.kind {
            StoreKind::Sequence => BlobPrefix::sequence_store(&self.account_id, &self.store_id),
            StoreKind::Reference => BlobPrefix::reference_store(&self.account_id, &self.store_id),
        }
    }

    /// The prefix of the per-item folders: `…/readSet/` or `…/reference/`.
    pub(crate) fn items_prefix(&self) -> Result<BlobPrefix, KeyError> {
        match self.kind {
            StoreKind::Sequence => BlobPrefix::read_sets(&self.account_id, &self.store_id),
            StoreKind::Reference => BlobPrefix::references(&self.account_id, &self.store_id),
        }
    }
}

impl Service {
    /// PutS3AccessPolicy: validates the policy against the store's access point and stores it.
    pub async fn put_s3_access_policy(
        &self,
        account_id: &AccountId,
        access_point_arn: &str,
        policy: &str,
    ) -> Result<PutS3AccessPolicyResponse> {
        let ap = self
            .owned_access_point(account_id, access_point_arn)
            .await?;
        Policy::parse(policy, &self.policy_scope(&ap)?)
            .map_err(|e| CoreError::invalid("s3AccessPolicy", format!("s3AccessPolicy: {e}")))?;
        let stored = AccessPolicy::Document {
            text: policy.to_owned(),
            updated_at: Timestamp::now(),
        };
        self.catalog
            .set_access_policy(ap.kind, &ap.account_id, &ap.store_id, &stored)
            .await?;
        self.s3_changed().await;
        Ok(PutS3AccessPolicyResponse {
            s3_access_point_arn: Some(ap.arn.clone()),
            store_id: Some(ap.store_id.to_string()),
            store_type: Some(store_type(ap.kind)),
        })
    }

    /// GetS3AccessPolicy: the stored policy, or the default one of a store nobody set a
    /// policy on; a deleted policy is not found.
    pub async fn get_s3_access_policy(
        &self,
        account_id: &AccountId,
        access_point_arn: &str,
    ) -> Result<GetS3AccessPolicyResponse> {
        let ap = self
            .owned_access_point(account_id, access_point_arn)
            .await?;
        let stored = self
            .catalog
            .access_policy(ap.kind, &ap.account_id, &ap.store_id)
            .await?
            .ok_or_else(|| unknown_access_point(access_point_arn))?;
        let (text, updated_at) = match stored {
            AccessPolicy::Document { text, updated_at } => (text, updated_at),
            AccessPolicy::Default => {
                let text = default_policy(&self.policy_scope(&ap)?);
                (text, self.store_creation(&ap).await?)
            }
            AccessPolicy::Removed { .. } => {
                return Err(CoreError::NotFound(format!(
                    "access point {access_point_arn} has no S3 access policy (it was deleted)"
                )));
            }
        };
        Ok(GetS3AccessPolicyResponse {
            s3_access_point_arn: Some(ap.arn.clone()),
            store_id: Some(ap.store_id.to_string()),
            store_type: Some(store_type(ap.kind)),
            update_time: Some(updated_at.into()),
            s3_access_policy: text,
        })
    }

    /// DeleteS3AccessPolicy: removes all S3 access to the store (idempotent).
    pub async fn delete_s3_access_policy(
        &self,
        account_id: &AccountId,
        access_point_arn: &str,
    ) -> Result<()> {
        let ap = self
            .owned_access_point(account_id, access_point_arn)
            .await?;
        let removed = AccessPolicy::Removed {
            updated_at: Timestamp::now(),
        };
        self.catalog
            .set_access_policy(ap.kind, &ap.account_id, &ap.store_id, &removed)
            .await?;
        self.s3_changed().await;
        Ok(())
    }

    /// The access point of one of the caller's stores, by ARN.
    async fn owned_access_point(&self, account_id: &AccountId, arn: &str) -> Result<AccessPoint> {
        let name = self
            .access_point_name_of_arn(arn)
            .ok_or_else(|| unknown_access_point(arn))?;
        let store_id = name
            .strip_prefix(account_id.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .ok_or_else(|| unknown_access_point(arn))?;
        self.store_of_access_point(account_id, &StoreId::from(store_id))
            .await?
            .ok_or_else(|| unknown_access_point(arn))
    }

    /// What the access point's policy may name: its ARN and its store's objects.
    pub(crate) fn policy_scope<'a>(&'a self, ap: &'a AccessPoint) -> Result<PolicyScope<'a>> {
        Ok(PolicyScope {
            access_point_arn: &ap.arn,
            store_prefix: ap.key_prefix()?.as_str().to_owned(),
            partition: &self.settings.partition,
            owner_account: &ap.account_id,
        })
    }

    async fn store_creation(&self, ap: &AccessPoint) -> Result<Timestamp> {
        let (a, id) = (&ap.account_id, &ap.store_id);
        Ok(match ap.kind {
            StoreKind::Sequence => self.sequence_store_record(a, id).await?.created_at,
            StoreKind::Reference => self.reference_store_record(a, id).await?.created_at,
        })
    }
}

fn store_type(kind: StoreKind) -> StoreType {
    match kind {
        StoreKind::Sequence => StoreType::SequenceStore,
        StoreKind::Reference => StoreType::ReferenceStore,
    }
}

fn unknown_access_point(arn: &str) -> CoreError {
    CoreError::NotFound(format!("access point {arn} not found"))
}

/// The access point name: `<owner account>-<store id>`.
pub(crate) fn access_point_name(account_id: &AccountId, store_id: &StoreId) -> String {
    format!("{account_id}-{store_id}")
}

/// `arn:<partition>:s3:<region>:<service account>:accesspoint/<owner>-<storeId>`.
pub(crate) fn access_point_arn(
    settings: &Settings,
    account_id: &AccountId,
    store_id: &StoreId,
) -> String {
    format!(
        "arn:{}:s3:{}:{}:accesspoint/{}",
        settings.partition,
        settings.region,
        settings.s3_access_point_account,
        access_point_name(account_id, store_id)
    )
}

/// A new access point alias as S3 makes them: the name cut to 20 characters, a dash,
/// random lowercase alphanumerics ending in a short region code, `-s3alias`; 63 in all.
pub(crate) fn new_alias(settings: &Settings, account_id: &AccountId, store_id: &StoreId) -> String {
    const TOTAL: usize = 63;
    const SUFFIX: &str = "-s3alias";
    let name: String = access_point_name(account_id, store_id)
        .chars()
        .take(20)
        .collect();
    let region = short_region(&settings.region);
    let random_len = TOTAL - name.len() - 1 - region.len() - SUFFIX.len();
    let mut rng = rand::rng();
    let random: String = (0..random_len)
        .map(|_| {
            let i = rng.random_range(0..36u8);
            (if i < 10 { b'0' + i } else { b'a' + i - 10 }) as char
        })
        .collect();
    format!("{name}-{random}{region}{SUFFIX}")
}

/// `us-east-1` → `use1`, `ap-southeast-2` → `aps2`.
fn short_region(region: &str) -> String {
    let parts: Vec<&str> = region.split('-').collect();
    let mut out = String::new();
    if let Some(first) = parts.first() {
        out.push_str(&first.chars().take(2).collect::<String>());
    }
    for p in parts.iter().skip(1) {
        match p.parse::<u32>() {
            Ok(n) => out.push_str(&n.to_string()),
            Err(_) => out.extend(p.chars().next()),
        }
    }
    out.retain(|c| c.is_ascii_alphanumeric());
    out.make_ascii_lowercase();
    out
}

/// `s3://<alias>/<owner>/sequenceStore/<storeId>/`.
pub(crate) fn store_uri(alias: &str, account_id: &AccountId, store_id: &StoreId) -> Result<String> {
    let prefix = BlobPrefix::sequence_store(account_id, store_id)?;
    Ok(format!("s3://{alias}/{prefix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            partition: "aws".into(),
            region: "us-east-1".into(),
            s3_access_point_account: "222222222222".into(),
            max_part_uploads_per_account: 1,
            bucket_grants: crate::BucketGrants {
                owner: "111122223333".into(),
                grants: vec![],
            },
            min_free_bytes: 0,
            early_ingests: 0,
        }
    }

    #[test]
    fn alias_has_the_s3_shape() {
        let alias = new_alias(&settings(), &"111122223333".into(), &"0123456789".into());
        assert_eq!(alias.len(), 63, "{alias}");
        assert!(alias.starts_with("111122223333-0123456-"), "{alias}");
        assert!(alias.ends_with("use1-s3alias"), "{alias}");
        assert!(
            alias
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
        assert_ne!(
            alias,
            new_alias(&settings(), &"111122223333".into(), &"0123456789".into())
        );
    }

    #[test]
    fn arn_and_uri() {
        assert_eq!(
            access_point_arn(&settings(), &"111122223333".into(), &"0123456789".into()),
            "arn:aws:s3:us-east-1:222222222222:accesspoint/111122223333-0123456789"
        );
        assert_eq!(
            store_uri("a-s3alias", &"111122223333".into(), &"1".into()).unwrap(),
            "s3://a-s3alias/111122223333/sequenceStore/1/"
        );
        assert_eq!(short_region("ap-southeast-2"), "aps2");
    }
}
