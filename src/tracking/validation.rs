//! MLflow's validation rules (`mlflow/utils/validation.py`): names, lengths, batch limits.
//! Messages follow MLflow's wording so a user sees the same explanation either way.

use crate::api::{ApiError, ApiResult};

pub const MAX_PARAMS_TAGS_PER_BATCH: usize = 100;
pub const MAX_METRICS_PER_BATCH: usize = 1000;
pub const MAX_ENTITIES_PER_BATCH: usize = 1000;
pub const MAX_PARAM_VAL_LENGTH: usize = 6000;
pub const MAX_TAG_VAL_LENGTH: usize = 8000;
pub const MAX_EXPERIMENT_NAME_LENGTH: usize = 500;
pub const MAX_EXPERIMENT_TAG_KEY_LENGTH: usize = 250;
pub const MAX_EXPERIMENT_TAG_VAL_LENGTH: usize = 20000;
pub const MAX_ENTITY_KEY_LENGTH: usize = 250;
pub const MAX_DATASET_NAME_SIZE: usize = 500;
pub const MAX_DATASET_DIGEST_SIZE: usize = 36;
pub const MAX_DATASET_SOURCE_SIZE: usize = 65535;
pub const MAX_INPUT_TAG_KEY_SIZE: usize = 255;
pub const MAX_INPUT_TAG_VALUE_SIZE: usize = 500;

fn with_path(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

pub fn invalid_value(path: &str, value: &str, why: &str) -> String {
    let shown = serde_json::to_string(value).unwrap_or_default();
    if why.is_empty() {
        format!("Invalid value {shown} for parameter '{path}' supplied.")
    } else {
        format!("Invalid value {shown} for parameter '{path}' supplied: {why}")
    }
}

pub fn missing_value(path: &str) -> String {
    format!("Missing value for required parameter '{path}'.")
}

pub fn exceeds_maximum_length(path: &str, limit: usize) -> String {
    format!("'{path}' exceeds the maximum length of {limit} characters")
}

const BAD_CHARACTERS: &str = "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).";

/// Python's `posixpath.normpath`, enough to tell whether a name would alias another as a file path.
fn normpath(name: &str) -> String {
    let absolute = name.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

fn path_not_unique(name: &str) -> bool {
    let norm = normpath(name);
    norm != name || norm == "." || norm.starts_with("..") || norm.starts_with('/')
}

fn valid_name_chars(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | '-' | ' ' | ':'))
}

/// Shared rule of metric, param and tag keys.
pub fn validate_key(kind: &str, name: &str, path: &str) -> ApiResult<()> {
    if !valid_name_chars(name) {
        return Err(ApiError::invalid(invalid_value(path, name, BAD_CHARACTERS)));
    }
    if path_not_unique(name) {
        let why = format!(
            "Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '{}'",
            normpath(name)
        );
        return Err(ApiError::invalid(invalid_value(path, name, &why)));
    }
    if name.chars().count() > MAX_ENTITY_KEY_LENGTH {
        return Err(ApiError::invalid(exceeds_maximum_length(
            &format!("{kind} name"),
            MAX_ENTITY_KEY_LENGTH,
        )));
    }
    Ok(())
}

pub fn validate_param(key: &str, value: &str, path: &str) -> ApiResult<()> {
    validate_key("Param", key, &with_path(path, "key"))?;
    if value.chars().count() > MAX_PARAM_VAL_LENGTH {
        return Err(ApiError::invalid(exceeds_maximum_length(
            "Param value",
            MAX_PARAM_VAL_LENGTH,
        )));
    }
    Ok(())
}

pub fn validate_tag(key: &str, value: &str, path: &str) -> ApiResult<()> {
    validate_key("Tag", key, &with_path(path, "key"))?;
    if value.chars().count() > MAX_TAG_VAL_LENGTH {
        return Err(ApiError::invalid(exceeds_maximum_length(
            &with_path(path, "value"),
            MAX_TAG_VAL_LENGTH,
        )));
    }
    Ok(())
}

pub fn validate_metric(key: &str, timestamp: i64, path: &str) -> ApiResult<()> {
    validate_key("Metric", key, &with_path(path, "name"))?;
    if timestamp < 0 {
        return Err(ApiError::invalid(invalid_value(
            &with_path(path, "timestamp"),
            &timestamp.to_string(),
            &format!("metric '{key}'. Timestamp must be a nonnegative long (64-bit integer) "),
        )));
    }
    Ok(())
}

pub fn validate_experiment_name(name: &str) -> ApiResult<()> {
    if name.is_empty() {
        return Err(ApiError::invalid(format!(
            "Invalid experiment name: '{name}'"
        )));
    }
    if name.chars().count() > MAX_EXPERIMENT_NAME_LENGTH {
        return Err(ApiError::invalid(exceeds_maximum_length(
            "name",
            MAX_EXPERIMENT_NAME_LENGTH,
        )));
    }
    Ok(())
}

pub fn validate_experiment_tag(key: &str, value: &str) -> ApiResult<()> {
    validate_key("Tag", key, "key")?;
    if key.chars().count() > MAX_EXPERIMENT_TAG_KEY_LENGTH {
        return Err(ApiError::invalid(exceeds_maximum_length(
            "key",
            MAX_EXPERIMENT_TAG_KEY_LENGTH,
        )));
    }
    if value.chars().count() > MAX_EXPERIMENT_TAG_VAL_LENGTH {
        return Err(ApiError::invalid(exceeds_maximum_length(
            "value",
            MAX_EXPERIMENT_TAG_VAL_LENGTH,
        )));
    }
    Ok(())
}

pub fn validate_run_id(run_id: &str) -> ApiResult<()> {
    let mut chars = run_id.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && run_id.len() <= 256
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(invalid_value("run_id", run_id, "")))
    }
}

pub fn parse_experiment_id(id: &str) -> ApiResult<i64> {
    id.trim().parse::<i64>().map_err(|_| {
        ApiError::invalid(format!(
            "Invalid experiment ID '{id}'. Experiment ID must be a valid integer."
        ))
    })
}

pub fn validate_batch_limits(metrics: usize, params: usize, tags: usize) -> ApiResult<()> {
    let check = |name: &str, limit: usize, len: usize| {
        if len > limit {
            Err(ApiError::invalid(format!(
                "A batch logging request can contain at most {limit} {name}. Got {len} {name}. Please split up {name} across multiple requests and try again."
            )))
        } else {
            Ok(())
        }
    };
    check("metrics", MAX_METRICS_PER_BATCH, metrics)?;
    check("params", MAX_PARAMS_TAGS_PER_BATCH, params)?;
    check("tags", MAX_PARAMS_TAGS_PER_BATCH, tags)?;
    check(
        "metrics, params, and tags",
        MAX_ENTITIES_PER_BATCH,
        metrics + params + tags,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorCode;

    #[test]
    fn keys_follow_mlflow_character_and_path_rules() {
        assert!(validate_key("Param", "alpha", "key").is_ok());
        assert!(validate_key("Param", "train/loss: v1", "key").is_ok());
        let e = validate_key("Param", "a*b", "key").unwrap_err();
        assert_eq!(e.error_code, ErrorCode::InvalidParameterValue);
        assert!(
            e.message.contains("Names may only contain"),
            "{}",
            e.message
        );
        for bad in ["../x", "/abs", "a//b", "a/./b", ".", "a/"] {
            let e = validate_key("Param", bad, "key").unwrap_err();
            assert!(
                e.message.contains("must not resolve to other names"),
                "{bad}: {}",
                e.message
            );
        }
        let long = "k".repeat(251);
        assert!(validate_key("Param", &long, "key")
            .unwrap_err()
            .message
            .contains("250"));
    }

    #[test]
    fn values_and_batches_have_limits() {
        assert!(validate_param("p", &"v".repeat(6000), "").is_ok());
        assert!(validate_param("p", &"v".repeat(6001), "").is_err());
        assert!(validate_tag("t", &"v".repeat(8001), "").is_err());
        assert!(validate_batch_limits(1000, 0, 0).is_ok());
        let e = validate_batch_limits(1001, 0, 0).unwrap_err();
        assert!(e.message.contains("at most 1000 metrics"));
        assert!(validate_batch_limits(0, 101, 0).is_err());
        assert!(validate_batch_limits(900, 100, 1)
            .unwrap_err()
            .message
            .contains("metrics, params, and tags"));
    }

    #[test]
    fn ids_are_checked() {
        assert!(validate_run_id("0123abcd").is_ok());
        assert!(validate_run_id("").is_err());
        assert!(validate_run_id("../etc").is_err());
        assert_eq!(parse_experiment_id("12").unwrap(), 12);
        assert!(parse_experiment_id("x1").is_err());
    }
}
