//! What the S3 endpoint reads (spec D.10, E16, E17): access points resolved to stores, the
//! stored files of their read sets and references as objects, object tags and the access
//! point policy decision. Keys are the blob keys, so an object *is* the stored file.

use crate::catalog::{AccessPolicy, ReadSetRecord, ReferenceRecord, StoreKind, TagTarget};
use crate::error::Result;
use crate::ids::{AccountId, ReadSetId, ReferenceId, StoreId};
use crate::references::index_name;
use crate::s3_access::{AccessPoint, access_point_arn};
use crate::s3_lookups::StoreKey;
use crate::s3_policy::{AccessRequest, Policy, default_policy};
use crate::vocabulary::{ReadSetStatus, ReferenceStatus};
use crate::{CoreError, Service, Timestamp};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use seqstore_blob::{BlobError, BlobKey, BlobPrefix, KeyError};
use std::collections::BTreeMap;
use std::ops::Range;

/// Read sets (or references) fetched per catalog query while listing.
const LIST_BATCH: u32 = 100;

/// One stored file seen as an S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    /// The object key (= blob key).
    pub key: String,
    /// Size, bytes.
    pub size: u64,
    /// MD5 (hex) of the bytes, recorded when the file was written.
    pub etag: String,
    /// When the read set or reference was created.
    pub last_modified: Timestamp,
    /// The read set is archived (or being activated): described, not readable.
    pub archived: bool,
}

impl S3Object {
    /// When the read set or reference was created.
    pub fn last_modified(&self) -> chrono::DateTime<chrono::Utc> {
        self.last_modified.into()
    }
}

impl std::fmt::Display for S3Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.iam_name())
    }
}

/// Who signed an S3 request, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Caller {
    /// The signing key's account.
    pub account_id: AccountId,
    /// `arn:<partition>:iam::<account>:root` or `…:user/<name>`.
    pub principal_arn: String,
    /// `AWS4-HMAC-SHA256` (SigV4) or `AWS` (SigV2), as `s3:signatureversion` names them.
    pub signature_version: &'static str,
}

/// The S3 actions of this endpoint, by IAM name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Action {
    /// `s3:GetObject`.
    GetObject,
    /// `s3:GetObjectTagging`.
    GetObjectTagging,
    /// `s3:ListBucket`.
    ListBucket,
}

impl S3Action {
    /// The IAM action name, e.g. `s3:GetObject`.
    pub fn iam_name(self) -> &'static str {
        match self {
            S3Action::GetObject => "s3:GetObject",
            S3Action::GetObjectTagging => "s3:GetObjectTagging",
            S3Action::ListBucket => "s3:ListBucket",
        }
    }
}

/// A stored file found by key.
enum Found {
    ReadSet(Box<ReadSetRecord>, FileSlot),
    Reference(Box<ReferenceRecord>, FileSlot),
}

#[derive(Debug, Clone, Copy)]
enum FileSlot {
    Source1,
    Source2,
    Index,
}

impl FileSlot {
    const ALL: [FileSlot; 3] = [FileSlot::Source1, FileSlot::Source2, FileSlot::Index];
}

impl Service {
    /// Resolves what a client put in the bucket position: an access point alias, an access
    /// point ARN, or `<access point name>-<service account>` (virtual-hosted ARN requests).
    /// The access point carries the catalog's S3 revision, which the request's other lookups
    /// use.
    pub async fn s3_access_point(&self, bucket: &str) -> Result<Option<AccessPoint>> {
        let revision = self.catalog.s3_revision().await?;
        if let Some(ap) = self.s3_lookups.access_points.get(bucket, revision) {
            return Ok(Some(ap));
        }
        let found = self
            .find_access_point(bucket)
            .await?
            .map(|ap| AccessPoint { revision, ..ap });
        if let Some(ap) = &found {
            let lookups = &self.s3_lookups.access_points;
            lookups.put(bucket.to_owned(), ap.clone(), revision);
        }
        Ok(found)
    }

    async fn find_access_point(&self, bucket: &str) -> Result<Option<AccessPoint>> {
        if bucket.ends_with("-s3alias") {
            return Ok(match self.catalog.store_by_alias(bucket).await? {
                Some(store) => Some(self.access_point(store.kind, store.account_id, store.id)),
                None => None,
            });
        }
        let name = match self.access_point_name_of_arn(bucket) {
            Some(name) => name,
            None => match bucket
                .strip_suffix(self.settings.s3_access_point_account.as_str())
                .and_then(|rest| rest.strip_suffix('-'))
            {
                Some(name) => name.to_owned(),
                None => return Ok(None),
            },
        };
        let Some((owner, store_id)) = name.split_once('-') else {
            return Ok(None);
        };
        self.store_of_access_point(&AccountId::from(owner), &StoreId::from(store_id))
            .await
    }

    /// The access point name of an ARN of this deployment's access points.
    pub(crate) fn access_point_name_of_arn(&self, arn: &str) -> Option<String> {
        let prefix = format!(
            "arn:{}:s3:{}:{}:accesspoint/",
            self.settings.partition, self.settings.region, self.settings.s3_access_point_account
        );
        arn.strip_prefix(&prefix)
            .filter(|name| !name.contains('/'))
            .map(str::to_owned)
    }

    /// The store whose access point is `<owner>-<storeId>`, sequence stores first.
    pub(crate) async fn store_of_access_point(
        &self,
        owner: &AccountId,
        store_id: &StoreId,
    ) -> Result<Option<AccessPoint>> {
        if self
            .catalog
            .sequence_store(owner, store_id)
            .await?
            .is_some()
        {
            return Ok(Some(self.access_point(
                StoreKind::Sequence,
                owner.clone(),
                store_id.clone(),
            )));
        }
        if self
            .catalog
            .reference_store(owner, store_id)
            .await?
            .is_some()
        {
            return Ok(Some(self.access_point(
                StoreKind::Reference,
                owner.clone(),
                store_id.clone(),
            )));
        }
        Ok(None)
    }

    fn access_point(
        &self,
        kind: StoreKind,
        account_id: AccountId,
        store_id: StoreId,
    ) -> AccessPoint {
        AccessPoint {
            arn: access_point_arn(&self.settings, &account_id, &store_id),
            kind,
            account_id,
            store_id,
            revision: 0,
        }
    }

    /// The object under `key`, if a readable stored file has that key.
    pub async fn s3_object(&self, ap: &AccessPoint, key: &str) -> Result<Option<S3Object>> {
        let revision = ap.revision;
        let cache_key = (store_key(ap), key.to_owned());
        if let Some(object) = self.s3_lookups.objects.get(&cache_key, revision) {
            return Ok(Some(object));
        }
        let found = self
            .find(ap, key)
            .await?
            .map(|f| checked_object(&f))
            .transpose()?;
        if let Some(object) = &found {
            self.s3_lookups
                .objects
                .put(cache_key, object.clone(), revision);
        }
        Ok(found)
    }

    /// The policy stored for the access point's store (`None`: it has none).
    async fn stored_policy(&self, ap: &AccessPoint) -> Result<Option<AccessPolicy>> {
        let revision = ap.revision;
        let cache_key = store_key(ap);
        if let Some(policy) = self.s3_lookups.policies.get(&cache_key, revision) {
            return Ok(policy);
        }
        let stored = self
            .catalog
            .access_policy(ap.kind, &ap.account_id, &ap.store_id)
            .await?;
        self.s3_lookups
            .policies
            .put(cache_key, stored.clone(), revision);
        Ok(stored)
    }

    /// A write changed what S3 reads: every node looks everything up again.
    pub(crate) async fn s3_changed(&self) {
        if let Err(e) = self.catalog.s3_changed().await {
            tracing::warn!(error = %e, "cannot count a change for S3 reads: nodes may serve the old state for a second");
        }
    }

    /// The bytes `range` of an object that [`Service::s3_object`] just described, streamed
    /// from the blob store without another catalog lookup; `None` when the file went away
    /// in between (its read set was deleted).
    pub async fn s3_read(
        &self,
        ap: &AccessPoint,
        key: &str,
        range: Range<u64>,
    ) -> Result<Option<BoxStream<'static, std::io::Result<Bytes>>>> {
        let key = match BlobKey::recorded(key) {
            Ok(key) if key.as_str().starts_with(ap.items_prefix()?.as_str()) => key,
            _ => return Ok(None),
        };
        if range.is_empty() {
            return Ok(Some(futures::stream::empty().boxed()));
        }
        if let Some(id) = read_set_of(&key) {
            self.note_access(&id).await;
        }
        match self.blobs.read_range(&key, range).await {
            Ok(stream) => Ok(Some(
                stream
                    .map(|chunk| chunk.map_err(std::io::Error::other))
                    .boxed(),
            )),
            Err(BlobError::NotFound(_)) => Ok(None),
            Err(e) => Err(CoreError::storage(format!("reading {key}"))(e)),
        }
    }

    /// Up to `max` objects with keys starting with `prefix` and sorting after
    /// `start_after`, in key (byte) order.
    pub async fn s3_list(
        &self,
        ap: &AccessPoint,
        prefix: &str,
        start_after: Option<&str>,
        max: usize,
    ) -> Result<Vec<S3Object>> {
        let items = ap.items_prefix()?;
        let Some(mut from_id) = first_item(items.as_str(), prefix, start_after) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        loop {
            let batch = self.item_objects(ap, &from_id).await?;
            let Some(last) = batch.last_id.clone() else {
                return Ok(out);
            };
            for object in batch.objects {
                if object.key.as_str() > prefix && !object.key.starts_with(prefix) {
                    return Ok(out); // past every key under the prefix
                }
                if object.key.starts_with(prefix)
                    && start_after.is_none_or(|after| object.key.as_str() > after)
                {
                    out.push(object);
                    if out.len() == max {
                        return Ok(out);
                    }
                }
            }
            if !batch.more {
                return Ok(out);
            }
            // Ids are decimal digits: the smallest id after `last` is `last` + "0".
            from_id = format!("{last}0");
        }
    }

    /// The objects of one batch of read sets or references from `from_id` on.
    async fn item_objects(&self, ap: &AccessPoint, from_id: &str) -> Result<ItemBatch> {
        let (a, s) = (&ap.account_id, &ap.store_id);
        let mut objects = Vec::new();
        let (last_id, count) = match ap.kind {
            StoreKind::Sequence => {
                let sets = self
                    .catalog
                    .readable_read_sets(a, s, from_id, LIST_BATCH)
                    .await?;
                for r in &sets {
                    let mut files = FileSlot::ALL
                        .into_iter()
                        .filter_map(|slot| read_set_file(r, slot).map(|_| read_set_object(r, slot)))
                        .collect::<Result<Vec<S3Object>, _>>()?;
                    files.sort_by(|x, y| x.key.cmp(&y.key));
                    objects.extend(files);
                }
                (sets.last().map(|r| r.id.to_string()), sets.len())
            }
            StoreKind::Reference => {
                let refs = self
                    .catalog
                    .readable_references(a, s, from_id, LIST_BATCH)
                    .await?;
                for r in &refs {
                    // `<name>` sorts before `<name>.fai`.
                    objects.push(reference_object(r, FileSlot::Source1)?);
                    objects.push(reference_object(r, FileSlot::Index)?);
                }
                (refs.last().map(|r| r.id.to_string()), refs.len())
            }
        };
        Ok(ItemBatch {
            objects,
            last_id,
            more: count == LIST_BATCH as usize,
        })
    }

    /// The S3 tags of an object: for read set files `omics:subjectId`, `omics:sampleId`,
    /// `omics:readSetStatus` and the read set's tags named in the store's
    /// `propagatedSetLevelTags`; reference files have none.
    pub async fn s3_object_tags(
        &self,
        ap: &AccessPoint,
        key: &str,
    ) -> Result<Option<BTreeMap<String, String>>> {
        match self.find(ap, key).await? {
            None => Ok(None),
            Some(Found::Reference(..)) => Ok(Some(BTreeMap::new())),
            Some(Found::ReadSet(r, _)) => {
                let store = self
                    .sequence_store_record(&r.account_id, &r.sequence_store_id)
                    .await?;
                let mut tags = BTreeMap::from([
                    ("omics:subjectId".to_owned(), r.subject_id.clone()),
                    ("omics:sampleId".to_owned(), r.sample_id.clone()),
                    ("omics:readSetStatus".to_owned(), r.status.to_string()),
                ]);
                if !store.propagated_set_level_tags.is_empty() {
                    let target = TagTarget {
                        account_id: r.account_id.clone(),
                        kind: crate::catalog::ResourceKind::ReadSet,
                        id: r.id.to_string(),
                    };
                    let own = self.catalog.tags(&target).await?;
                    for key in &store.propagated_set_level_tags {
                        if let Some(value) = own.get(key) {
                            tags.insert(key.clone(), value.clone());
                        }
                    }
                }
                Ok(Some(tags))
            }
        }
    }

    /// The access point policy's decision for `caller` doing `action` on the object `key`
    /// (object actions) or listing with `prefix` (ListBucket; `None` = no prefix).
    pub async fn s3_authorize(
        &self,
        ap: &AccessPoint,
        caller: &S3Caller,
        action: S3Action,
        key_or_prefix: Option<&str>,
    ) -> Result<bool> {
        let scope = self.policy_scope(ap)?;
        let text = match self.stored_policy(ap).await? {
            None | Some(AccessPolicy::Removed { .. }) => return Ok(false),
            Some(AccessPolicy::Default) => default_policy(&scope),
            Some(AccessPolicy::Document { text, .. }) => text,
        };
        let policy = match Policy::parse(&text, &scope) {
            Ok(policy) => policy,
            Err(e) => {
                tracing::warn!(access_point = %ap.arn, error = %e, "stored S3 access policy no longer parses: denying");
                return Ok(false);
            }
        };
        let (resource, prefix, tags) = match action {
            S3Action::ListBucket => (ap.arn.clone(), key_or_prefix, None),
            S3Action::GetObject | S3Action::GetObjectTagging => {
                let key = key_or_prefix.unwrap_or_default();
                let tags = if policy.uses_object_tags() {
                    self.s3_object_tags(ap, key).await?
                } else {
                    None
                };
                (format!("{}/object/{key}", ap.arn), None, tags)
            }
        };
        Ok(policy.allows(&AccessRequest {
            principal_account: &caller.account_id,
            principal_arn: &caller.principal_arn,
            action: action.iam_name(),
            resource: &resource,
            prefix,
            object_tags: tags.as_ref(),
            signature_version: caller.signature_version,
            tls_version: None,
        }))
    }

    /// The readable stored file under `key` in the access point's store.
    async fn find(&self, ap: &AccessPoint, key: &str) -> Result<Option<Found>> {
        let Some((id, file)) = key
            .strip_prefix(ap.items_prefix()?.as_str())
            .and_then(|rest| rest.split_once('/'))
        else {
            return Ok(None);
        };
        if file.contains('/') || id.is_empty() {
            return Ok(None);
        }
        let (a, s) = (&ap.account_id, &ap.store_id);
        match ap.kind {
            StoreKind::Sequence => {
                let Some(r) = self.catalog.read_set(a, s, &ReadSetId::from(id)).await? else {
                    return Ok(None);
                };
                if !r.status.is_listed() {
                    return Ok(None);
                }
                let slot = FileSlot::ALL
                    .into_iter()
                    .find(|slot| read_set_file(&r, *slot).is_some_and(|(name, _, _)| name == file));
                Ok(slot.map(|slot| Found::ReadSet(Box::new(r), slot)))
            }
            StoreKind::Reference => {
                let Some(r) = self.catalog.reference(a, s, &ReferenceId::from(id)).await? else {
                    return Ok(None);
                };
                if r.status != ReferenceStatus::Active {
                    return Ok(None);
                }
                let slot = if file == r.source_file_name {
                    FileSlot::Source1
                } else if file == index_name(&r) {
                    FileSlot::Index
                } else {
                    return Ok(None);
                };
                Ok(Some(Found::Reference(Box::new(r), slot)))
            }
        }
    }
}

struct ItemBatch {
    objects: Vec<S3Object>,
    last_id: Option<String>,
    more: bool,
}

/// The read set whose file `key` is, if it is one
/// (`<account>/sequenceStore/<store>/readSet/<id>/<file>`).
fn read_set_of(key: &BlobKey) -> Option<ReadSetId> {
    match key.as_str().split('/').collect::<Vec<_>>().as_slice() {
        [_, "sequenceStore", _, "readSet", id, _] => Some(ReadSetId::from(*id)),
        _ => None,
    }
}

/// Name, size and S3 ETag of one file of a read set.
fn read_set_file(r: &ReadSetRecord, slot: FileSlot) -> Option<(&str, i64, Option<&str>)> {
    let (name, size, etag) = match slot {
        FileSlot::Source1 => (&r.source1_name, r.source1_size, &r.s3_etags.source1),
        FileSlot::Source2 => (&r.source2_name, r.source2_size, &r.s3_etags.source2),
        FileSlot::Index => (&r.index_name, r.index_size, &r.s3_etags.index),
    };
    Some((name.as_deref()?, size?, etag.as_deref()))
}

/// The object of a found file, refused while the startup backfill has not yet recorded
/// the ETag of a file stored before ETags were.
fn store_key(ap: &AccessPoint) -> StoreKey {
    (ap.kind, ap.account_id.clone(), ap.store_id.clone())
}

fn checked_object(found: &Found) -> Result<S3Object> {
    let object = object_of(found)?;
    if object.etag.is_empty() {
        return Err(CoreError::Unavailable(format!(
            "{} is being indexed for S3 access; retry shortly",
            object.key
        )));
    }
    Ok(object)
}

fn object_of(found: &Found) -> Result<S3Object, KeyError> {
    match found {
        Found::ReadSet(r, slot) => read_set_object(r, *slot),
        Found::Reference(r, slot) => reference_object(r, *slot),
    }
}

fn read_set_object(r: &ReadSetRecord, slot: FileSlot) -> Result<S3Object, KeyError> {
    let (name, size, etag) = read_set_file(r, slot).unwrap_or(("", 0, None));
    let key = BlobPrefix::read_set(&r.account_id, &r.sequence_store_id, &r.id)?.file(name)?;
    Ok(S3Object {
        key: key.as_str().to_owned(),
        size: size as u64,
        etag: etag.unwrap_or_default().to_owned(),
        last_modified: r.created_at,
        archived: r.status != ReadSetStatus::Active,
    })
}

fn reference_object(r: &ReferenceRecord, slot: FileSlot) -> Result<S3Object, KeyError> {
    let (name, size, etag) = match slot {
        FileSlot::Index => (index_name(r), r.index_size, &r.index_s3_etag),
        _ => (r.source_file_name.clone(), r.source_size, &r.source_s3_etag),
    };
    let key = BlobPrefix::reference(&r.account_id, &r.reference_store_id, &r.id)?.file(&name)?;
    Ok(S3Object {
        key: key.as_str().to_owned(),
        size: size as u64,
        etag: etag.clone().unwrap_or_default(),
        last_modified: r.created_at,
        archived: false,
    })
}

/// The smallest item id a listing of `prefix` after `start_after` can reach, or `None`
/// when no key under `items` (`…/readSet/`) can match.
fn first_item(items: &str, prefix: &str, start_after: Option<&str>) -> Option<String> {
    if !(items.starts_with(prefix) || prefix.starts_with(items)) {
        return None;
    }
    let mut from = id_part(items, prefix);
    if let Some(after) = start_after {
        if after.starts_with(items) {
            from = from.max(id_part(items, after));
        } else if after > items {
            return None; // every key sorts before `start_after`
        }
    }
    Some(from)
}

/// The leading id of what follows `items` in `text` (empty when `text` is shorter).
fn id_part(items: &str, text: &str) -> String {
    text.strip_prefix(items)
        .map(|rest| rest.split('/').next().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_starts_at_the_first_id_the_prefix_or_marker_allows() {
        let items = "1/sequenceStore/5/readSet/";
        assert_eq!(first_item(items, "", None).as_deref(), Some(""));
        assert_eq!(first_item(items, "1/seq", None).as_deref(), Some(""));
        assert_eq!(first_item(items, "2/", None), None);
        assert_eq!(
            first_item(items, "1/sequenceStore/5/readSet/12", None).as_deref(),
            Some("12")
        );
        assert_eq!(
            first_item(items, "1/sequenceStore/5/readSet/12/x.bam", None).as_deref(),
            Some("12")
        );
        assert_eq!(
            first_item(items, "", Some("1/sequenceStore/5/readSet/30/x.bam")).as_deref(),
            Some("30")
        );
        assert_eq!(first_item(items, "", Some("0")).as_deref(), Some(""));
        assert_eq!(first_item(items, "", Some("9")), None);
    }
}
