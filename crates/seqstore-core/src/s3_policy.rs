//! S3 access point policies of stores (spec D.10, E30): validation and evaluation.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Maximum policy size in bytes (HealthOmics fixed quota: 15 KB).
pub(crate) const MAX_POLICY_BYTES: usize = 15 * 1024;

/// The only actions a store policy may grant (spec D.10: "beyond the default actions" is rejected).
const ALLOWED_ACTIONS: [&str; 3] = ["s3:GetObject", "s3:GetObjectTagging", "s3:ListBucket"];

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "Action",
    "Resource",
    "Condition",
];

const CONDITION_KEYS: &str = "s3:ExistingObjectTag/<key>, s3:prefix, s3:signatureversion, \
                              s3:TlsVersion, aws:PrincipalArn, aws:PrincipalAccount";

/// What a policy may talk about: the store behind one access point.
#[derive(Debug, Clone)]
pub(crate) struct PolicyScope<'a> {
    /// `arn:<partition>:s3:<region>:<apAccount>:accesspoint/<owner>-<storeId>`
    pub(crate) access_point_arn: &'a str,
    /// The object key prefix of the store: `<owner>/sequenceStore/<storeId>/` or
    /// `<owner>/referenceStore/<storeId>/`.
    pub(crate) store_prefix: String,
    /// Partition for principal ARNs (`aws`).
    pub(crate) partition: &'a str,
    /// Owning account (12 digits).
    pub(crate) owner_account: &'a str,
}

/// A validation failure; its Display text is the ValidationException message shown to the user.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub(crate) struct PolicyError(pub(crate) String);

fn invalid(message: impl Into<String>) -> PolicyError {
    PolicyError(message.into())
}

/// A parsed, validated policy.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    statements: Vec<Statement>,
}

/// One request to decide.
#[derive(Debug, Clone)]
pub(crate) struct AccessRequest<'a> {
    /// Account of the signing key.
    pub(crate) principal_account: &'a str,
    /// `arn:aws:iam::<account>:root` or `arn:aws:iam::<account>:user/<name>`.
    pub(crate) principal_arn: &'a str,
    /// `s3:GetObject`, `s3:GetObjectTagging` or `s3:ListBucket`.
    pub(crate) action: &'a str,
    /// `<apArn>/object/<key>` for object actions, `<apArn>` for ListBucket.
    pub(crate) resource: &'a str,
    /// The `prefix` parameter of a ListBucket request.
    pub(crate) prefix: Option<&'a str>,
    /// Tags of the object, for object actions.
    pub(crate) object_tags: Option<&'a BTreeMap<String, String>>,
    /// `AWS4-HMAC-SHA256` (or `AWS` for SigV2).
    pub(crate) signature_version: &'a str,
    /// `TLSv1.2` or `1.2`; `None` on plain http.
    pub(crate) tls_version: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
struct Statement {
    effect: Effect,
    principals: Vec<Principal>,
    /// Lowercased action patterns.
    actions: Vec<String>,
    resources: Vec<String>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Principal {
    Any,
    /// Every principal of the account (a bare account ID or its `:root` ARN).
    Account(String),
    /// Exactly this IAM user ARN.
    User(String),
}

#[derive(Debug, Clone)]
struct Condition {
    operator: Operator,
    key: Key,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operator {
    test: Test,
    negated: bool,
    if_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    /// ArnEquals and ArnLike behave the same in IAM: per ARN component, with wildcards.
    Arn,
    Numeric(NumericTest),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumericTest {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    ExistingObjectTag(String),
    Prefix,
    SignatureVersion,
    TlsVersion,
    PrincipalArn,
    PrincipalAccount,
}

impl Policy {
    /// Parses and validates `text` against `scope`.
    pub(crate) fn parse(text: &str, scope: &PolicyScope<'_>) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(invalid(format!(
                "policy is {} bytes; the limit is {MAX_POLICY_BYTES} bytes (15 KB)",
                text.len()
            )));
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| invalid(format!("policy is not valid JSON: {e}")))?;
        let Value::Object(top) = value else {
            return Err(invalid("policy must be a JSON object"));
        };
        check_elements(&top, "policy", &["Version", "Id", "Statement"])?;
        match top.get("Version") {
            None => {}
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
            Some(other) => {
                return Err(invalid(format!(
                    "Version: {other} is not supported; use \"2012-10-17\""
                )));
            }
        }
        if top.get("Id").is_some_and(|id| !id.is_string()) {
            return Err(invalid("Id must be a string"));
        }
        let items: Vec<&Value> = match top.get("Statement") {
            None => return Err(invalid("policy: Statement is required")),
            Some(Value::Array(items)) if items.is_empty() => {
                return Err(invalid("Statement must not be an empty array"));
            }
            Some(Value::Array(items)) => items.iter().collect(),
            Some(item) => vec![item],
        };
        let statements = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| parse_statement(item, &format!("Statement[{i}]"), scope))
            .collect::<Result<_, _>>()?;
        Ok(Policy { statements })
    }

    /// Whether any condition reads object tags, so the caller can skip fetching them.
    pub(crate) fn uses_object_tags(&self) -> bool {
        self.statements
            .iter()
            .flat_map(|s| &s.conditions)
            .any(|c| matches!(c.key, Key::ExistingObjectTag(_)))
    }

    /// IAM evaluation: a matching Deny wins; else a matching Allow allows; else deny.
    pub(crate) fn allows(&self, request: &AccessRequest<'_>) -> bool {
        let matching = |effect| {
            self.statements
                .iter()
                .any(|s| s.effect == effect && s.matches(request))
        };
        !matching(Effect::Deny) && matching(Effect::Allow)
    }
}

/// The policy every store gets at creation (spec D.10): the owner account root may
/// s3:GetObject and s3:GetObjectTagging under the store prefix, and s3:ListBucket with an
/// `s3:prefix` under it. Compact JSON text.
pub(crate) fn default_policy(scope: &PolicyScope<'_>) -> String {
    let ap = scope.access_point_arn;
    let prefix = &scope.store_prefix;
    let principal = json!({ "AWS": principal_arn(scope.partition, scope.owner_account, None) });
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnerReadObjects",
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["s3:GetObject", "s3:GetObjectTagging"],
                "Resource": format!("{ap}/object/{prefix}*"),
            },
            {
                "Sid": "OwnerListObjects",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:ListBucket",
                "Resource": ap,
                "Condition": { "StringLike": { "s3:prefix": format!("{prefix}*") } },
            },
        ],
    })
    .to_string()
}

/// `arn:<partition>:iam::<account>:root`, or `...:user/<user>` for an IAM user.
pub(crate) fn principal_arn(partition: &str, account: &str, user: Option<&str>) -> String {
    match user {
        None => format!("arn:{partition}:iam::{account}:root"),
        Some(user) => format!("arn:{partition}:iam::{account}:user/{user}"),
    }
}

fn check_elements(map: &Map<String, Value>, at: &str, allowed: &[&str]) -> Result<(), PolicyError> {
    match map.keys().find(|name| !allowed.contains(&name.as_str())) {
        Some(name) => Err(invalid(format!(
            "{at}: element {name} is not allowed; allowed elements are {}",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

fn required<'v>(
    map: &'v Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<&'v Value, PolicyError> {
    map.get(name)
        .ok_or_else(|| invalid(format!("{at}: {name} is required")))
}

/// A string or a non-empty array of strings.
fn string_list<'v>(value: &'v Value, at: &str) -> Result<Vec<&'v str>, PolicyError> {
    let malformed = || {
        invalid(format!(
            "{at} must be a string or a non-empty array of strings"
        ))
    };
    match value {
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| item.as_str().ok_or_else(malformed))
            .collect(),
        _ => Err(malformed()),
    }
}

fn parse_statement(
    value: &Value,
    at: &str,
    scope: &PolicyScope<'_>,
) -> Result<Statement, PolicyError> {
    let Value::Object(map) = value else {
        return Err(invalid(format!("{at} must be a JSON object")));
    };
    check_elements(map, at, STATEMENT_ELEMENTS)?;
    if map.get("Sid").is_some_and(|sid| !sid.is_string()) {
        return Err(invalid(format!("{at}.Sid must be a string")));
    }
    let effect = match required(map, "Effect", at)? {
        Value::String(s) if s == "Allow" => Effect::Allow,
        Value::String(s) if s == "Deny" => Effect::Deny,
        other => {
            return Err(invalid(format!(
                "{at}.Effect: {other} is not valid; use \"Allow\" or \"Deny\""
            )));
        }
    };
    let principals = parse_principals(
        required(map, "Principal", at)?,
        &format!("{at}.Principal"),
        scope.partition,
    )?;
    let actions = string_list(required(map, "Action", at)?, &format!("{at}.Action"))?
        .into_iter()
        .map(|action| parse_action(action, at))
        .collect::<Result<_, _>>()?;
    let resources = string_list(required(map, "Resource", at)?, &format!("{at}.Resource"))?
        .into_iter()
        .map(|resource| parse_resource(resource, at, scope))
        .collect::<Result<_, _>>()?;
    let conditions = match map.get("Condition") {
        Some(value) => parse_conditions(value, &format!("{at}.Condition"))?,
        None => Vec::new(),
    };
    Ok(Statement {
        effect,
        principals,
        actions,
        resources,
        conditions,
    })
}

fn parse_principals(
    value: &Value,
    at: &str,
    partition: &str,
) -> Result<Vec<Principal>, PolicyError> {
    let map = match value {
        Value::String(s) if s == "*" => return Ok(vec![Principal::Any]),
        Value::Object(map) if !map.is_empty() => map,
        _ => return Err(invalid(format!("{at} must be \"*\" or {{\"AWS\": ...}}"))),
    };
    if let Some(kind) = map.keys().find(|kind| *kind != "AWS") {
        return Err(invalid(format!(
            "{at}: principal type {kind} is not allowed; \
             only \"AWS\" principals (accounts and IAM users) can be named"
        )));
    }
    let at = format!("{at}.AWS");
    string_list(&map["AWS"], &at)?
        .into_iter()
        .map(|p| {
            parse_principal(p, partition).ok_or_else(|| {
                invalid(format!(
                    "{at}: \"{p}\" is not a valid principal; use \"*\", a 12-digit account ID, \
                     arn:{partition}:iam::<account>:root or \
                     arn:{partition}:iam::<account>:user/<name>"
                ))
            })
        })
        .collect()
}

fn parse_principal(p: &str, partition: &str) -> Option<Principal> {
    if p == "*" {
        return Some(Principal::Any);
    }
    if is_account(p) {
        return Some(Principal::Account(p.to_owned()));
    }
    let rest = p
        .strip_prefix("arn:")?
        .strip_prefix(partition)?
        .strip_prefix(":iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if !is_account(account) {
        return None;
    }
    if resource == "root" {
        return Some(Principal::Account(account.to_owned()));
    }
    let user = resource.strip_prefix("user/")?;
    // IAM user names and paths: `[\w+=,.@-]` segments separated by `/`.
    let valid = user.split('/').all(|segment| {
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    });
    valid.then(|| Principal::User(p.to_owned()))
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_action(action: &str, at: &str) -> Result<String, PolicyError> {
    let pattern = action.to_ascii_lowercase();
    if ALLOWED_ACTIONS
        .iter()
        .any(|allowed| wildcard_match(&pattern, &allowed.to_ascii_lowercase()))
    {
        Ok(pattern)
    } else {
        Err(invalid(format!(
            "{at}.Action: {action} is not allowed; allowed actions are {}",
            ALLOWED_ACTIONS.join(", ")
        )))
    }
}

/// A resource must name the access point itself or objects under the store prefix.
fn parse_resource(
    resource: &str,
    at: &str,
    scope: &PolicyScope<'_>,
) -> Result<String, PolicyError> {
    let ap = scope.access_point_arn;
    let objects = format!("{ap}/object/");
    let store_objects = format!("{objects}{}", scope.store_prefix);
    let literal = &resource[..resource.find(['*', '?']).unwrap_or(resource.len())];
    let inside = resource == ap
        || (resource.starts_with(&objects)
            && (literal.len() <= objects.len()
                || store_objects.starts_with(literal)
                || literal.starts_with(&store_objects)));
    if inside {
        Ok(resource.to_owned())
    } else {
        Err(invalid(format!(
            "{at}.Resource: {resource} is outside the store's access point; \
             use {ap} or {store_objects}*"
        )))
    }
}

fn parse_conditions(value: &Value, at: &str) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(blocks) = value else {
        return Err(invalid(format!(
            "{at} must be a JSON object of condition operators"
        )));
    };
    let mut conditions = Vec::new();
    for (name, keys) in blocks {
        let operator = Operator::parse(name)
            .ok_or_else(|| invalid(format!("{at}: unknown condition operator {name}")))?;
        let at = format!("{at}.{name}");
        let Value::Object(keys) = keys else {
            return Err(invalid(format!(
                "{at} must be a JSON object of condition keys"
            )));
        };
        for (key_name, values) in keys {
            let key = Key::parse(key_name).ok_or_else(|| {
                invalid(format!(
                    "{at}: condition key {key_name} is not allowed; \
                     allowed keys are {CONDITION_KEYS}"
                ))
            })?;
            let at = format!("{at}.{key_name}");
            let string_operator = matches!(operator.test, Test::StringEquals | Test::StringLike);
            if key == Key::PrincipalArn
                && !(operator.test == Test::Arn || (string_operator && !operator.negated))
            {
                return Err(invalid(format!(
                    "{at}: aws:PrincipalArn may only be used with ArnEquals, ArnLike, \
                     ArnNotEquals, ArnNotLike, StringEquals or StringLike"
                )));
            }
            let values = condition_values(values, &at)?;
            if let Some(bad) = values.iter().find(|v| !operator.test.accepts(v)) {
                return Err(invalid(format!(
                    "{at}: {bad} is not a valid value for {name}"
                )));
            }
            conditions.push(Condition {
                operator,
                key,
                values,
            });
        }
    }
    Ok(conditions)
}

/// A string, number or boolean, or a non-empty array of them; all kept as strings.
fn condition_values(value: &Value, at: &str) -> Result<Vec<String>, PolicyError> {
    let scalar = |value: &Value| match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(value.to_string()),
        _ => Err(invalid(format!(
            "{at}: condition values must be strings, numbers or booleans"
        ))),
    };
    match value {
        Value::Array(items) if items.is_empty() => Err(invalid(format!(
            "{at}: condition values must not be an empty array"
        ))),
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        let (base, if_exists) = match name.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (name, false),
        };
        let (test, negated) = match base {
            "StringEquals" => (Test::StringEquals, false),
            "StringNotEquals" => (Test::StringEquals, true),
            "StringEqualsIgnoreCase" => (Test::StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Test::StringEqualsIgnoreCase, true),
            "StringLike" => (Test::StringLike, false),
            "StringNotLike" => (Test::StringLike, true),
            "ArnEquals" | "ArnLike" => (Test::Arn, false),
            "ArnNotEquals" | "ArnNotLike" => (Test::Arn, true),
            "NumericEquals" => (Test::Numeric(NumericTest::Equals), false),
            "NumericNotEquals" => (Test::Numeric(NumericTest::Equals), true),
            "NumericLessThan" => (Test::Numeric(NumericTest::LessThan), false),
            "NumericLessThanEquals" => (Test::Numeric(NumericTest::LessThanEquals), false),
            "NumericGreaterThan" => (Test::Numeric(NumericTest::GreaterThan), false),
            "NumericGreaterThanEquals" => (Test::Numeric(NumericTest::GreaterThanEquals), false),
            "Null" if !if_exists => (Test::Null, false),
            _ => return None,
        };
        Some(Operator {
            test,
            negated,
            if_exists,
        })
    }
}

impl Test {
    /// Whether `value` can appear in the policy for this test.
    fn accepts(self, value: &str) -> bool {
        match self {
            Test::Null => value == "true" || value == "false",
            Test::Numeric(_) => value.parse::<f64>().is_ok(),
            Test::Arn => value.starts_with("arn:") && value.split(':').count() >= 6,
            _ => true,
        }
    }

    /// Whether the request's `actual` value satisfies the policy value `wanted`.
    fn matches(self, wanted: &str, actual: &str) -> bool {
        match self {
            Test::StringEquals => wanted == actual,
            Test::StringEqualsIgnoreCase => wanted.to_lowercase() == actual.to_lowercase(),
            Test::StringLike => wildcard_match(wanted, actual),
            Test::Arn => {
                let wanted: Vec<&str> = wanted.splitn(6, ':').collect();
                let actual: Vec<&str> = actual.splitn(6, ':').collect();
                wanted.len() == actual.len()
                    && wanted
                        .iter()
                        .zip(&actual)
                        .all(|(w, a)| wildcard_match(w, a))
            }
            Test::Numeric(test) => match (wanted.parse::<f64>(), actual.parse::<f64>()) {
                (Ok(wanted), Ok(actual)) => match test {
                    NumericTest::Equals => actual == wanted,
                    NumericTest::LessThan => actual < wanted,
                    NumericTest::LessThanEquals => actual <= wanted,
                    NumericTest::GreaterThan => actual > wanted,
                    NumericTest::GreaterThanEquals => actual >= wanted,
                },
                _ => false,
            },
            // Null never reaches here: it is decided on presence alone.
            Test::Null => false,
        }
    }
}

impl Key {
    /// Key names are case-insensitive; the tag key of `s3:ExistingObjectTag/<key>` is not.
    fn parse(name: &str) -> Option<Key> {
        const TAG: &str = "s3:existingobjecttag/";
        if name.len() > TAG.len() && name.is_char_boundary(TAG.len()) {
            let (head, tag) = name.split_at(TAG.len());
            if head.eq_ignore_ascii_case(TAG) {
                return Some(Key::ExistingObjectTag(tag.to_owned()));
            }
        }
        match name.to_ascii_lowercase().as_str() {
            "s3:prefix" => Some(Key::Prefix),
            "s3:signatureversion" => Some(Key::SignatureVersion),
            "s3:tlsversion" => Some(Key::TlsVersion),
            "aws:principalarn" => Some(Key::PrincipalArn),
            "aws:principalaccount" => Some(Key::PrincipalAccount),
            _ => None,
        }
    }

    fn value<'r>(&self, request: &AccessRequest<'r>) -> Option<&'r str> {
        match self {
            Key::ExistingObjectTag(tag) => request.object_tags?.get(tag).map(String::as_str),
            Key::Prefix => request.prefix,
            Key::SignatureVersion => Some(request.signature_version),
            // S3 reports the TLS version as a number (`1.2`), so it works with Numeric operators.
            Key::TlsVersion => request
                .tls_version
                .map(|v| v.strip_prefix("TLSv").unwrap_or(v)),
            Key::PrincipalArn => Some(request.principal_arn),
            Key::PrincipalAccount => Some(request.principal_account),
        }
    }
}

impl Condition {
    /// Values OR; a negated operator holds when no value matches. A missing key makes
    /// positive operators false and negated ones true (as IAM does), unless `IfExists`.
    fn holds(&self, request: &AccessRequest<'_>) -> bool {
        let actual = self.key.value(request);
        match (self.operator.test, actual) {
            (Test::Null, actual) => self
                .values
                .iter()
                .any(|wanted| (wanted == "true") == actual.is_none()),
            (_, None) => self.operator.if_exists || self.operator.negated,
            (test, Some(actual)) => {
                let any = self
                    .values
                    .iter()
                    .any(|wanted| test.matches(wanted, actual));
                any != self.operator.negated
            }
        }
    }
}

impl Statement {
    fn matches(&self, request: &AccessRequest<'_>) -> bool {
        let action = request.action.to_ascii_lowercase();
        self.principals.iter().any(|p| p.matches(request))
            && self.actions.iter().any(|a| wildcard_match(a, &action))
            && self
                .resources
                .iter()
                .any(|r| wildcard_match(r, request.resource))
            && self.conditions.iter().all(|c| c.holds(request))
    }
}

impl Principal {
    fn matches(&self, request: &AccessRequest<'_>) -> bool {
        match self {
            Principal::Any => true,
            Principal::Account(account) => request.principal_account == account,
            Principal::User(arn) => request.principal_arn == arn,
        }
    }
}

/// IAM wildcard match: `*` is any sequence, `?` any one character; case-sensitive.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Position of the last `*` and the text position it currently stands for.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if pattern.get(p) == Some(&'*') {
            star = Some((p, t));
            p += 1;
        } else if pattern.get(p).is_some_and(|&c| c == '?' || c == text[t]) {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            star = Some((star_p, star_t + 1));
            p = star_p + 1;
            t = star_t + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests;
