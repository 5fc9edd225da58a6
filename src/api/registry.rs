//! Model registry endpoints of MLflow's REST API (`registered-models/*`, `model-versions/*`).

use super::{not_found, ApiResult};
use crate::tracking::Store;
use serde_json::Value;

pub(super) fn dispatch(
    _store: &mut Store,
    method: &str,
    endpoint: &str,
    _json: Value,
) -> ApiResult<Value> {
    Err(not_found(method, endpoint))
}
