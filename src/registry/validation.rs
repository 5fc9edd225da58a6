//! MLflow's registry validation rules (`mlflow/utils/validation.py`, `model_version_stages.py`),
//! with MLflow's messages.

use crate::api::{ApiError, ApiResult, ErrorCode};
use crate::tracking::validation::{exceeds_maximum_length, invalid_value, missing_value};

pub const MAX_MODEL_REGISTRY_TAG_KEY_LENGTH: usize = 250;
pub const MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH: usize = 100_000;
pub const MAX_REGISTERED_MODEL_ALIAS_LENGTH: usize = 255;

pub const STAGE_NONE: &str = "None";
pub const STAGE_STAGING: &str = "Staging";
pub const STAGE_PRODUCTION: &str = "Production";
pub const STAGE_ARCHIVED: &str = "Archived";
/// The stage MLflow gives a deleted version: the row stays, so its number is never reused.
pub const STAGE_DELETED_INTERNAL: &str = "Deleted_Internal";
pub const ALL_STAGES: [&str; 4] = [STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED];
/// The stages `archive_existing_versions` may be used with.
pub const ACTIVE_STAGES: [&str; 2] = [STAGE_STAGING, STAGE_PRODUCTION];

/// The tag that marks a registered model as a prompt (MLflow's prompt registry shares the tables).
pub const IS_PROMPT_TAG_KEY: &str = "mlflow.prompt.is_prompt";
/// The logged-model tag listing the registered versions made from it.
pub const MODEL_VERSIONS_TAG: &str = "mlflow.modelVersions";

const BAD_CHARACTERS: &str = "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).";
const BAD_ALIAS_CHARACTERS: &str =
    "Names may only contain alphanumerics, underscores (_), and dashes (-).";

/// MLflow's canonical stage for any capitalisation ("production" → "Production").
pub fn canonical_stage(stage: &str) -> ApiResult<&'static str> {
    let lower = stage.to_lowercase();
    ALL_STAGES
        .iter()
        .find(|s| s.to_lowercase() == lower)
        .copied()
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid Model Version stage: {stage}. Value must be one of {}.",
                ALL_STAGES.join(", ")
            ))
        })
}

/// Python's `posixpath.normpath`.
pub(crate) fn normpath(name: &str) -> String {
    if name.is_empty() {
        return ".".into();
    }
    // POSIX keeps exactly two leading slashes, collapses three or more to one.
    let lead = if name.starts_with("//") && !name.starts_with("///") {
        "//"
    } else if name.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if lead.is_empty() {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = format!("{lead}{}", parts.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

fn path_not_unique(name: &str) -> bool {
    let norm = normpath(name);
    norm != name || norm == "." || norm.starts_with("..") || norm.starts_with('/')
}

fn bad_path_message(name: &str) -> String {
    format!(
        "Names may be treated as files in certain cases, and must not resolve to other names when treated as such. \
         This name would resolve to {}",
        py_repr(&normpath(name))
    )
}

/// Python's `repr()` of a string, as MLflow's messages print names with `!r`.
pub(crate) fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a list of strings.
pub(crate) fn py_list_repr<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| py_repr(s.as_ref())).collect();
    format!("[{}]", inner.join(", "))
}

pub fn validate_model_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid(missing_value("name")));
    }
    if name.contains('/') || name.contains(':') {
        return Err(ApiError::invalid(format!(
            "Invalid model name '{name}'. Names cannot contain '/' or ':'."
        )));
    }
    if path_not_unique(name) {
        return Err(ApiError::invalid(invalid_value(
            "name",
            name,
            &bad_path_message(name),
        )));
    }
    Ok(())
}

pub fn validate_model_renaming(new_name: &str) -> ApiResult<()> {
    if new_name.trim().is_empty() {
        return Err(ApiError::invalid(missing_value("new_name")));
    }
    validate_model_name(new_name)
}

/// A version number as MLflow reads it (`int(version)`), with MLflow's message otherwise.
pub fn parse_version(version: &str) -> ApiResult<i64> {
    let t = version.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let ok = !clean.is_empty()
        && clean.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__");
    let parsed = if ok {
        clean
            .parse::<i64>()
            .ok()
            .map(|n| if t.starts_with('-') { -n } else { n })
    } else {
        None
    };
    parsed.ok_or_else(|| {
        ApiError::invalid(format!(
            "Parameter 'version' must be an integer, got '{version}'."
        ))
    })
}

/// `_validate_tag_name`: a tag key follows the param/metric name rules.
pub fn validate_tag_name(key: &str) -> ApiResult<()> {
    let valid = key
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | '-' | ' ' | ':'));
    if !valid {
        return Err(ApiError::invalid(invalid_value("key", key, BAD_CHARACTERS)));
    }
    if path_not_unique(key) {
        return Err(ApiError::invalid(invalid_value(
            "key",
            key,
            &bad_path_message(key),
        )));
    }
    Ok(())
}

fn validate_length(entity: &str, limit: usize, value: &str) -> ApiResult<()> {
    if value.chars().count() > limit {
        return Err(ApiError::invalid(exceeds_maximum_length(entity, limit)));
    }
    Ok(())
}

pub fn validate_registered_model_tag(key: &str, value: &str) -> ApiResult<()> {
    validate_tag_name(key)?;
    validate_length("key", MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, key)?;
    validate_length("value", MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, value)
}

pub fn validate_model_version_tag(key: &str, value: &str) -> ApiResult<()> {
    validate_tag_name(key)?;
    validate_length("key", MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, key)?;
    if key == "mlflow.prompt.text" && value.chars().count() > MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH {
        return Err(ApiError::invalid(format!(
            "Prompt text exceeds max length of {MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH} characters."
        )));
    }
    validate_length("value", MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, value)
}

pub fn validate_alias_name(alias: &str) -> ApiResult<()> {
    if alias.is_empty() {
        return Err(ApiError::invalid(
            "Registered model alias name cannot be empty.",
        ));
    }
    if !alias
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ApiError::invalid(format!(
            "Invalid alias name: '{alias}'. {BAD_ALIAS_CHARACTERS}"
        )));
    }
    validate_length(
        "Registered model alias name",
        MAX_REGISTERED_MODEL_ALIAS_LENGTH,
        alias,
    )
}

/// `latest` and `v<N>` are what `models:/name@...` URIs could not tell from a version.
pub fn validate_alias_not_reserved(alias: &str) -> ApiResult<()> {
    if alias.to_lowercase() == "latest" {
        return Err(ApiError::invalid(
            "'latest' alias name (case insensitive) is reserved.",
        ));
    }
    let mut chars = alias.chars();
    if matches!(chars.next(), Some('v' | 'V')) && {
        let rest = chars.as_str();
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
    } {
        return Err(ApiError::invalid(format!(
            "Version alias name '{alias}' is reserved."
        )));
    }
    Ok(())
}

/// An `MlflowException` raised without an error code: MLflow answers it as INTERNAL_ERROR (500).
pub(crate) fn uncoded(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InternalError, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_canonical_whatever_the_case() {
        assert_eq!(canonical_stage("production").unwrap(), "Production");
        assert_eq!(canonical_stage("NONE").unwrap(), "None");
        assert_eq!(
            canonical_stage("prod").unwrap_err().message,
            "Invalid Model Version stage: prod. Value must be one of None, Staging, Production, Archived."
        );
    }

    #[test]
    fn names_versions_and_aliases_follow_mlflow() {
        assert!(validate_model_name("ok name").is_ok());
        assert_eq!(
            validate_model_name("..").unwrap_err().message,
            "Invalid value \"..\" for parameter 'name' supplied: Names may be treated as files in certain cases, \
             and must not resolve to other names when treated as such. This name would resolve to '..'"
        );
        assert_eq!(parse_version(" 12 ").unwrap(), 12);
        assert_eq!(parse_version("1_0").unwrap(), 10);
        assert!(parse_version("abc").is_err());
        assert!(parse_version("").is_err());
        assert!(validate_alias_not_reserved("V12").is_err());
        assert!(validate_alias_not_reserved("v1x").is_ok());
        assert!(validate_alias_name("a.b").is_err());
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_list_repr(&["a", "b"]), "['a', 'b']");
        assert_eq!(normpath("a/../b"), "b");
        assert_eq!(normpath("//a//b/"), "//a/b");
    }
}
