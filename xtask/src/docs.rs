//! One-line rustdoc summaries from the model's HTML documentation.

/// The first sentence of `html` as plain Markdown, or `fallback` when there is none.
pub fn summary(html: Option<&str>, fallback: &str) -> String {
    let text = plain_text(html.unwrap_or(""));
    let first = first_sentence(&text);
    if first.is_empty() {
        fallback.to_owned()
    } else {
        first
    }
}

/// Strips tags (`<code>` becomes backticks), decodes the common entities, collapses spaces.
fn plain_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[start + 1..start + end];
        if tag == "code" || tag == "/code" {
            out.push('`');
        } else {
            out.push(' ');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Up to and including the first `. `; escapes what rustdoc would read as links or HTML.
fn first_sentence(text: &str) -> String {
    let end = text.find(". ").map_or(text.len(), |i| i + 1);
    let sentence = text[..end].trim();
    let mut out = String::with_capacity(sentence.len());
    for c in sentence.chars() {
        if matches!(c, '[' | ']' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes_html() {
        let html = "<p>Deletes a <code>ReadSet</code>. More text.</p> <p>Other.</p>";
        assert_eq!(summary(Some(html), "x"), "Deletes a `ReadSet`.");
        assert_eq!(summary(None, "fallback"), "fallback");
        assert_eq!(
            summary(Some("<p>a &lt;b&gt; [c]</p>"), "x"),
            r"a \<b\> \[c\]"
        );
    }
}
