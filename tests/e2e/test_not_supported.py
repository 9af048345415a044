"""Operations that are not implemented yet answer NotSupportedOperationException (405).
All 41 storage operations are implemented now; the machinery stays for the next model change.

NOT_IMPLEMENTED_YET is the one list of them: when an operation lands, delete its entry here
(test_every_storage_operation_is_accounted_for then makes sure it is tested elsewhere).
"""

from __future__ import annotations

import botocore.session
import pytest

from e2e_support import raises_aws

# operation name -> boto3 keyword arguments of a valid request (none left: all 41 work)
NOT_IMPLEMENTED_YET: dict[str, dict] = {}

# Implemented and covered by the other test files.
IMPLEMENTED = {
    "CreateSequenceStore", "GetSequenceStore", "ListSequenceStores", "UpdateSequenceStore", "DeleteSequenceStore",
    "CreateReferenceStore", "GetReferenceStore", "ListReferenceStores", "DeleteReferenceStore",
    "TagResource", "UntagResource", "ListTagsForResource",
    # test_references.py, test_jobs.py, test_crash_resume.py
    "StartReferenceImportJob", "GetReferenceImportJob", "ListReferenceImportJobs",
    "GetReferenceMetadata", "ListReferences", "GetReference", "DeleteReference",
    # test_uploads.py, test_read_sets.py, test_read_set_errors.py
    "CreateMultipartReadSetUpload", "UploadReadSetPart", "CompleteMultipartReadSetUpload",
    "AbortMultipartReadSetUpload", "ListMultipartReadSetUploads", "ListReadSetUploadParts",
    "GetReadSet", "GetReadSetMetadata", "ListReadSets", "BatchDeleteReadSet",
    # test_read_set_import.py
    "StartReadSetImportJob", "GetReadSetImportJob", "ListReadSetImportJobs",
    # test_s3_access.py
    "PutS3AccessPolicy", "GetS3AccessPolicy", "DeleteS3AccessPolicy",
    # test_lifecycle.py
    "StartReadSetExportJob", "GetReadSetExportJob", "ListReadSetExportJobs",
    "StartReadSetActivationJob", "GetReadSetActivationJob", "ListReadSetActivationJobs",
}

STORAGE_HOST_PREFIXES = ("control-storage-", "storage-", "tags-")


def storage_operations() -> set[str]:
    model = botocore.session.get_session().get_service_model("omics")
    return {
        name for name in model.operation_names
        if (model.operation_model(name).endpoint or {}).get("hostPrefix") in STORAGE_HOST_PREFIXES
    }


def test_every_storage_operation_is_accounted_for():
    ops = storage_operations()
    assert len(ops) == 41, sorted(ops)
    assert not (IMPLEMENTED & set(NOT_IMPLEMENTED_YET)), "an operation cannot be both"
    assert IMPLEMENTED | set(NOT_IMPLEMENTED_YET) == ops, (
        f"unaccounted: {sorted(ops - IMPLEMENTED - set(NOT_IMPLEMENTED_YET))}, "
        f"unknown: {sorted((IMPLEMENTED | set(NOT_IMPLEMENTED_YET)) - ops)}"
    )


def _snake(name: str) -> str:
    return botocore.xform_name(name)


@pytest.mark.parametrize("operation", sorted(NOT_IMPLEMENTED_YET))
def test_not_implemented_yet(omics, operation):
    method = getattr(omics, _snake(operation))
    with raises_aws("NotSupportedOperationException", 405, operation):
        result = method(**NOT_IMPLEMENTED_YET[operation])
        if "payload" in result:  # streaming outputs: make sure nothing was served
            result["payload"].read()
