//! Conditional reads: `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`.
//!
//! Evaluated as S3 does (RFC 9110 §13.2.2): the 412 checks first, then the 304 checks; an
//! `If-Match` that holds makes `If-Unmodified-Since` irrelevant, an `If-None-Match` that holds
//! makes `If-Modified-Since` irrelevant. Times compare at whole seconds, the resolution of
//! HTTP dates.

use s3s::dto::{ETagCondition, Timestamp};

/// The condition headers of a GetObject or HeadObject request.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Conditions<'a> {
    pub(crate) if_match: Option<&'a ETagCondition>,
    pub(crate) if_none_match: Option<&'a ETagCondition>,
    pub(crate) if_modified_since: Option<&'a Timestamp>,
    pub(crate) if_unmodified_since: Option<&'a Timestamp>,
}

/// What the conditions decide for one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Serve the object.
    Proceed,
    /// `304 Not Modified`.
    NotModified,
    /// `412 Precondition Failed`.
    PreconditionFailed,
}

impl Conditions<'_> {
    /// Decides for an object with entity tag `etag` (unquoted), last modified at `modified`
    /// (Unix seconds).
    pub(crate) fn evaluate(&self, etag: &str, modified: i64) -> Verdict {
        match self.if_match {
            Some(cond) if !matches(cond, etag) => return Verdict::PreconditionFailed,
            Some(_) => {}
            None => {
                if self
                    .if_unmodified_since
                    .is_some_and(|since| modified > seconds(since))
                {
                    return Verdict::PreconditionFailed;
                }
            }
        }
        match self.if_none_match {
            Some(cond) if matches(cond, etag) => return Verdict::NotModified,
            Some(_) => {}
            None => {
                if self
                    .if_modified_since
                    .is_some_and(|since| modified <= seconds(since))
                {
                    return Verdict::NotModified;
                }
            }
        }
        Verdict::Proceed
    }
}

/// `*` matches any existing object; a tag matches by value (S3 does not tell weak from strong).
fn matches(cond: &ETagCondition, etag: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(tag) => tag.value() == etag,
    }
}

fn seconds(ts: &Timestamp) -> i64 {
    time::OffsetDateTime::from(ts.clone()).unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3s::dto::ETag;

    const MODIFIED: i64 = 1_700_000_000;

    fn tag(v: &str) -> ETagCondition {
        ETagCondition::ETag(ETag::Strong(v.to_owned()))
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from(time::OffsetDateTime::from_unix_timestamp(secs).unwrap())
    }

    #[test]
    fn no_conditions_proceed() {
        assert_eq!(
            Conditions::default().evaluate("abc", MODIFIED),
            Verdict::Proceed
        );
    }

    #[test]
    fn if_match() {
        let (hit, miss, any) = (tag("abc"), tag("xyz"), ETagCondition::Any);
        let c = |m| Conditions {
            if_match: Some(m),
            ..Default::default()
        };
        assert_eq!(c(&hit).evaluate("abc", MODIFIED), Verdict::Proceed);
        assert_eq!(
            c(&miss).evaluate("abc", MODIFIED),
            Verdict::PreconditionFailed
        );
        assert_eq!(c(&any).evaluate("abc", MODIFIED), Verdict::Proceed);
    }

    #[test]
    fn weak_tags_match_by_value() {
        let weak = ETagCondition::ETag(ETag::Weak("abc".into()));
        let c = Conditions {
            if_none_match: Some(&weak),
            ..Default::default()
        };
        assert_eq!(c.evaluate("abc", MODIFIED), Verdict::NotModified);
    }

    #[test]
    fn if_none_match() {
        let (hit, miss, any) = (tag("abc"), tag("xyz"), ETagCondition::Any);
        let c = |m| Conditions {
            if_none_match: Some(m),
            ..Default::default()
        };
        assert_eq!(c(&hit).evaluate("abc", MODIFIED), Verdict::NotModified);
        assert_eq!(c(&miss).evaluate("abc", MODIFIED), Verdict::Proceed);
        assert_eq!(c(&any).evaluate("abc", MODIFIED), Verdict::NotModified);
    }

    #[test]
    fn if_modified_since_at_second_resolution() {
        let (same, before, after) = (at(MODIFIED), at(MODIFIED - 1), at(MODIFIED + 1));
        let c = |t| Conditions {
            if_modified_since: Some(t),
            ..Default::default()
        };
        assert_eq!(c(&same).evaluate("abc", MODIFIED), Verdict::NotModified);
        assert_eq!(c(&after).evaluate("abc", MODIFIED), Verdict::NotModified);
        assert_eq!(c(&before).evaluate("abc", MODIFIED), Verdict::Proceed);
    }

    #[test]
    fn if_unmodified_since() {
        let (same, before) = (at(MODIFIED), at(MODIFIED - 1));
        let c = |t| Conditions {
            if_unmodified_since: Some(t),
            ..Default::default()
        };
        assert_eq!(c(&same).evaluate("abc", MODIFIED), Verdict::Proceed);
        assert_eq!(
            c(&before).evaluate("abc", MODIFIED),
            Verdict::PreconditionFailed
        );
    }

    #[test]
    fn a_holding_if_match_overrides_if_unmodified_since() {
        let (hit, before) = (tag("abc"), at(MODIFIED - 1));
        let c = Conditions {
            if_match: Some(&hit),
            if_unmodified_since: Some(&before),
            ..Default::default()
        };
        assert_eq!(c.evaluate("abc", MODIFIED), Verdict::Proceed);
    }

    #[test]
    fn a_failing_if_none_match_overrides_if_modified_since() {
        let (miss, after) = (tag("xyz"), at(MODIFIED + 1));
        let c = Conditions {
            if_none_match: Some(&miss),
            if_modified_since: Some(&after),
            ..Default::default()
        };
        assert_eq!(c.evaluate("abc", MODIFIED), Verdict::Proceed);
    }

    #[test]
    fn precondition_failure_wins_over_not_modified() {
        let (miss, hit) = (tag("xyz"), tag("abc"));
        let c = Conditions {
            if_match: Some(&miss),
            if_none_match: Some(&hit),
            ..Default::default()
        };
        assert_eq!(c.evaluate("abc", MODIFIED), Verdict::PreconditionFailed);
    }
}
