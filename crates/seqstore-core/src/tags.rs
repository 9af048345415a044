//! Tags on storage resources (spec D.15): TagResource, UntagResource, ListTagsForResource.

use crate::catalog::{CatalogError, ResourceKind, TagTarget};
use crate::error::Result;
use crate::ids::AccountId;
use crate::{Arn, ArnResource, CoreError, Service};
use std::collections::BTreeMap;

/// Tags per resource (spec D.15).
pub(crate) const MAX_TAGS: usize = 50;

impl Service {
    /// TagResource: adds or replaces tags.
    pub async fn tag_resource(
        &self,
        account_id: &AccountId,
        arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<()> {
        validate_tags(tags, "tags")?;
        let target = self.tag_target(account_id, arn).await?;
        match self.catalog.put_tags(&target, tags, MAX_TAGS).await {
            Err(CatalogError::QuotaExceeded(_)) => Err(CoreError::QuotaExceeded(format!(
                "a resource has at most {MAX_TAGS} tags; {arn} would have more"
            ))),
            other => Ok(other?),
        }
    }

    /// UntagResource: removes keys; absent keys are ignored.
    pub async fn untag_resource(
        &self,
        account_id: &AccountId,
        arn: &str,
        keys: &[String],
    ) -> Result<()> {
        let target = self.tag_target(account_id, arn).await?;
        Ok(self.catalog.delete_tags(&target, keys).await?)
    }

    /// ListTagsForResource.
    pub async fn list_tags(
        &self,
        account_id: &AccountId,
        arn: &str,
    ) -> Result<BTreeMap<String, String>> {
        let target = self.tag_target(account_id, arn).await?;
        Ok(self.catalog.tags(&target).await?)
    }

    /// Resolves a tagged ARN to an existing resource of the caller's account.
    async fn tag_target(&self, account_id: &AccountId, text: &str) -> Result<TagTarget> {
        let arn = Arn::parse(text).map_err(|e| CoreError::invalid("resourceArn", e))?;
        let not_found = || CoreError::NotFound(format!("resource {text} not found"));
        if arn.partition != self.settings.partition
            || arn.region != self.settings.region
            || &arn.account_id != account_id
        {
            return Err(not_found());
        }
        let (kind, id, exists) = match &arn.resource {
            ArnResource::SequenceStore(id) => (
                ResourceKind::SequenceStore,
                id.as_str(),
                self.catalog.sequence_store(account_id, id).await?.is_some(),
            ),
            ArnResource::ReferenceStore(id) => (
                ResourceKind::ReferenceStore,
                id.as_str(),
                self.catalog
                    .reference_store(account_id, id)
                    .await?
                    .is_some(),
            ),
            ArnResource::Reference(store_id, id) => (
                ResourceKind::Reference,
                id.as_str(),
                self.catalog
                    .reference(account_id, store_id, id)
                    .await?
                    .is_some(),
            ),
            ArnResource::ReadSet(store_id, id) => (
                ResourceKind::ReadSet,
                id.as_str(),
                self.live_read_set(account_id, store_id, id).await.is_ok(),
            ),
            ArnResource::Other(_) => {
                return Err(not_found());
            }
        };
        if !exists {
            return Err(not_found());
        }
        Ok(TagTarget {
            account_id: account_id.clone(),
            kind,
            id: id.to_owned(),
        })
    }
}

/// Tag rules beyond the model (spec D.15): at most 50, keys not starting with `aws:`, and
/// only letters, digits, whitespace and `_ . : / = + - @` in keys and values.
pub(crate) fn validate_tags(tags: &BTreeMap<String, String>, field: &str) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(CoreError::invalid(
            field,
            format!(
                "{field} has {} entries; at most {MAX_TAGS} are allowed",
                tags.len()
            ),
        ));
    }
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    };
    for (key, value) in tags {
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(CoreError::invalid(
                field,
                format!("tag key '{key}' in {field}: the aws: prefix is reserved"),
            ));
        }
        if !allowed(key) {
            return Err(CoreError::invalid(
                field,
                format!(
                    "tag key '{key}' in {field} may contain only letters, digits, whitespace and _ . : / = + - @"
                ),
            ));
        }
        if !allowed(value) {
            return Err(CoreError::invalid(
                field,
                format!(
                    "tag value of '{key}' in {field} may contain only letters, digits, whitespace and _ . : / = + - @"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(k: &str, v: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(k.to_owned(), v.to_owned())])
    }

    #[test]
    fn tag_rules() {
        assert!(validate_tags(&one("project x_1.2:/=+-@", "v a/l"), "tags").is_ok());
        assert!(validate_tags(&one("AWS:thing", "v"), "tags").is_err());
        assert!(validate_tags(&one("bad#key", "v"), "tags").is_err());
        assert!(validate_tags(&one("k", "bad\u{1}"), "tags").is_err());
        let many: BTreeMap<String, String> =
            (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(validate_tags(&many, "tags").is_err());
    }
}
