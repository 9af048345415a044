//! Access keys: generation of ids and secrets.

use rand::Rng;
use rand::distr::Alphanumeric;

/// Prefix of every access key id seqstore generates (AWS uses `AKIA`).
pub const ROOT_KEY_PREFIX: &str = "SSK";

/// A new `(access key id, secret access key)` pair: 20 uppercase alphanumerics for the
/// id (as AWS), 40 characters for the secret.
pub fn new_access_key() -> (String, String) {
    let mut rng = rand::rng();
    let id: String = (0..20 - ROOT_KEY_PREFIX.len())
        .map(|_| {
            let c = rng.sample(Alphanumeric) as char;
            c.to_ascii_uppercase()
        })
        .collect();
    let secret: String = (0..40).map(|_| rng.sample(Alphanumeric) as char).collect();
    (format!("{ROOT_KEY_PREFIX}{id}"), secret)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_have_aws_shapes_and_differ() {
        let (id, secret) = super::new_access_key();
        assert_eq!(id.len(), 20);
        assert!(
            id.starts_with("SSK")
                && id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(secret.len(), 40);
        assert_ne!(super::new_access_key().0, id);
    }
}
