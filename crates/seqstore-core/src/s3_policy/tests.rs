use super::*;

const AP: &str = "arn:aws:s3:us-west-2:555555555555:accesspoint/111122223333-1234567890";
const PREFIX: &str = "111122223333/sequenceStore/1234567890/";
const OWNER: &str = "111122223333";
const OWNER_ROOT: &str = "arn:aws:iam::111122223333:root";
const OTHER: &str = "444455556666";
const OTHER_ROOT: &str = "arn:aws:iam::444455556666:root";

fn scope() -> PolicyScope<'static> {
    PolicyScope {
        access_point_arn: AP,
        store_prefix: PREFIX.to_owned(),
        partition: "aws",
        owner_account: OWNER,
    }
}

fn object(key: &str) -> String {
    format!("{AP}/object/{PREFIX}{key}")
}

/// A request by the owner root over TLS 1.3 with SigV4, no prefix and no tags.
fn request<'a>(action: &'a str, resource: &'a str) -> AccessRequest<'a> {
    AccessRequest {
        principal_account: OWNER,
        principal_arn: OWNER_ROOT,
        action,
        resource,
        prefix: None,
        object_tags: None,
        signature_version: "AWS4-HMAC-SHA256",
        tls_version: Some("TLSv1.3"),
    }
}

/// A policy text with one statement: allow everyone everything, changed by `changes`
/// (a `null` change removes the element).
fn text(changes: Value) -> String {
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [AP, format!("{AP}/object/*")],
    });
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            statement.as_object_mut().unwrap().remove(name);
        } else {
            statement[name] = value.clone();
        }
    }
    json!({ "Version": "2012-10-17", "Statement": [statement] }).to_string()
}

/// A ListBucket request by the owner root.
fn list(prefix: Option<&str>) -> AccessRequest<'_> {
    AccessRequest {
        prefix,
        ..request("s3:ListBucket", AP)
    }
}

/// A GetObject request by another principal.
fn get_by<'a>(resource: &'a str, account: &'a str, arn: &'a str) -> AccessRequest<'a> {
    let mut request = request("s3:GetObject", resource);
    (request.principal_account, request.principal_arn) = (account, arn);
    request
}

fn policy(changes: Value) -> Policy {
    Policy::parse(&text(changes), &scope()).unwrap()
}

#[test]
fn default_policy_round_trips_and_grants_the_owner_reads_under_the_store_prefix() {
    let text = default_policy(&scope());
    assert!(text.contains(r#""Version":"2012-10-17""#), "{text}");
    assert!(
        text.contains(r#""Principal":{"AWS":"arn:aws:iam::111122223333:root"}"#),
        "{text}"
    );
    let policy = Policy::parse(&text, &scope()).unwrap();
    let cram = object("readSet/5091960702/HG00405.final.cram");
    assert!(policy.allows(&request("s3:GetObject", &cram)));
    assert!(policy.allows(&request("s3:GetObjectTagging", &cram)));
    assert!(!policy.allows(&request("s3:PutObject", &cram)));
    let under = format!("{PREFIX}readSet/");
    assert!(policy.allows(&list(Some(&under))));
    assert!(!policy.allows(&list(None)));
    assert!(!policy.allows(&list(Some("999999999999/"))));
    assert!(!policy.allows(&get_by(&cram, OTHER, OTHER_ROOT)));
    // The account root principal covers every principal of the account.
    let alice = "arn:aws:iam::111122223333:user/alice";
    assert!(policy.allows(&get_by(&cram, OWNER, alice)));
}

#[test]
fn principal_arn_names_root_and_users() {
    assert_eq!(principal_arn("aws", OWNER, None), OWNER_ROOT);
    assert_eq!(
        principal_arn("aws", OWNER, Some("a/bob")),
        "arn:aws:iam::111122223333:user/a/bob"
    );
}

#[test]
fn explicit_deny_beats_allow() {
    let text = json!({ "Statement": [
        {
            "Effect": "Allow", "Principal": "*", "Action": "s3:*",
            "Resource": format!("{AP}/object/*"),
        },
        {
            "Effect": "Deny", "Principal": {"AWS": OTHER}, "Action": "s3:GetObject",
            "Resource": object("secret/*"),
        },
    ]})
    .to_string();
    let policy = Policy::parse(&text, &scope()).unwrap();
    let (secret, open) = (object("secret/a.bam"), object("open/a.bam"));
    assert!(!policy.allows(&get_by(&secret, OTHER, OTHER_ROOT)));
    assert!(policy.allows(&get_by(&open, OTHER, OTHER_ROOT)));
    assert!(policy.allows(&request("s3:GetObject", &secret)));
}

#[test]
fn user_principal_matches_only_that_user_and_account_principal_matches_all_its_users() {
    let cram = object("a.cram");
    let as_user = |arn| get_by(&cram, OTHER, arn);
    let bob = "arn:aws:iam::444455556666:user/team/bob";
    let user_policy = policy(json!({ "Principal": { "AWS": [bob] } }));
    assert!(user_policy.allows(&as_user(bob)));
    assert!(!user_policy.allows(&as_user("arn:aws:iam::444455556666:user/team/carol")));
    assert!(!user_policy.allows(&as_user(OTHER_ROOT)));
    for account in [OTHER, OTHER_ROOT] {
        let account_policy = policy(json!({ "Principal": { "AWS": account } }));
        assert!(account_policy.allows(&as_user(bob)), "{account}");
        assert!(account_policy.allows(&as_user(OTHER_ROOT)), "{account}");
        assert!(
            !account_policy.allows(&request("s3:GetObject", &cram)),
            "{account}"
        );
    }
}

#[test]
fn wildcards_in_action_and_resource() {
    let policy = policy(json!({ "Action": "S3:get*", "Resource": object("readSet/?/*") }));
    let (one, long) = (object("readSet/1/a.bam"), object("readSet/12/a.bam"));
    assert!(policy.allows(&request("s3:GetObject", &one)));
    assert!(policy.allows(&request("s3:GetObjectTagging", &one)));
    assert!(!policy.allows(&request("s3:ListBucket", &one)));
    assert!(!policy.allows(&request("s3:GetObject", &long)));
    // Resources are case-sensitive.
    let upper = object("READSET/1/a.bam");
    assert!(!policy.allows(&request("s3:GetObject", &upper)));
}

#[test]
fn wildcard_match_cases() {
    for (pattern, text, expected) in [
        ("*", "", true),
        ("a*b*c", "aXbYbZc", true),
        ("a*b", "ab", true),
        ("a*b", "abc", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("*.cram", "x/y.cram", true),
        ("abc", "abcd", false),
    ] {
        assert_eq!(
            wildcard_match(pattern, text),
            expected,
            "{pattern} vs {text}"
        );
    }
}

fn with_condition(condition: Value) -> Policy {
    policy(json!({ "Condition": condition }))
}

#[test]
fn conditions_on_present_and_missing_keys() {
    for (operator, values, prefix, expected) in [
        ("StringEquals", json!("a"), None, false),
        ("StringEquals", json!(["b", "a"]), Some("a"), true),
        ("StringNotEquals", json!("a"), None, true),
        ("StringNotEquals", json!("a"), Some("a"), false),
        ("StringNotEquals", json!("a"), Some("b"), true),
        ("StringEqualsIfExists", json!("a"), None, true),
        ("StringEqualsIfExists", json!("a"), Some("b"), false),
        ("StringEqualsIgnoreCase", json!("ABC"), Some("abc"), true),
        ("StringNotLike", json!(["a*", "b*"]), Some("c"), true),
        ("StringNotLike", json!(["a*", "b*"]), Some("b1"), false),
        ("StringNotLikeIfExists", json!("a*"), None, true),
        ("Null", json!("true"), None, true),
        ("Null", json!(true), Some("a"), false),
        ("Null", json!("false"), Some("a"), true),
        ("Null", json!("false"), None, false),
    ] {
        let policy = with_condition(json!({ operator: { "S3:Prefix": values } }));
        let req = list(prefix);
        let case = format!("{operator} {values} with prefix {prefix:?}");
        assert_eq!(policy.allows(&req), expected, "{case}");
    }
    // Operator blocks are ANDed.
    let both = with_condition(json!({
        "StringLike": { "s3:prefix": "a*" },
        "Null": { "s3:prefix": "false" },
    }));
    assert!(both.allows(&list(Some("a1"))));
    assert!(!both.allows(&list(Some("b1"))));
}

#[test]
fn existing_object_tag_condition() {
    let status = |key: &str| {
        with_condition(
            json!({ "StringEquals": { format!("{key}/omics:readSetStatus"): "ACTIVE" } }),
        )
    };
    let cram = object("a.cram");
    let tagged = |object_tags| AccessRequest {
        object_tags,
        ..request("s3:GetObject", &cram)
    };
    let tags = |v: &str| BTreeMap::from([("omics:readSetStatus".to_owned(), v.to_owned())]);
    let (active, archived) = (tags("ACTIVE"), tags("ARCHIVED"));
    let active_only = status("s3:ExistingObjectTag");
    assert!(active_only.allows(&tagged(Some(&active))));
    assert!(!active_only.allows(&tagged(Some(&archived))));
    assert!(!active_only.allows(&tagged(None)));
    assert!(active_only.uses_object_tags());
    assert!(
        !Policy::parse(&default_policy(&scope()), &scope())
            .unwrap()
            .uses_object_tags()
    );
    // The key name is case-insensitive, the tag key is not.
    assert!(status("S3:existingobjecttag").allows(&tagged(Some(&active))));
    let upper = with_condition(json!({
        "StringEquals": { "s3:ExistingObjectTag/OMICS:readSetStatus": "ACTIVE" }
    }));
    assert!(!upper.allows(&tagged(Some(&active))));
}

#[test]
fn principal_account_and_principal_arn_conditions() {
    let cram = object("a.cram");
    let by = |account, arn| get_by(&cram, account, arn);
    let accounts = with_condition(json!({
        "StringEquals": { "aws:PrincipalAccount": [OTHER, "999988887777"] }
    }));
    assert!(accounts.allows(&by(OTHER, OTHER_ROOT)));
    assert!(!accounts.allows(&by(OWNER, OWNER_ROOT)));
    let alices = with_condition(json!({
        "ArnLike": { "aws:PrincipalArn": "arn:aws:iam::*:user/alice" }
    }));
    assert!(alices.allows(&by(OTHER, "arn:aws:iam::444455556666:user/alice")));
    assert!(!alices.allows(&by(OTHER, "arn:aws:iam::444455556666:user/bob")));
    assert!(!alices.allows(&by(OTHER, OTHER_ROOT)));
    // ArnEquals takes wildcards too (as in IAM); each ARN component is matched on its own.
    let users = with_condition(json!({
        "ArnEquals": { "aws:PrincipalArn": "arn:aws:iam::*:user/*" }
    }));
    assert!(users.allows(&by(OTHER, "arn:aws:iam::444455556666:user/alice")));
    assert!(!users.allows(&by(OTHER, OTHER_ROOT)));
}

#[test]
fn tls_version_and_signature_version_conditions() {
    let cram = object("a.cram");
    let tls = with_condition(json!({ "NumericGreaterThanEquals": { "s3:TlsVersion": 1.2 } }));
    for (version, expected) in [
        (Some("TLSv1.3"), true),
        (Some("1.2"), true),
        (Some("TLSv1.1"), false),
        (None, false),
    ] {
        let mut req = request("s3:GetObject", &cram);
        req.tls_version = version;
        assert_eq!(tls.allows(&req), expected, "{version:?}");
    }
    let sigv4 = with_condition(json!({
        "StringEquals": { "s3:signatureversion": "AWS4-HMAC-SHA256" }
    }));
    assert!(sigv4.allows(&request("s3:GetObject", &cram)));
    let mut sigv2 = request("s3:GetObject", &cram);
    sigv2.signature_version = "AWS";
    assert!(!sigv4.allows(&sigv2));
}

#[test]
fn accepted_policies() {
    let user = "arn:aws:iam::444455556666:user/a/b.c@d";
    for changes in [
        json!({ "Action": "*" }),
        json!({ "Action": ["s3:GetObject", "s3:ListBucket"], "Sid": "Read" }),
        json!({ "Resource": format!("{AP}/object/111122223333/seq*") }),
        json!({ "Resource": object("readSet/*/a.cram") }),
        json!({ "Principal": { "AWS": ["*", OTHER, user] } }),
        json!({ "Condition": { "NumericLessThan": { "s3:TlsVersion": "1.3" } } }),
        json!({ "Condition": { "StringLike": { "s3:prefix": 7 } } }),
        json!({ "Condition": { "ArnNotEqualsIfExists": { "aws:PrincipalArn": OTHER_ROOT } } }),
    ] {
        let text = text(changes);
        Policy::parse(&text, &scope()).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    // Version may be absent and Statement may be a single object.
    let single = json!({
        "Statement": { "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": AP }
    });
    Policy::parse(&single.to_string(), &scope()).unwrap();
}

/// Checks each `<text> => <part of the message>` line of `table`, `prepare`d.
fn assert_rejected(table: &str, prepare: impl Fn(&str) -> String) {
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (text, expected) = line.split_once(" => ").unwrap();
        let text = prepare(text);
        let error = Policy::parse(&text, &scope()).unwrap_err();
        assert!(
            error.0.contains(expected),
            "{text}\n  gave: {error}\n  want: {expected}"
        );
    }
}

#[test]
fn size_limit() {
    let base = text(json!({}));
    let at_limit = format!("{base}{}", " ".repeat(MAX_POLICY_BYTES - base.len()));
    Policy::parse(&at_limit, &scope()).unwrap();
    let error = Policy::parse(&format!("{at_limit} "), &scope()).unwrap_err();
    assert_eq!(
        error.0,
        "policy is 15361 bytes; the limit is 15360 bytes (15 KB)"
    );
}

/// Whole documents; `{S}` is a valid statement.
const REJECTED_DOCUMENTS: &str = r#"
    [] => policy must be a JSON object
    { => policy is not valid JSON: EOF while parsing an object at line 1 column 1
    {"Statement": {S}, "Foo": 1} => policy: element Foo is not allowed; allowed elements are
    {"Version": "2020-01-01", "Statement": {S}} => Version: "2020-01-01" is not supported
    {"Statement": {S}, "Id": 1} => Id must be a string
    {"Version": "2012-10-17"} => policy: Statement is required
    {"Statement": []} => Statement must not be an empty array
    {"Statement": [{S}, 3]} => Statement[1] must be a JSON object
"#;

#[test]
fn rejected_documents() {
    let statement = json!({ "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": AP });
    assert_rejected(REJECTED_DOCUMENTS, |text| {
        text.replace("{S}", &statement.to_string())
    });
}

/// `<statement changes> => <part of the message>`, a case a line; `{AP}` is the access point.
const REJECTED_STATEMENTS: &str = r#"
    {"NotAction": "s3:PutObject"} => Statement[0]: element NotAction is not allowed
    {"NotResource": "*"} => Statement[0]: element NotResource is not allowed
    {"NotPrincipal": "*"} => Statement[0]: element NotPrincipal is not allowed
    {"Extra": 1} => Statement[0]: element Extra is not allowed; allowed elements are Sid,
    {"Sid": 1} => Statement[0].Sid must be a string
    {"Effect": "allow"} => Statement[0].Effect: "allow" is not valid
    {"Effect": null} => Statement[0]: Effect is required
    {"Principal": null} => Statement[0]: Principal is required
    {"Principal": "111122223333"} => Statement[0].Principal must be "*" or {"AWS": ...}
    {"Principal": {"Service": "omics.amazonaws.com"}} => principal type Service is not allowed
    {"Principal": {"AWS": "arn:aws:iam::123:root"}} => "arn:aws:iam::123:root" is not a valid
    {"Principal": {"AWS": "arn:aws-cn:iam::111122223333:root"}} => is not a valid principal
    {"Principal": {"AWS": "arn:aws:iam::111122223333:role/r"}} => is not a valid principal
    {"Principal": {"AWS": "arn:aws:iam::111122223333:user/"}} => is not a valid principal
    {"Action": "omics:*"} => Statement[0].Action: omics:* is not allowed
    {"Action": []} => Statement[0].Action must be a string or a non-empty array of strings
    {"Resource": "*"} => Statement[0].Resource: * is outside the store's access point
    {"Resource": "{AP}*"} => is outside the store's access point
    {"Resource": "arn:aws:s3:::my-bucket/*"} => is outside the store's access point
    {"Resource": "{AP}/object/999999999999/*"} => is outside the store's access point
    {"Resource": "{AP}/object/111122223333/sequenceStore/9*"} => is outside the store's access
"#;

/// `<Condition of a statement> => <part of the message>`, a case a line.
const REJECTED_CONDITIONS: &str = r#"
    {"StringEquals": {"aws:SourceIp": "1"}} => StringEquals: condition key aws:SourceIp
    {"StringEquals": {"s3:ExistingObjectTag/": "x"}} => key s3:ExistingObjectTag/ is not allowed
    {"StringMatches": {"s3:prefix": "a"}} => Condition: unknown condition operator StringMatches
    {"NullIfExists": {"s3:prefix": "true"}} => unknown condition operator NullIfExists
    {"Null": {"s3:prefix": "yes"}} => Null.s3:prefix: yes is not a valid value for Null
    {"NumericLessThan": {"s3:TlsVersion": "TLSv1.2"}} => TLSv1.2 is not a valid value
    {"StringNotEquals": {"aws:PrincipalArn": "*"}} => aws:PrincipalArn may only be used with Arn
    {"ArnLike": {"aws:PrincipalArn": "alice"}} => alice is not a valid value for ArnLike
    {"StringLike": {"s3:prefix": []}} => s3:prefix: condition values must not be an empty array
    {"StringLike": {"s3:prefix": {}}} => condition values must be strings, numbers or booleans
    {"StringLike": "a"} => Statement[0].Condition.StringLike must be a JSON object of condition
    [] => Statement[0].Condition must be a JSON object of condition operators
"#;

#[test]
fn rejected_statements_say_what_and_where() {
    assert_rejected(REJECTED_STATEMENTS, |changes| {
        text(serde_json::from_str(&changes.replace("{AP}", AP)).unwrap())
    });
    assert_rejected(REJECTED_CONDITIONS, |condition| {
        text(json!({ "Condition": serde_json::from_str::<Value>(condition).unwrap() }))
    });
    let error = |changes| Policy::parse(&text(changes), &scope()).unwrap_err().0;
    assert_eq!(
        error(json!({ "Action": ["s3:GetObject", "s3:PutObject"] })),
        "Statement[0].Action: s3:PutObject is not allowed; \
         allowed actions are s3:GetObject, s3:GetObjectTagging, s3:ListBucket"
    );
    assert_eq!(
        error(json!({ "Resource": format!("{AP}/object/999999999999/*") })),
        format!(
            "Statement[0].Resource: {AP}/object/999999999999/* is outside the store's \
             access point; use {AP} or {AP}/object/{PREFIX}*"
        )
    );
}
