//! S3 access points of sequence stores (spec D.2, D.10, E17).

use crate::Settings;
use rand::Rng;

/// The access point name: `<owner account>-<store id>`.
pub(crate) fn access_point_name(account_id: &str, store_id: &str) -> String {
    format!("{account_id}-{store_id}")
}

/// `arn:<partition>:s3:<region>:<service account>:accesspoint/<owner>-<storeId>`.
pub(crate) fn access_point_arn(settings: &Settings, account_id: &str, store_id: &str) -> String {
    format!(
        "arn:{}:s3:{}:{}:accesspoint/{}",
        settings.partition,
        settings.region,
        settings.s3_access_point_account,
        access_point_name(account_id, store_id)
    )
}

/// A new access point alias as S3 makes them: the name cut to 20 characters, a dash,
/// random lowercase alphanumerics ending in a short region code, `-s3alias`; 63 in all.
pub(crate) fn new_alias(settings: &Settings, account_id: &str, store_id: &str) -> String {
    const TOTAL: usize = 63;
    const SUFFIX: &str = "-s3alias";
    let name: String = access_point_name(account_id, store_id)
        .chars()
        .take(20)
        .collect();
    let region = short_region(&settings.region);
    let random_len = TOTAL - name.len() - 1 - region.len() - SUFFIX.len();
    let mut rng = rand::rng();
    let random: String = (0..random_len)
        .map(|_| {
            let i = rng.random_range(0..36u8);
            (if i < 10 { b'0' + i } else { b'a' + i - 10 }) as char
        })
        .collect();
    format!("{name}-{random}{region}{SUFFIX}")
}

/// `us-east-1` → `use1`, `ap-southeast-2` → `aps2`.
fn short_region(region: &str) -> String {
    let parts: Vec<&str> = region.split('-').collect();
    let mut out = String::new();
    if let Some(first) = parts.first() {
        out.push_str(&first.chars().take(2).collect::<String>());
    }
    for p in parts.iter().skip(1) {
        match p.parse::<u32>() {
            Ok(n) => out.push_str(&n.to_string()),
            Err(_) => out.extend(p.chars().next()),
        }
    }
    out.retain(|c| c.is_ascii_alphanumeric());
    out.make_ascii_lowercase();
    out
}

/// `s3://<alias>/<owner>/sequenceStore/<storeId>/`.
pub(crate) fn store_uri(alias: &str, account_id: &str, store_id: &str) -> String {
    format!("s3://{alias}/{account_id}/sequenceStore/{store_id}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            partition: "aws".into(),
            region: "us-east-1".into(),
            s3_access_point_account: "222222222222".into(),
        }
    }

    #[test]
    fn alias_has_the_s3_shape() {
        let alias = new_alias(&settings(), "111122223333", "0123456789");
        assert_eq!(alias.len(), 63, "{alias}");
        assert!(alias.starts_with("111122223333-0123456-"), "{alias}");
        assert!(alias.ends_with("use1-s3alias"), "{alias}");
        assert!(
            alias
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
        assert_ne!(alias, new_alias(&settings(), "111122223333", "0123456789"));
    }

    #[test]
    fn arn_and_uri() {
        assert_eq!(
            access_point_arn(&settings(), "111122223333", "0123456789"),
            "arn:aws:s3:us-east-1:222222222222:accesspoint/111122223333-0123456789"
        );
        assert_eq!(
            store_uri("a-s3alias", "111122223333", "1"),
            "s3://a-s3alias/111122223333/sequenceStore/1/"
        );
        assert_eq!(short_region("ap-southeast-2"), "aps2");
    }
}
