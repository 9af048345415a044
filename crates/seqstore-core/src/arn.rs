//! HealthOmics storage ARNs (spec D.1): formatting and parsing.

use crate::ids::{AccountId, ReadSetId, ReferenceId, StoreId};
use std::fmt;

/// The resource part of an omics storage ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnResource {
    /// `sequenceStore/<id>`
    SequenceStore(StoreId),
    /// `sequenceStore/<storeId>/readSet/<id>`
    ReadSet(StoreId, ReadSetId),
    /// `referenceStore/<id>`
    ReferenceStore(StoreId),
    /// `referenceStore/<storeId>/reference/<id>`
    Reference(StoreId, ReferenceId),
    /// Any other omics resource (workflows, runs...): well-formed but not served here.
    Other(String),
}

/// `arn:<partition>:omics:<region>:<account>:<resource>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    /// Partition, e.g. `aws`.
    pub partition: String,
    /// Region.
    pub region: String,
    /// Owning account.
    pub account_id: AccountId,
    /// The resource.
    pub resource: ArnResource,
}

impl Arn {
    /// Parses an omics ARN; the error says what is malformed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(format!(
                "'{text}' is not an ARN (arn:partition:omics:region:account:resource)"
            ));
        };
        if service != "omics" {
            return Err(format!("'{text}' is not an omics ARN"));
        }
        if partition.is_empty() || region.is_empty() {
            return Err(format!("'{text}' has an empty partition or region"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("'{text}' does not name a 12-digit account"));
        }
        let segments: Vec<&str> = resource.split('/').collect();
        let id_ok = |s: &str| (10..=36).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        let resource = match segments.as_slice() {
            ["sequenceStore", id] if id_ok(id) => ArnResource::SequenceStore((*id).into()),
            ["sequenceStore", s, "readSet", id] if id_ok(s) && id_ok(id) => {
                ArnResource::ReadSet((*s).into(), (*id).into())
            }
            ["referenceStore", id] if id_ok(id) => ArnResource::ReferenceStore((*id).into()),
            ["referenceStore", s, "reference", id] if id_ok(s) && id_ok(id) => {
                ArnResource::Reference((*s).into(), (*id).into())
            }
            [kind, ..] if ["sequenceStore", "referenceStore"].contains(kind) => {
                return Err(format!("'{text}' has a malformed {kind} resource"));
            }
            _ if resource.is_empty() => return Err(format!("'{text}' has no resource")),
            _ => ArnResource::Other(resource.into()),
        };
        Ok(Self {
            partition: partition.into(),
            region: region.into(),
            account_id: account.into(),
            resource,
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:omics:{}:{}:",
            self.partition, self.region, self.account_id
        )?;
        match &self.resource {
            ArnResource::SequenceStore(id) => write!(f, "sequenceStore/{id}"),
            ArnResource::ReadSet(s, id) => write!(f, "sequenceStore/{s}/readSet/{id}"),
            ArnResource::ReferenceStore(id) => write!(f, "referenceStore/{id}"),
            ArnResource::Reference(s, id) => write!(f, "referenceStore/{s}/reference/{id}"),
            ArnResource::Other(r) => f.write_str(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_storage_resource() {
        for text in [
            "arn:aws:omics:us-east-1:111122223333:sequenceStore/0123456789",
            "arn:aws:omics:us-east-1:111122223333:sequenceStore/0123456789/readSet/1234567890",
            "arn:aws:omics:us-east-1:111122223333:referenceStore/0123456789",
            "arn:aws:omics:us-east-1:111122223333:referenceStore/0123456789/reference/1234567890",
            "arn:aws:omics:us-east-1:111122223333:workflow/1234567",
        ] {
            assert_eq!(Arn::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn malformed_arns_say_why() {
        for text in [
            "sequenceStore/0123456789",
            "arn:aws:s3:us-east-1:111122223333:sequenceStore/0123456789",
            "arn:aws:omics:us-east-1:1111:sequenceStore/0123456789",
            "arn:aws:omics:us-east-1:111122223333:sequenceStore/12",
            "arn:aws:omics:us-east-1:111122223333:sequenceStore/0123456789/readSet",
            "arn:aws:omics:us-east-1:111122223333:",
        ] {
            assert!(Arn::parse(text).is_err(), "{text}");
        }
    }
}
