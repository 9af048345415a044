//! Thin handlers: the generated trait's implemented operations call the domain.

use crate::generated::service::OmicsStorage;
use crate::wire::{ApiError, BlobResponse, BodyStream, RequestContext};
use futures::{StreamExt, TryStreamExt};
use seqstore_core::{BlobRead, CoreError, Service};
use seqstore_model as model;
use std::sync::Arc;

/// The implemented operations; the rest keep the generated "not implemented" answer.
#[derive(Debug, Clone)]
pub(crate) struct Handlers {
    service: Arc<Service>,
}

impl Handlers {
    pub(crate) fn new(service: Arc<Service>) -> Self {
        Self { service }
    }
}

fn wire(ctx: &RequestContext) -> impl Fn(CoreError) -> ApiError + '_ {
    |e| ApiError::from_core(&ctx.request_id, e)
}

#[async_trait::async_trait]
impl OmicsStorage for Handlers {
    async fn create_sequence_store(
        &self,
        ctx: &RequestContext,
        input: model::CreateSequenceStoreRequest,
    ) -> Result<model::CreateSequenceStoreResponse, ApiError> {
        self.service
            .create_sequence_store(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_sequence_store(
        &self,
        ctx: &RequestContext,
        input: model::GetSequenceStoreRequest,
    ) -> Result<model::GetSequenceStoreResponse, ApiError> {
        self.service
            .get_sequence_store(&ctx.account_id, &input.id.into())
            .await
            .map_err(wire(ctx))
    }

    async fn list_sequence_stores(
        &self,
        ctx: &RequestContext,
        input: model::ListSequenceStoresRequest,
    ) -> Result<model::ListSequenceStoresResponse, ApiError> {
        self.service
            .list_sequence_stores(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn update_sequence_store(
        &self,
        ctx: &RequestContext,
        input: model::UpdateSequenceStoreRequest,
    ) -> Result<model::UpdateSequenceStoreResponse, ApiError> {
        self.service
            .update_sequence_store(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn delete_sequence_store(
        &self,
        ctx: &RequestContext,
        input: model::DeleteSequenceStoreRequest,
    ) -> Result<model::DeleteSequenceStoreResponse, ApiError> {
        self.service
            .delete_sequence_store(&ctx.account_id, &input.id.into())
            .await
            .map_err(wire(ctx))?;
        Ok(model::DeleteSequenceStoreResponse {})
    }

    async fn put_s3_access_policy(
        &self,
        ctx: &RequestContext,
        input: model::PutS3AccessPolicyRequest,
    ) -> Result<model::PutS3AccessPolicyResponse, ApiError> {
        self.service
            .put_s3_access_policy(
                &ctx.account_id,
                &input.s3_access_point_arn,
                &input.s3_access_policy,
            )
            .await
            .map_err(wire(ctx))
    }

    async fn get_s3_access_policy(
        &self,
        ctx: &RequestContext,
        input: model::GetS3AccessPolicyRequest,
    ) -> Result<model::GetS3AccessPolicyResponse, ApiError> {
        self.service
            .get_s3_access_policy(&ctx.account_id, &input.s3_access_point_arn)
            .await
            .map_err(wire(ctx))
    }

    async fn delete_s3_access_policy(
        &self,
        ctx: &RequestContext,
        input: model::DeleteS3AccessPolicyRequest,
    ) -> Result<model::DeleteS3AccessPolicyResponse, ApiError> {
        self.service
            .delete_s3_access_policy(&ctx.account_id, &input.s3_access_point_arn)
            .await
            .map_err(wire(ctx))?;
        Ok(model::DeleteS3AccessPolicyResponse {})
    }

    async fn create_reference_store(
        &self,
        ctx: &RequestContext,
        input: model::CreateReferenceStoreRequest,
    ) -> Result<model::CreateReferenceStoreResponse, ApiError> {
        self.service
            .create_reference_store(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_reference_store(
        &self,
        ctx: &RequestContext,
        input: model::GetReferenceStoreRequest,
    ) -> Result<model::GetReferenceStoreResponse, ApiError> {
        self.service
            .get_reference_store(&ctx.account_id, &input.id.into())
            .await
            .map_err(wire(ctx))
    }

    async fn list_reference_stores(
        &self,
        ctx: &RequestContext,
        input: model::ListReferenceStoresRequest,
    ) -> Result<model::ListReferenceStoresResponse, ApiError> {
        self.service
            .list_reference_stores(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn delete_reference_store(
        &self,
        ctx: &RequestContext,
        input: model::DeleteReferenceStoreRequest,
    ) -> Result<model::DeleteReferenceStoreResponse, ApiError> {
        self.service
            .delete_reference_store(&ctx.account_id, &input.id.into())
            .await
            .map_err(wire(ctx))?;
        Ok(model::DeleteReferenceStoreResponse {})
    }

    async fn tag_resource(
        &self,
        ctx: &RequestContext,
        input: model::TagResourceRequest,
    ) -> Result<model::TagResourceResponse, ApiError> {
        self.service
            .tag_resource(&ctx.account_id, &input.resource_arn, &input.tags)
            .await
            .map_err(wire(ctx))?;
        Ok(model::TagResourceResponse {})
    }

    async fn untag_resource(
        &self,
        ctx: &RequestContext,
        input: model::UntagResourceRequest,
    ) -> Result<model::UntagResourceResponse, ApiError> {
        self.service
            .untag_resource(&ctx.account_id, &input.resource_arn, &input.tag_keys)
            .await
            .map_err(wire(ctx))?;
        Ok(model::UntagResourceResponse {})
    }

    async fn list_tags_for_resource(
        &self,
        ctx: &RequestContext,
        input: model::ListTagsForResourceRequest,
    ) -> Result<model::ListTagsForResourceResponse, ApiError> {
        let tags = self
            .service
            .list_tags(&ctx.account_id, &input.resource_arn)
            .await
            .map_err(wire(ctx))?;
        Ok(model::ListTagsForResourceResponse { tags })
    }

    async fn start_reference_import_job(
        &self,
        ctx: &RequestContext,
        input: model::StartReferenceImportJobRequest,
    ) -> Result<model::StartReferenceImportJobResponse, ApiError> {
        self.service
            .start_reference_import_job(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_reference_import_job(
        &self,
        ctx: &RequestContext,
        input: model::GetReferenceImportJobRequest,
    ) -> Result<model::GetReferenceImportJobResponse, ApiError> {
        self.service
            .get_reference_import_job(
                &ctx.account_id,
                &input.reference_store_id.into(),
                &input.id.into(),
            )
            .await
            .map_err(wire(ctx))
    }

    async fn list_reference_import_jobs(
        &self,
        ctx: &RequestContext,
        input: model::ListReferenceImportJobsRequest,
    ) -> Result<model::ListReferenceImportJobsResponse, ApiError> {
        self.service
            .list_reference_import_jobs(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_reference_metadata(
        &self,
        ctx: &RequestContext,
        input: model::GetReferenceMetadataRequest,
    ) -> Result<model::GetReferenceMetadataResponse, ApiError> {
        self.service
            .get_reference_metadata(
                &ctx.account_id,
                &input.reference_store_id.into(),
                &input.id.into(),
            )
            .await
            .map_err(wire(ctx))
    }

    async fn list_references(
        &self,
        ctx: &RequestContext,
        input: model::ListReferencesRequest,
    ) -> Result<model::ListReferencesResponse, ApiError> {
        self.service
            .list_references(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_reference(
        &self,
        ctx: &RequestContext,
        input: model::GetReferenceRequest,
    ) -> Result<BlobResponse, ApiError> {
        let read = self
            .service
            .get_reference(&ctx.account_id, &input)
            .await
            .map_err(wire(ctx))?;
        Ok(blob(read))
    }

    async fn delete_reference(
        &self,
        ctx: &RequestContext,
        input: model::DeleteReferenceRequest,
    ) -> Result<model::DeleteReferenceResponse, ApiError> {
        self.service
            .delete_reference(
                &ctx.account_id,
                &input.reference_store_id.into(),
                &input.id.into(),
            )
            .await
            .map_err(wire(ctx))?;
        Ok(model::DeleteReferenceResponse {})
    }

    async fn create_multipart_read_set_upload(
        &self,
        ctx: &RequestContext,
        input: model::CreateMultipartReadSetUploadRequest,
    ) -> Result<model::CreateMultipartReadSetUploadResponse, ApiError> {
        self.service
            .create_multipart_read_set_upload(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn upload_read_set_part(
        &self,
        ctx: &RequestContext,
        input: model::UploadReadSetPartRequest,
        body: BodyStream,
    ) -> Result<model::UploadReadSetPartResponse, ApiError> {
        let stream = body
            .into_data_stream()
            .map_err(std::io::Error::other)
            .boxed();
        self.service
            .upload_read_set_part(
                &ctx.account_id,
                &input,
                stream,
                ctx.claimed_payload_sha256.as_deref(),
            )
            .await
            .map_err(wire(ctx))
    }

    async fn list_read_set_upload_parts(
        &self,
        ctx: &RequestContext,
        input: model::ListReadSetUploadPartsRequest,
    ) -> Result<model::ListReadSetUploadPartsResponse, ApiError> {
        self.service
            .list_read_set_upload_parts(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn list_multipart_read_set_uploads(
        &self,
        ctx: &RequestContext,
        input: model::ListMultipartReadSetUploadsRequest,
    ) -> Result<model::ListMultipartReadSetUploadsResponse, ApiError> {
        self.service
            .list_multipart_read_set_uploads(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn abort_multipart_read_set_upload(
        &self,
        ctx: &RequestContext,
        input: model::AbortMultipartReadSetUploadRequest,
    ) -> Result<model::AbortMultipartReadSetUploadResponse, ApiError> {
        self.service
            .abort_multipart_read_set_upload(
                &ctx.account_id,
                &input.sequence_store_id.into(),
                &input.upload_id.into(),
            )
            .await
            .map_err(wire(ctx))?;
        Ok(model::AbortMultipartReadSetUploadResponse {})
    }

    async fn complete_multipart_read_set_upload(
        &self,
        ctx: &RequestContext,
        input: model::CompleteMultipartReadSetUploadRequest,
    ) -> Result<model::CompleteMultipartReadSetUploadResponse, ApiError> {
        self.service
            .complete_multipart_read_set_upload(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_read_set_metadata(
        &self,
        ctx: &RequestContext,
        input: model::GetReadSetMetadataRequest,
    ) -> Result<model::GetReadSetMetadataResponse, ApiError> {
        self.service
            .get_read_set_metadata(
                &ctx.account_id,
                &input.sequence_store_id.into(),
                &input.id.into(),
            )
            .await
            .map_err(wire(ctx))
    }

    async fn list_read_sets(
        &self,
        ctx: &RequestContext,
        input: model::ListReadSetsRequest,
    ) -> Result<model::ListReadSetsResponse, ApiError> {
        self.service
            .list_read_sets(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_read_set(
        &self,
        ctx: &RequestContext,
        input: model::GetReadSetRequest,
    ) -> Result<BlobResponse, ApiError> {
        let read = self
            .service
            .get_read_set(&ctx.account_id, &input)
            .await
            .map_err(wire(ctx))?;
        Ok(blob(read))
    }

    async fn batch_delete_read_set(
        &self,
        ctx: &RequestContext,
        input: model::BatchDeleteReadSetRequest,
    ) -> Result<model::BatchDeleteReadSetResponse, ApiError> {
        self.service
            .batch_delete_read_set(&ctx.account_id, &input.sequence_store_id.into(), &input.ids)
            .await
            .map_err(wire(ctx))
    }

    async fn start_read_set_import_job(
        &self,
        ctx: &RequestContext,
        input: model::StartReadSetImportJobRequest,
    ) -> Result<model::StartReadSetImportJobResponse, ApiError> {
        self.service
            .start_read_set_import_job(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_read_set_import_job(
        &self,
        ctx: &RequestContext,
        input: model::GetReadSetImportJobRequest,
    ) -> Result<model::GetReadSetImportJobResponse, ApiError> {
        self.service
            .get_read_set_import_job(
                &ctx.account_id,
                &input.sequence_store_id.into(),
                &input.id.into(),
            )
            .await
            .map_err(wire(ctx))
    }

    async fn list_read_set_import_jobs(
        &self,
        ctx: &RequestContext,
        input: model::ListReadSetImportJobsRequest,
    ) -> Result<model::ListReadSetImportJobsResponse, ApiError> {
        self.service
            .list_read_set_import_jobs(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn start_read_set_activation_job(
        &self,
        ctx: &RequestContext,
        input: model::StartReadSetActivationJobRequest,
    ) -> Result<model::StartReadSetActivationJobResponse, ApiError> {
        self.service
            .start_read_set_activation_job(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_read_set_activation_job(
        &self,
        ctx: &RequestContext,
        input: model::GetReadSetActivationJobRequest,
    ) -> Result<model::GetReadSetActivationJobResponse, ApiError> {
        self.service
            .get_read_set_activation_job(
                &ctx.account_id,
                &input.sequence_store_id.into(),
                &input.id.into(),
            )
            .await
            .map_err(wire(ctx))
    }

    async fn list_read_set_activation_jobs(
        &self,
        ctx: &RequestContext,
        input: model::ListReadSetActivationJobsRequest,
    ) -> Result<model::ListReadSetActivationJobsResponse, ApiError> {
        self.service
            .list_read_set_activation_jobs(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn start_read_set_export_job(
        &self,
        ctx: &RequestContext,
        input: model::StartReadSetExportJobRequest,
    ) -> Result<model::StartReadSetExportJobResponse, ApiError> {
        self.service
            .start_read_set_export_job(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }

    async fn get_read_set_export_job(
        &self,
        ctx: &RequestContext,
        input: model::GetReadSetExportJobRequest,
    ) -> Result<model::GetReadSetExportJobResponse, ApiError> {
        self.service
            .get_read_set_export_job(
                &ctx.account_id,
                &input.sequence_store_id.into(),
                &input.id.into(),
            )
            .await
            .map_err(wire(ctx))
    }

    async fn list_read_set_export_jobs(
        &self,
        ctx: &RequestContext,
        input: model::ListReadSetExportJobsRequest,
    ) -> Result<model::ListReadSetExportJobsResponse, ApiError> {
        self.service
            .list_read_set_export_jobs(&ctx.account_id, input)
            .await
            .map_err(wire(ctx))
    }
}

/// A stored-bytes stream as a streaming HTTP body of known length.
fn blob(read: BlobRead) -> BlobResponse {
    BlobResponse {
        content_length: read.length,
        body: axum::body::Body::from_stream(read.stream),
    }
}
