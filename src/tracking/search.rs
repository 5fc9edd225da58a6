//! MLflow's search: filter grammar, order_by and page tokens, compiled to SQL over MLflow's schema.
//! PLACEHOLDER until the real implementation lands: no filtering yet.
use crate::api::ApiResult;
use rusqlite::Connection;
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewType {
    #[default]
    ActiveOnly,
    DeletedOnly,
    All,
}
impl ViewType {
    pub fn parse(_s: &str) -> ApiResult<ViewType> {
        Ok(ViewType::All)
    }
}
#[derive(Debug, Clone, Default)]
pub struct RunSearch {
    pub experiment_ids: Vec<String>,
    pub filter: String,
    pub view: ViewType,
    pub max_results: Option<i64>,
    pub order_by: Vec<String>,
    pub page_token: Option<String>,
}
pub fn search_runs(conn: &Connection, q: &RunSearch) -> ApiResult<(Vec<String>, Option<String>)> {
    let ids: Vec<String> = conn
        .prepare("SELECT run_uuid FROM runs ORDER BY start_time DESC")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let _ = q;
    Ok((ids, None))
}
#[derive(Debug, Clone, Default)]
pub struct ExperimentSearch {
    pub filter: String,
    pub view: ViewType,
    pub max_results: Option<i64>,
    pub order_by: Vec<String>,
    pub page_token: Option<String>,
}
pub fn search_experiments(
    conn: &Connection,
    q: &ExperimentSearch,
) -> ApiResult<(Vec<i64>, Option<String>)> {
    let ids: Vec<i64> = conn
        .prepare("SELECT experiment_id FROM experiments")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let _ = q;
    Ok((ids, None))
}
