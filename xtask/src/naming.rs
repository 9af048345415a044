//! Rust names for model names: snake_case members and methods, UpperCamel enum variants.

/// Keywords that need the raw-identifier form (`r#type`) as field names.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// `s3AccessPointArn` → `s3_access_point_arn`, `GetS3AccessPolicy` → `get_s3_access_policy`.
///
/// A word starts at an uppercase letter that follows a lowercase letter or a digit, or that
/// is followed by a lowercase letter inside an uppercase run (`ETagX` → `e_tag_x`).
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A snake_case field name, escaped when it is a keyword.
pub fn field_name(member: &str) -> String {
    let snake = snake_case(member);
    if KEYWORDS.contains(&snake.as_str()) {
        format!("r#{snake}")
    } else {
        snake
    }
}

/// `MD5up` → `Md5up`, `FASTQ_MD5up` → `FastqMd5up`, `SOURCE1` → `Source1`.
pub fn variant_name(value: &str) -> String {
    let mut out = String::new();
    for part in value.split(['_', '-', ' ']).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// A Rust string literal for `s` (raw form when it holds a backslash or quote).
pub fn str_lit(s: &str) -> String {
    if !s.contains('\\') && !s.contains('"') {
        return format!("\"{s}\"");
    }
    let mut hashes = String::from("#");
    while s.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{s}\"{hashes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases_model_names() {
        assert_eq!(snake_case("s3AccessPointArn"), "s3_access_point_arn");
        assert_eq!(snake_case("GetS3AccessPolicy"), "get_s3_access_policy");
        assert_eq!(snake_case("eTagAlgorithmFamily"), "e_tag_algorithm_family");
        assert_eq!(snake_case("source1"), "source1");
        assert_eq!(snake_case("CreateSequenceStore"), "create_sequence_store");
        assert_eq!(snake_case("ETagAlgorithm"), "e_tag_algorithm");
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(field_name("md5"), "md5");
    }

    #[test]
    fn camel_cases_enum_values() {
        assert_eq!(variant_name("MD5up"), "Md5up");
        assert_eq!(variant_name("FASTQ_MD5up"), "FastqMd5up");
        assert_eq!(variant_name("SOURCE1"), "Source1");
        assert_eq!(
            variant_name("COMPLETED_WITH_FAILURES"),
            "CompletedWithFailures"
        );
        assert_eq!(variant_name("SHA512up"), "Sha512up");
    }

    #[test]
    fn string_literals_survive_backslashes() {
        assert_eq!(str_lit("abc"), "\"abc\"");
        assert_eq!(str_lit(r"[\p{L}]+"), r####"r#"[\p{L}]+"#"####);
        // A quote followed by `#` needs two hashes.
        assert_eq!(str_lit("a\"#b"), "r##\"a\"#b\"##");
    }
}
