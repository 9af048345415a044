//! Resource ids: 10-digit decimal strings (spec D.1), and the 12-digit account id. Each kind
//! of id is its own type; text becomes an id at the edges (the wire, the catalog's rows).

use rand::Rng;

/// Id types over their text.
macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Its text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self(text.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(Self(text.to_owned()))
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

ids! {
    /// The 12-digit account that owns resources.
    AccountId;
    /// A sequence or reference store: both kinds share one id space.
    StoreId;
    /// A read set.
    ReadSetId;
    /// A reference genome.
    ReferenceId;
    /// A multipart read set upload.
    UploadId;
    /// A background job.
    JobId;
    /// A server process sharing the catalog (`node-...`), stable across its restarts.
    NodeId;
    /// A GA4GH bearer token (the public half of `seqstore tokens create`'s token).
    TokenId;
}

/// A fresh random 10-digit id; uniqueness is enforced by the catalog (callers retry).
pub(crate) fn new_id<T: From<String>>() -> T {
    T::from(format!(
        "{:010}",
        rand::rng().random_range(0..10_000_000_000u64)
    ))
}

/// How often a create retries after an id collision before giving up.
pub(crate) const ID_ATTEMPTS: usize = 5;

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_ten_digits() {
        for _ in 0..1000 {
            let id: super::ReadSetId = super::new_id();
            assert_eq!(id.len(), 10);
            assert!(id.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
