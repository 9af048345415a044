//! Sequence stores (spec D.2): create, get, list, update, delete.

use crate::catalog::{CatalogError, IdempotencyRecord, SequenceStoreFilter, SequenceStoreRecord};
use crate::error::Result;
use crate::idempotency::{Create, OnMismatch, Replay};
use crate::ids::{AccountId, StoreId, new_id};
use crate::paging;
use crate::tags::validate_tags;
use crate::vocabulary::StoreStatus;
use crate::wire::{self, sibling, sse_config};
use crate::{ArnResource, CoreError, Service, Timestamp, s3_access};
use seqstore_formats::etag::EtagFamily;
use seqstore_model::{
    CreateSequenceStoreRequest, CreateSequenceStoreResponse, GetSequenceStoreResponse,
    ListSequenceStoresRequest, ListSequenceStoresResponse, SequenceStoreDetail,
    SequenceStoreS3Access, UpdateSequenceStoreRequest, UpdateSequenceStoreResponse,
};

/// Fixed quota: tag keys propagated to S3 objects per store (spec D.17).
const MAX_PROPAGATED_TAGS: usize = 5;

impl Service {
    /// CreateSequenceStore.
    pub async fn create_sequence_store(
        &self,
        account_id: &AccountId,
        input: CreateSequenceStoreRequest,
    ) -> Result<CreateSequenceStoreResponse> {
        let tags = &input.tags.clone().unwrap_or_default();
        let now = Timestamp::now();
        let make = || async {
            validate_tags(tags, "tags")?;
            if let Some(location) = non_empty(input.fallback_location.clone()) {
                self.check_bucket(account_id, "fallbackLocation", &location)?;
            }
            let propagated = propagated_tags(input.propagated_set_level_tags.clone())?;
            let id = new_id();
            let record = SequenceStoreRecord {
                s3_access_point_alias: s3_access::new_alias(&self.settings, account_id, &id),
                id,
                account_id: account_id.to_owned(),
                name: input.name.clone(),
                description: input.description.clone(),
                sse_type: input.sse_config.as_ref().map(|c| c.r#type.into()),
                sse_key_arn: input.sse_config.as_ref().and_then(|c| c.key_arn.clone()),
                fallback_location: non_empty(input.fallback_location.clone()),
                etag_algorithm_family: input
                    .e_tag_algorithm_family
                    .map_or(EtagFamily::Md5up, wire::family),
                status: StoreStatus::Active,
                status_message: None,
                propagated_set_level_tags: propagated.clone(),
                access_log_location: non_empty(
                    input
                        .s3_access_config
                        .as_ref()
                        .and_then(|c| c.access_log_location.clone()),
                ),
                created_at: now,
                updated_at: now,
            };
            let answer = sibling!(self.sequence_store_view(&record)? => CreateSequenceStoreResponse {
                id, arn, name, description, sse_config, creation_time, fallback_location,
                e_tag_algorithm_family, status, status_message, propagated_set_level_tags,
                s3_access,
            });
            Ok((record, answer))
        };
        let create = Create {
            operation: "CreateSequenceStore",
            request: &input,
            client_token: input.client_token.as_deref(),
            what: "sequence store",
        };
        let insert = |store, idem: Option<IdempotencyRecord>| async move {
            let catalog = &self.catalog;
            catalog
                .create_sequence_store(&store, tags, idem.as_ref())
                .await
        };
        self.create(account_id, create, make, insert).await
    }

    /// GetSequenceStore.
    pub async fn get_sequence_store(
        &self,
        account_id: &AccountId,
        id: &StoreId,
    ) -> Result<GetSequenceStoreResponse> {
        self.sequence_store_view(&self.sequence_store_record(account_id, id).await?)
    }

    /// ListSequenceStores.
    pub async fn list_sequence_stores(
        &self,
        account_id: &AccountId,
        input: ListSequenceStoresRequest,
    ) -> Result<ListSequenceStoresResponse> {
        let f = input.filter.unwrap_or_default();
        let filter = SequenceStoreFilter {
            name: f.name,
            status: f.status.map(Into::into),
            created_after: f.created_after.map(Into::into),
            created_before: f.created_before.map(Into::into),
            updated_after: f.updated_after.map(Into::into),
            updated_before: f.updated_before.map(Into::into),
        };
        let (rows, next_token) = paging::page(
            "ListSequenceStores",
            input.next_token.as_deref(),
            input.max_results,
            |after, limit| async move {
                self.catalog
                    .list_sequence_stores(account_id, &filter, after.as_ref(), limit)
                    .await
            },
        )
        .await?;
        let sequence_stores = rows
            .iter()
            .map(|r| {
                Ok(
                    sibling!(self.sequence_store_view(r)? => SequenceStoreDetail {
                        arn, id, name, description, sse_config, creation_time, fallback_location,
                        e_tag_algorithm_family, status, status_message, update_time,
                    }),
                )
            })
            .collect::<Result<_>>()?;
        Ok(ListSequenceStoresResponse {
            next_token,
            sequence_stores,
        })
    }

    /// UpdateSequenceStore (PATCH): only the given fields change; `""` clears a location.
    pub async fn update_sequence_store(
        &self,
        account_id: &AccountId,
        input: UpdateSequenceStoreRequest,
    ) -> Result<UpdateSequenceStoreResponse> {
        let op = "UpdateSequenceStore";
        let pending = match self
            .replay(
                account_id,
                op,
                input.client_token.as_deref(),
                &input,
                OnMismatch::Conflict,
            )
            .await?
        {
            Replay::Done(answer) => return Ok(answer),
            Replay::Proceed(pending) => pending,
        };
        let mut record = self
            .sequence_store_record(account_id, &StoreId::from(input.id.as_str()))
            .await?;
        if record.status == StoreStatus::Updating {
            return Err(CoreError::Conflict(format!(
                "sequence store {} is being updated; try again later",
                record.id
            )));
        }
        if let Some(name) = input.name.clone() {
            record.name = name;
        }
        if let Some(description) = input.description.clone() {
            record.description = Some(description);
        }
        if let Some(location) = input.fallback_location.clone() {
            record.fallback_location = non_empty(Some(location));
            if let Some(location) = &record.fallback_location {
                self.check_bucket(account_id, "fallbackLocation", location)?;
            }
        }
        if let Some(tags) = input.propagated_set_level_tags.clone() {
            // Re-tagging existing objects (status UPDATING) starts once read sets exist.
            record.propagated_set_level_tags = propagated_tags(Some(tags))?;
        }
        if let Some(config) = input.s3_access_config.clone() {
            record.access_log_location = non_empty(config.access_log_location);
        }
        record.updated_at =
            Timestamp::now().max(record.updated_at.plus(std::time::Duration::from_millis(1)));
        let answer = sibling!(self.sequence_store_view(&record)? => UpdateSequenceStoreResponse {
            id, arn, name, description, sse_config, creation_time, update_time,
            propagated_set_level_tags, status, status_message, fallback_location, s3_access,
            e_tag_algorithm_family,
        });
        let idem = pending.as_ref().map(|p| p.record(&answer)).transpose()?;
        match self
            .catalog
            .update_sequence_store(&record, idem.as_ref())
            .await
        {
            Ok(()) => Ok(answer),
            Err(CatalogError::NotFound(_)) => {
                Err(store_not_found(&StoreId::from(input.id.as_str())))
            }
            Err(CatalogError::TokenInUse) => Err(CoreError::Conflict(format!(
                "clientToken '{}' is being used by a concurrent UpdateSequenceStore request",
                input.client_token.unwrap_or_default()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// DeleteSequenceStore.
    pub async fn delete_sequence_store(&self, account_id: &AccountId, id: &StoreId) -> Result<()> {
        let deleted = self.catalog.delete_sequence_store(account_id, id).await;
        self.s3_changed().await;
        match deleted {
            Ok(()) => Ok(()),
            Err(CatalogError::NotFound(_)) => Err(store_not_found(id)),
            Err(CatalogError::NotEmpty(_)) => Err(CoreError::Conflict(format!(
                "sequence store {id} still holds read sets; delete them with BatchDeleteReadSet first"
            ))),
            Err(CatalogError::InFlight(busy)) => Err(CoreError::busy("sequence store", id, &busy)),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn sequence_store_record(
        &self,
        account_id: &AccountId,
        id: &StoreId,
    ) -> Result<SequenceStoreRecord> {
        self.catalog
            .sequence_store(account_id, id)
            .await?
            .ok_or_else(|| store_not_found(id))
    }

    /// The full wire view of a store; every sequence store answer is cut from it.
    fn sequence_store_view(&self, r: &SequenceStoreRecord) -> Result<GetSequenceStoreResponse> {
        let arn = self.arn(&r.account_id, ArnResource::SequenceStore(r.id.clone()));
        Ok(GetSequenceStoreResponse {
            id: r.id.to_string(),
            arn,
            name: Some(r.name.clone()),
            description: r.description.clone(),
            sse_config: sse_config(r.sse_type, r.sse_key_arn.clone()),
            creation_time: r.created_at.into(),
            fallback_location: r.fallback_location.clone(),
            s3_access: Some(SequenceStoreS3Access {
                s3_uri: Some(s3_access::store_uri(
                    &r.s3_access_point_alias,
                    &r.account_id,
                    &r.id,
                )?),
                s3_access_point_arn: Some(s3_access::access_point_arn(
                    &self.settings,
                    &r.account_id,
                    &r.id,
                )),
                access_log_location: r.access_log_location.clone(),
            }),
            e_tag_algorithm_family: Some(wire::wire_family(r.etag_algorithm_family)),
            status: Some(r.status.into()),
            status_message: r.status_message.clone(),
            propagated_set_level_tags: Some(r.propagated_set_level_tags.clone()),
            update_time: Some(r.updated_at.into()),
        })
    }
}

fn propagated_tags(keys: Option<Vec<String>>) -> Result<Vec<String>> {
    let mut keys = keys.unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    if keys.len() > MAX_PROPAGATED_TAGS {
        return Err(CoreError::invalid(
            "propagatedSetLevelTags",
            format!(
                "propagatedSetLevelTags has {} keys; a store propagates at most {MAX_PROPAGATED_TAGS}",
                keys.len()
            ),
        ));
    }
    Ok(keys)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn store_not_found(id: &StoreId) -> CoreError {
    CoreError::NotFound(format!("sequence store {id} not found"))
}
