//! A training request as JSON, the form the browser's Train page sends to the worker:
//!
//! ```json
//! {"experiment": "course", "dataset": "taxi-trips", "rows": 2000, "seed": 42, "model": "Lasso",
//!  "params": {"alpha": "0.1"}, "autolog": true, "log_model": false, "run_name": "lasso",
//!  "tune": {"algo": "tpe", "max_evals": 20, "space": {"alpha": ["loguniform", -7, 0]}}}
//! ```

use super::data;
use super::estimators::Estimator;
use super::train::TrainSpec;
use super::tuning::{self, Algo, SearchSpec};
use serde_json::Value;

/// One training run, or a search of many.
#[derive(Debug, Clone)]
pub enum Request {
    Train(Box<TrainSpec>),
    Search(Box<SearchSpec>),
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

pub fn parse(v: &Value) -> Result<Request, String> {
    let field = |k: &str| v.get(k).filter(|x| !x.is_null());
    let string = |k: &str| field(k).and_then(Value::as_str).map(str::to_string);
    let experiment = string("experiment")
        .filter(|s| !s.trim().is_empty())
        .ok_or("name the experiment")?;
    let csv = field("csv");
    let dataset = string("dataset").unwrap_or_default();
    if csv.is_none() && dataset.is_empty() {
        return Err("choose a data set".into());
    }
    let rows = field("rows")
        .and_then(Value::as_u64)
        .unwrap_or(2000)
        .clamp(10, 1_000_000) as usize;
    let seed = field("seed").and_then(Value::as_u64).unwrap_or(42);
    let model = string("model").ok_or("choose a model")?;
    let mut estimator = Estimator::new(&model)?;
    let mut explicit = Vec::new();
    if let Some(params) = field("params") {
        let map = params
            .as_object()
            .ok_or("params must be an object of name: value")?;
        for (k, value) in map {
            let value = text(value);
            estimator = estimator.set(k, &value)?;
            explicit.push((k.clone(), value));
        }
    }
    let data = match csv {
        Some(csv) => user_csv(csv, estimator.task())?,
        None => data::builtin(&dataset, rows, seed)?,
    };
    let mut spec = TrainSpec::new(&experiment, data, estimator);
    spec.explicit_params = explicit;
    spec.seed = seed;
    spec.autolog = field("autolog").and_then(Value::as_bool).unwrap_or(false);
    spec.log_model = field("log_model").and_then(Value::as_bool).unwrap_or(false);
    spec.scale = field("scale").and_then(Value::as_bool).unwrap_or(false);
    spec.run_name = string("run_name").filter(|s| !s.trim().is_empty());
    if let Some(tags) = field("tags") {
        let map = tags
            .as_object()
            .ok_or("tags must be an object of name: value")?;
        spec.tags = map.iter().map(|(k, v)| (k.clone(), text(v))).collect();
    }
    if let Some(post) = field("post") {
        spec.post = serde_json::from_value(post.clone()).map_err(|e| {
            format!("post must be a list of post-processing steps ({{\"step\": \"adjust\" | \"wrap\", …}}): {e}")
        })?;
    }
    if let Some(columns) = field("columns") {
        // Only these feature columns (a notebook's `df[[...]]`).
        let keep: Vec<String> = serde_json::from_value(columns.clone())
            .map_err(|_| "columns must be a list of column names")?;
        if let Some(missing) = keep.iter().find(|c| spec.data.features.column(c).is_none()) {
            return Err(format!(
                "the data set has no column '{missing}' (its columns: {})",
                spec.data.features.names.join(", ")
            ));
        }
        let drop: Vec<String> = spec
            .data
            .features
            .names
            .iter()
            .filter(|n| !keep.contains(n))
            .cloned()
            .collect();
        spec.data.features = spec.data.features.without(&drop);
    }
    if let Some(lookups) = field("feature_lookups") {
        spec.lookups = serde_json::from_value(lookups.clone()).map_err(|e| {
            format!("feature_lookups must be a list of {{\"table_name\", \"lookup_key\"}}: {e}")
        })?;
    }
    let Some(tune) = field("tune") else {
        return Ok(Request::Train(Box::new(spec)));
    };
    let algo = Algo::parse(tune.get("algo").and_then(Value::as_str).unwrap_or("tpe"))?;
    let max_evals = tune.get("max_evals").and_then(Value::as_u64).unwrap_or(0) as usize;
    if !(1..=500).contains(&max_evals) {
        return Err("max_evals must be between 1 and 500".into());
    }
    let space = tuning::parse_space(tune.get("space").unwrap_or(&Value::Null))?;
    let algo = match algo {
        // A short search still learns: at most half its trials are random start-up trials.
        Algo::Tpe {
            startup,
            gamma,
            candidates,
        } => Algo::Tpe {
            startup: startup.min(max_evals.div_ceil(2)).max(1),
            gamma,
            candidates,
        },
        other => other,
    };
    Ok(Request::Search(Box::new(SearchSpec {
        base: spec,
        space,
        algo,
        max_evals,
        seed,
    })))
}

/// The user's CSV: `{"name", "text", "target", "features": [...], "categorical": [...]}`.
fn user_csv(v: &Value, task: data::Task) -> Result<data::Dataset, String> {
    let string = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let list = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    if string("target").is_empty() {
        return Err("choose the CSV's target column".into());
    }
    let name = Some(string("name"))
        .filter(|n| !n.is_empty())
        .unwrap_or("data.csv");
    data::parse_csv(
        name,
        string("text"),
        string("target"),
        &list("features"),
        &list("categorical"),
        task,
    )
    .map_err(|e| format!("{name}: {e}"))
}

/// An evaluation request: `{"experiment", "model_uri", "reference": {"dataset", "rows", "seed"},
/// "current": {...}}`, the data sets built-in or generated.
pub struct EvaluationRequest {
    pub experiment: String,
    pub model_uri: String,
    pub reference: data::Dataset,
    pub current: data::Dataset,
}

pub fn parse_evaluation(v: &Value) -> Result<EvaluationRequest, String> {
    let string = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let set = |k: &str| -> Result<data::Dataset, String> {
        let spec = v.get(k).ok_or_else(|| format!("choose the {k} data"))?;
        let name = spec
            .get("dataset")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("choose the {k} data set"))?;
        let rows = spec
            .get("rows")
            .and_then(Value::as_u64)
            .unwrap_or(500)
            .clamp(10, 1_000_000) as usize;
        let seed = spec.get("seed").and_then(Value::as_u64).unwrap_or(1);
        data::builtin(name, rows, seed)
    };
    Ok(EvaluationRequest {
        experiment: string("experiment")
            .filter(|s| !s.trim().is_empty())
            .ok_or("name the experiment")?,
        model_uri: string("model_uri")
            .filter(|s| !s.trim().is_empty())
            .ok_or("give the model URI")?,
        reference: set("reference")?,
        current: set("current")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_parse_and_bad_ones_name_the_problem() {
        let r = parse(&json!({"experiment": "e", "dataset": "diabetes", "model": "Lasso", "params": {"alpha": 0.1}})).unwrap();
        assert!(
            matches!(r, Request::Train(s) if s.explicit_params == vec![("alpha".to_string(), "0.1".to_string())])
        );
        let r = parse(
            &json!({"experiment": "e", "dataset": "diabetes", "model": "Lasso",
            "tune": {"algo": "tpe", "max_evals": 6, "space": {"alpha": ["loguniform", -5, 0]}}}),
        )
        .unwrap();
        assert!(
            matches!(r, Request::Search(s) if s.max_evals == 6 && matches!(s.algo, Algo::Tpe { startup: 3, .. }))
        );
        let err = |v: Value| parse(&v).unwrap_err();
        assert!(err(json!({"dataset": "diabetes", "model": "Lasso"})).contains("experiment"));
        assert!(
            err(json!({"experiment": "e", "dataset": "nope", "model": "Lasso"}))
                .contains("unknown data set")
        );
        assert!(err(json!({"experiment": "e", "dataset": "diabetes", "model": "Lasso", "params": {"alpha": "x"}})).contains("not a number"));
        assert!(err(json!({"experiment": "e", "dataset": "diabetes", "model": "Lasso", "tune": {"max_evals": 0}})).contains("max_evals"));
    }

    #[test]
    fn a_csv_request_trains_on_the_users_columns_and_bad_csvs_name_the_problem() {
        let text = "zone,km,minutes\na,1.5,6\nb,2.0,8\na,3.1,11\n";
        let csv = |target: &str, text: &str| {
            json!({"experiment": "e", "model": "LinearRegression",
                   "csv": {"name": "trips.csv", "text": text, "target": target, "categorical": ["zone"]}})
        };
        let Request::Train(spec) = parse(&csv("minutes", text)).unwrap() else {
            panic!("a single run")
        };
        assert_eq!(spec.data.name, "trips.csv");
        assert_eq!(spec.data.features.names, ["zone", "km"]);
        assert_eq!(spec.data.target, [6.0, 8.0, 11.0]);
        let err = |v: Value| parse(&v).unwrap_err();
        assert_eq!(
            err(csv("zone", text)),
            "trips.csv: the target 'zone' must be numeric: row 1 holds 'a'"
        );
        assert_eq!(
            err(csv("minutes", "zone,km,minutes\na,1.5\n")),
            "trips.csv: line 2 has 2 fields, the header has 3"
        );
        assert_eq!(err(csv("", text)), "choose the CSV's target column");
    }

    #[test]
    fn tags_post_processing_columns_and_lookups_parse() {
        let r = parse(
            &json!({"experiment": "e", "dataset": "taxi-trips", "model": "Lasso",
            "tags": {"developer": "marcus"}, "columns": ["PULocationID", "trip_distance"],
            "post": [{"step": "wrap", "key": "predictions"}],
            "feature_lookups": [{"table_name": "zones", "lookup_key": "PULocationID"}]}),
        )
        .unwrap();
        let Request::Train(spec) = r else {
            panic!("a single run")
        };
        assert_eq!(spec.tags, [("developer".to_string(), "marcus".to_string())]);
        assert_eq!(spec.data.features.names, ["PULocationID", "trip_distance"]);
        assert_eq!(spec.post.len(), 1);
        assert_eq!(spec.lookups[0].table_name, "zones");
        let err = |v: Value| parse(&v).unwrap_err();
        assert!(err(json!({"experiment": "e", "dataset": "taxi-trips", "model": "Lasso", "columns": ["nope"]}))
            .starts_with("the data set has no column 'nope'"));
        assert!(err(json!({"experiment": "e", "dataset": "taxi-trips", "model": "Lasso", "post": [{"step": "explode"}]}))
            .starts_with("post must be a list"));
    }
}
