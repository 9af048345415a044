//! `seqstore ls`: sequence stores, a store's read sets or its uploads in progress, and
//! reference stores and their references.

use super::api::{Api, encode};
use serde_json::Value;

/// `seqstore ls` flags.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// A store: list its read sets (or references with --references) instead of the stores.
    store_id: Option<String>,
    /// Reference stores (and a reference store's references) instead of sequence stores.
    #[arg(long)]
    references: bool,
    /// The store's multipart uploads in progress (their ids resume with `upload --upload-id`).
    #[arg(long, requires = "store_id", conflicts_with = "references")]
    uploads: bool,
    /// Print one JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// One listing: its path, the answer's list field and the columns of the table.
struct Listing {
    path: String,
    field: &'static str,
    columns: &'static [&'static str],
}

/// Runs the listing, following `nextToken` to the end.
pub async fn run(api: &Api, args: LsArgs) -> anyhow::Result<()> {
    let listing = match (&args.store_id, args.references, args.uploads) {
        (None, false, _) => Listing {
            path: "/sequencestores".into(),
            field: "sequenceStores",
            columns: &["id", "name", "eTagAlgorithmFamily", "creationTime"],
        },
        (None, true, _) => Listing {
            path: "/referencestores".into(),
            field: "referenceStores",
            columns: &["id", "name", "creationTime"],
        },
        (Some(store), false, false) => Listing {
            path: format!("/sequencestore/{}/readsets", encode(store)),
            field: "readSets",
            columns: &[
                "id",
                "status",
                "fileType",
                "name",
                "sampleId",
                "creationTime",
            ],
        },
        (Some(store), false, true) => Listing {
            path: format!("/sequencestore/{}/uploads", encode(store)),
            field: "uploads",
            columns: &[
                "uploadId",
                "sourceFileType",
                "name",
                "sampleId",
                "creationTime",
            ],
        },
        (Some(store), true, _) => Listing {
            path: format!("/referencestore/{}/references", encode(store)),
            field: "references",
            columns: &["id", "status", "name", "md5", "creationTime"],
        },
    };
    let items: Vec<Value> = api
        .list_all(
            &listing.path,
            Value::Object(Default::default()),
            listing.field,
        )
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    print!("{}", table(listing.columns, &items));
    Ok(())
}

/// Left-aligned columns separated by two spaces, a header line first.
fn table(columns: &[&str], items: &[Value]) -> String {
    let cell = |item: &Value, column: &str| match item.get(column) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".to_owned(),
        Some(other) => other.to_string(),
    };
    let rows: Vec<Vec<String>> = std::iter::once(columns.iter().map(|c| c.to_string()).collect())
        .chain(
            items
                .iter()
                .map(|item| columns.iter().map(|c| cell(item, c)).collect()),
        )
        .collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_mark_absent_fields() {
        let items = vec![
            serde_json::json!({"id": "1234", "status": "ACTIVE", "name": "a"}),
            serde_json::json!({"id": "5", "status": "ARCHIVED"}),
        ];
        assert_eq!(
            table(&["id", "status", "name"], &items),
            "id    status    name\n1234  ACTIVE    a\n5     ARCHIVED  -\n"
        );
    }
}
