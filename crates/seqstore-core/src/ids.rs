//! Resource ids: 10-digit decimal strings (spec D.1).

use rand::Rng;

/// A fresh random 10-digit id; uniqueness is enforced by the catalog (callers retry).
pub(crate) fn new_id() -> String {
    format!("{:010}", rand::rng().random_range(0..10_000_000_000u64))
}

/// How often a create retries after an id collision before giving up.
pub(crate) const ID_ATTEMPTS: usize = 5;

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_ten_digits() {
        for _ in 0..1000 {
            let id = super::new_id();
            assert_eq!(id.len(), 10);
            assert!(id.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
