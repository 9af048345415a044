//! Which of the users' buckets each account may read imports from or write fallback copies
//! to (`[[sources.grants]]`): the server's own S3 credentials reach every bucket they can,
//! so the domain decides which account may name which bucket.

use crate::catalog::JobRecord;
use crate::ids::AccountId;
use crate::jobs::kind::ItemError;
use crate::{CoreError, Service};
use seqstore_blob::bucket_of;

/// One `[[sources.grants]]` entry: `account` may use `buckets` and the local `roots`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketGrant {
    /// The account, or `None` for every account (`*`).
    pub account: Option<AccountId>,
    /// Bucket names; `*` is any bucket.
    pub buckets: Vec<String>,
    /// Directories of `[sources.local] roots`; `*` is any of them.
    pub roots: Vec<std::path::PathBuf>,
}

/// The grants in force and the account that may use every bucket when there are none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketGrants {
    /// The server's own account.
    pub owner: AccountId,
    /// The configured grants; empty means the owner uses any bucket and others none.
    pub grants: Vec<BucketGrant>,
}

impl BucketGrants {
    /// Whether `account` may use `bucket`.
    pub fn allows(&self, account: &AccountId, bucket: &str) -> bool {
        if self.grants.is_empty() {
            return *account == self.owner;
        }
        self.grants
            .iter()
            .filter(|g| g.account.as_ref().is_none_or(|a| a == account))
            .any(|g| g.buckets.iter().any(|b| b == "*" || b == bucket))
    }

    /// Whether `account` may read local sources under `root` (one of the configured roots).
    pub fn allows_root(&self, account: &AccountId, root: &std::path::Path) -> bool {
        if self.grants.is_empty() {
            return *account == self.owner;
        }
        self.grants
            .iter()
            .filter(|g| g.account.as_ref().is_none_or(|a| a == account))
            .any(|g| g.roots.iter().any(|r| r.as_os_str() == "*" || r == root))
    }
}

impl Service {
    /// Refuses an S3 URI (`s3://bucket/...`) whose bucket `account` may not use; `field`
    /// names the request member that holds it.
    pub(crate) fn check_bucket(
        &self,
        account: &AccountId,
        field: &str,
        uri: &str,
    ) -> Result<(), CoreError> {
        if let Some(path) = seqstore_blob::file_path(uri) {
            return self.check_local(account, field, uri, path);
        }
        let bucket = bucket_of(uri).ok_or_else(|| {
            CoreError::invalid(field, format!("{field}: {uri:?} is not an s3:// URI"))
        })?;
        if self.settings.bucket_grants.allows(account, bucket) {
            Ok(())
        } else {
            Err(CoreError::AccessDenied(format!(
                "account {account} may not use bucket {bucket} ({field}): no grant names it"
            )))
        }
    }

    /// Refuses a `file:///path` that is malformed, lies under no `[sources.local]` root, or
    /// lies under one that no grant gives `account`.
    fn check_local(
        &self,
        account: &AccountId,
        field: &str,
        uri: &str,
        path: &str,
    ) -> Result<(), CoreError> {
        let dotted = path.split('/').any(|part| part == "." || part == "..");
        if dotted || path.contains('\0') {
            return Err(CoreError::invalid(
                field,
                format!(
                    "{field}: {uri:?}: a local source is an absolute path without . or .. parts"
                ),
            ));
        }
        let Some((root, _)) = self.sources.local_roots().locate(uri) else {
            return Err(CoreError::AccessDenied(format!(
                "account {account} may not use {path} ({field}): it is not under any directory \
                 of [sources.local] roots"
            )));
        };
        if self.settings.bucket_grants.allows_root(account, root) {
            Ok(())
        } else {
            Err(CoreError::AccessDenied(format!(
                "account {account} may not use {path} ({field}): no grant names {}",
                root.display()
            )))
        }
    }

    /// The same check as a job runs it: the grants may have changed since the job was
    /// submitted, and the item fails rather than read a bucket no longer granted.
    pub(crate) fn check_item_bucket(&self, job: &JobRecord, uri: &str) -> Result<(), ItemError> {
        self.check_bucket(&job.account_id, "source", uri)
            .map_err(|e| ItemError::Failed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(grants: Vec<BucketGrant>) -> BucketGrants {
        BucketGrants {
            owner: "111111111111".into(),
            grants,
        }
    }

    #[test]
    fn without_grants_only_the_owner_uses_buckets() {
        let g = grants(vec![]);
        assert!(g.allows(&"111111111111".into(), "any"));
        assert!(!g.allows(&"222222222222".into(), "any"));
    }

    #[test]
    fn grants_name_accounts_and_buckets() {
        let g = grants(vec![
            BucketGrant {
                account: Some("222222222222".into()),
                buckets: vec!["lab".into()],
                roots: vec!["/data/lab".into()],
            },
            BucketGrant {
                account: None,
                buckets: vec!["shared".into()],
                roots: vec![],
            },
            BucketGrant {
                account: Some("333333333333".into()),
                buckets: vec!["*".into()],
                roots: vec!["*".into()],
            },
        ]);
        assert!(g.allows(&"222222222222".into(), "lab"));
        assert!(g.allows(&"222222222222".into(), "shared"));
        assert!(!g.allows(&"222222222222".into(), "labs"));
        assert!(g.allows(&"333333333333".into(), "anything"));
        // Once grants exist they bind the owner too.
        assert!(!g.allows(&"111111111111".into(), "lab"));
        assert!(g.allows(&"111111111111".into(), "shared"));
        let root = std::path::Path::new("/data/lab");
        assert!(g.allows_root(&"222222222222".into(), root));
        assert!(!g.allows_root(&"222222222222".into(), std::path::Path::new("/data/other")));
        assert!(g.allows_root(&"333333333333".into(), std::path::Path::new("/data/other")));
        assert!(!g.allows_root(&"111111111111".into(), root));
        assert!(grants(vec![]).allows_root(&"111111111111".into(), root));
    }
}
