//! Reference stores (spec D.13): one per account; create, get, list, delete.

use crate::catalog::{CatalogError, IdempotencyRecord, ReferenceStoreFilter, ReferenceStoreRecord};
use crate::error::Result;
use crate::idempotency::Create;
use crate::ids::{AccountId, StoreId, new_id};
use crate::paging;
use crate::tags::validate_tags;
use crate::wire::{sibling, sse_config};
use crate::{ArnResource, CoreError, Service, Timestamp, s3_access};
use seqstore_model::{
    CreateReferenceStoreRequest, CreateReferenceStoreResponse, GetReferenceStoreResponse,
    ListReferenceStoresRequest, ListReferenceStoresResponse, ReferenceStoreDetail,
};

impl Service {
    /// CreateReferenceStore.
    pub async fn create_reference_store(
        &self,
        account_id: &AccountId,
        input: CreateReferenceStoreRequest,
    ) -> Result<CreateReferenceStoreResponse> {
        let tags = &input.tags.clone().unwrap_or_default();
        let now = Timestamp::now();
        let make = || async {
            validate_tags(tags, "tags")?;
            let id = new_id();
            let record = ReferenceStoreRecord {
                s3_access_point_alias: s3_access::new_alias(&self.settings, account_id, &id),
                id,
                account_id: account_id.to_owned(),
                name: input.name.clone(),
                description: input.description.clone(),
                sse_type: input.sse_config.as_ref().map(|c| c.r#type.into()),
                sse_key_arn: input.sse_config.as_ref().and_then(|c| c.key_arn.clone()),
                created_at: now,
            };
            let answer = sibling!(self.reference_store_view(&record)? => CreateReferenceStoreResponse {
                id, arn, name, description, sse_config, creation_time,
            });
            Ok((record, answer))
        };
        let create = Create {
            operation: "CreateReferenceStore",
            request: &input,
            client_token: input.client_token.as_deref(),
            what: "reference store",
        };
        let insert = |store, idem: Option<IdempotencyRecord>| async move {
            let catalog = &self.catalog;
            catalog
                .create_reference_store(&store, tags, idem.as_ref())
                .await
        };
        self.create(account_id, create, make, insert)
        .await
        .map_err(|e| match e {
            CoreError::Catalog(CatalogError::QuotaExceeded(_)) => CoreError::QuotaExceeded(
                "an account has at most one reference store per region; delete the existing one first".into(),
            ),
            e => e,
        })
    }

    /// GetReferenceStore.
    pub async fn get_reference_store(
        &self,
        account_id: &AccountId,
        id: &StoreId,
    ) -> Result<GetReferenceStoreResponse> {
        let record = self
            .catalog
            .reference_store(account_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        self.reference_store_view(&record)
    }

    /// ListReferenceStores.
    pub async fn list_reference_stores(
        &self,
        account_id: &AccountId,
        input: ListReferenceStoresRequest,
    ) -> Result<ListReferenceStoresResponse> {
        let f = input.filter.unwrap_or_default();
        let filter = ReferenceStoreFilter {
            name: f.name,
            created_after: f.created_after.map(Into::into),
            created_before: f.created_before.map(Into::into),
        };
        let (rows, next_token) = paging::page(
            "ListReferenceStores",
            input.next_token.as_deref(),
            input.max_results,
            |after, limit| async move {
                self.catalog
                    .list_reference_stores(account_id, &filter, after.as_ref(), limit)
                    .await
            },
        )
        .await?;
        let reference_stores = rows
            .iter()
            .map(|r| {
                Ok(
                    sibling!(self.reference_store_view(r)? => ReferenceStoreDetail {
                        arn, id, name, description, sse_config, creation_time,
                    }),
                )
            })
            .collect::<Result<_>>()?;
        Ok(ListReferenceStoresResponse {
            next_token,
            reference_stores,
        })
    }

    /// DeleteReferenceStore.
    pub async fn delete_reference_store(&self, account_id: &AccountId, id: &StoreId) -> Result<()> {
        let deleted = self.catalog.delete_reference_store(account_id, id).await;
        self.s3_changed().await;
        match deleted {
            Ok(()) => Ok(()),
            Err(CatalogError::NotFound(_)) => Err(not_found(id)),
            Err(CatalogError::NotEmpty(_)) => Err(CoreError::Conflict(format!(
                "reference store {id} still holds references; delete them first"
            ))),
            Err(CatalogError::InFlight(busy)) => Err(CoreError::busy("reference store", id, &busy)),
            Err(e) => Err(e.into()),
        }
    }

    fn reference_store_view(&self, r: &ReferenceStoreRecord) -> Result<GetReferenceStoreResponse> {
        let arn = self.arn(&r.account_id, ArnResource::ReferenceStore(r.id.clone()));
        Ok(GetReferenceStoreResponse {
            id: r.id.to_string(),
            arn,
            name: Some(r.name.clone()),
            description: r.description.clone(),
            sse_config: sse_config(r.sse_type, r.sse_key_arn.clone()),
            creation_time: r.created_at.into(),
        })
    }
}

fn not_found(id: &StoreId) -> CoreError {
    CoreError::NotFound(format!("reference store {id} not found"))
}
