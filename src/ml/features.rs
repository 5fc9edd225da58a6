//! Feature lookup, as Databricks' feature engineering does it: a feature table kept in the store
//! (rows of features under a primary key), a model logged with its lookup spec (table, key), and
//! predictions that are given only the key and join the features from the table at inference.
//!
//! Feature tables are Flowbook's own table beside MLflow's (`flowbook_feature_tables`); an
//! `mlflow.db` export carries it along, and real MLflow ignores it.

use super::data::{Column, Frame};
use crate::api::{ApiError, ApiResult, ErrorCode};
use crate::tracking::Store;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;

const TABLE_SQL: &str = "
CREATE TABLE IF NOT EXISTS flowbook_feature_tables (
    name TEXT PRIMARY KEY NOT NULL,
    primary_key TEXT NOT NULL,
    description TEXT,
    columns TEXT NOT NULL,
    rows TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL
)";

/// Which table to join and by which column of the model's input (Databricks' `FeatureLookup`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureLookup {
    pub table_name: String,
    pub lookup_key: String,
}

/// A feature table: columns of features, one row per value of the primary key.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    pub name: String,
    pub primary_key: String,
    pub description: String,
    pub frame: Frame,
    pub creation_time: i64,
    pub last_updated_time: i64,
}

/// A key as text, so that `74`, `74.0` and `"74"` name the same row.
fn key_text(column: &Column, row: usize) -> String {
    match column {
        Column::Text(v) => v[row].clone(),
        Column::Numeric(v) if v[row].fract() == 0.0 && v[row].abs() < 1e15 => {
            format!("{}", v[row] as i64)
        }
        Column::Numeric(v) => v[row].to_string(),
    }
}

fn valid_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "'{name}' is not a valid feature table name: use letters, digits, '.', '_' or '-' (at most 256)"
        )))
    }
}

impl FeatureTable {
    /// A table from a frame, checking that the key is a column and names each row once.
    pub fn new(name: &str, primary_key: &str, description: &str, frame: Frame) -> ApiResult<Self> {
        valid_name(name)?;
        let key = frame.column(primary_key).ok_or_else(|| {
            ApiError::invalid(format!(
                "the feature table '{name}' has no column '{primary_key}' for its primary key (its columns: {})",
                frame.names.join(", ")
            ))
        })?;
        if frame.names.len() < 2 {
            return Err(ApiError::invalid(format!(
                "the feature table '{name}' has no feature besides its key '{primary_key}'"
            )));
        }
        let mut seen = HashMap::new();
        for row in 0..frame.nrows() {
            if let Some(first) = seen.insert(key_text(key, row), row) {
                return Err(ApiError::invalid(format!(
                    "the feature table '{name}' names {primary_key} = {} twice (rows {} and {})",
                    key_text(key, row),
                    first + 1,
                    row + 1
                )));
            }
        }
        let now = crate::clock::now_ms();
        Ok(FeatureTable {
            name: name.into(),
            primary_key: primary_key.into(),
            description: description.into(),
            frame,
            creation_time: now,
            last_updated_time: now,
        })
    }

    /// The feature columns (every column but the key).
    pub fn feature_names(&self) -> Vec<String> {
        self.frame
            .names
            .iter()
            .filter(|n| **n != self.primary_key)
            .cloned()
            .collect()
    }

    /// The table as the API answers it: its schema and its rows.
    pub fn to_json(&self) -> Value {
        let columns: Vec<Value> = self
            .frame
            .names
            .iter()
            .zip(&self.frame.columns)
            .map(|(n, c)| json!({"name": n, "type": column_type(c)}))
            .collect();
        json!({
            "name": self.name,
            "primary_key": self.primary_key,
            "description": self.description,
            "columns": columns,
            "num_rows": self.frame.nrows(),
            "rows": rows_json(&self.frame),
            "creation_time": self.creation_time,
            "last_updated_time": self.last_updated_time,
        })
    }
}

fn column_type(c: &Column) -> &'static str {
    match c {
        Column::Numeric(_) => "double",
        Column::Text(_) => "string",
    }
}

fn rows_json(frame: &Frame) -> Value {
    Value::Array(
        (0..frame.nrows())
            .map(|i| {
                Value::Array(
                    frame
                        .columns
                        .iter()
                        .map(|c| match c {
                            Column::Numeric(v) => json!(v[i]),
                            Column::Text(v) => json!(v[i]),
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

/// A frame from `{"columns": [...], "data": [[...], ...]}` (pandas' `split` orient, as MLflow's
/// scoring server takes `dataframe_split`): a column is numeric when all its values are numbers.
pub fn frame_from_split(v: &Value) -> Result<Frame, String> {
    let names: Vec<String> = v
        .get("columns")
        .and_then(Value::as_array)
        .ok_or("the data needs \"columns\": a list of column names")?
        .iter()
        .map(|n| {
            n.as_str()
                .map(str::to_string)
                .ok_or("a column name is not text")
        })
        .collect::<Result<_, _>>()?;
    let rows = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or("the data needs \"data\": a list of rows")?;
    let mut cells: Vec<Vec<&Value>> = vec![Vec::with_capacity(rows.len()); names.len()];
    for (i, row) in rows.iter().enumerate() {
        let row = row
            .as_array()
            .filter(|r| r.len() == names.len())
            .ok_or_else(|| format!("row {} does not have {} values", i + 1, names.len()))?;
        for (column, cell) in cells.iter_mut().zip(row) {
            column.push(cell);
        }
    }
    let mut frame = Frame::default();
    for (name, values) in names.iter().zip(cells) {
        let column = if values.iter().all(|v| v.is_number()) {
            Column::Numeric(values.iter().filter_map(|v| v.as_f64()).collect())
        } else if let Some(bad) = values
            .iter()
            .position(|v| !(v.is_string() || v.is_number()))
        {
            return Err(format!(
                "column '{name}' row {} holds {}, not a number or text",
                bad + 1,
                values[bad]
            ));
        } else {
            Column::Text(
                values
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect(),
            )
        };
        frame.push(name, column);
    }
    Ok(frame)
}

fn ensure_table(store: &Store) -> ApiResult<()> {
    store.connection().execute_batch(TABLE_SQL)?;
    Ok(())
}

/// Creates (or, with `replace`, overwrites) a feature table.
pub fn create(store: &mut Store, table: &FeatureTable, replace: bool) -> ApiResult<()> {
    ensure_table(store)?;
    let columns: Vec<Value> = table
        .frame
        .names
        .iter()
        .zip(&table.frame.columns)
        .map(|(n, c)| json!({"name": n, "type": column_type(c)}))
        .collect();
    store.write(|tx| {
        let exists: bool = tx
            .query_row(
                "SELECT 1 FROM flowbook_feature_tables WHERE name = ?1",
                [&table.name],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if exists && !replace {
            return Err(ApiError::new(
                ErrorCode::ResourceAlreadyExists,
                format!("a feature table named '{}' already exists", table.name),
            ));
        }
        tx.execute(
            "INSERT OR REPLACE INTO flowbook_feature_tables
             (name, primary_key, description, columns, rows, creation_time, last_updated_time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                table.name,
                table.primary_key,
                table.description,
                Value::Array(columns).to_string(),
                rows_json(&table.frame).to_string(),
                table.creation_time,
                table.last_updated_time,
            ],
        )?;
        Ok(())
    })
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("no feature table named '{name}'"))
}

/// Reads a feature table.
pub fn get(store: &Store, name: &str) -> ApiResult<FeatureTable> {
    ensure_table(store)?;
    let row = store
        .connection()
        .query_row(
            "SELECT primary_key, description, columns, rows, creation_time, last_updated_time
             FROM flowbook_feature_tables WHERE name = ?1",
            [name],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| not_found(name))?;
    let (primary_key, description, columns, rows, creation_time, last_updated_time) = row;
    let damaged = |e: String| ApiError::internal(format!("feature table '{name}' is damaged: {e}"));
    let columns: Value = serde_json::from_str(&columns).map_err(|e| damaged(e.to_string()))?;
    let names: Vec<Value> = columns
        .as_array()
        .map(|c| c.iter().map(|c| c["name"].clone()).collect())
        .unwrap_or_default();
    let data: Value = serde_json::from_str(&rows).map_err(|e| damaged(e.to_string()))?;
    let frame = frame_from_split(&json!({"columns": names, "data": data})).map_err(damaged)?;
    Ok(FeatureTable {
        name: name.into(),
        primary_key,
        description: description.unwrap_or_default(),
        frame,
        creation_time,
        last_updated_time,
    })
}

/// Every feature table: name, key, features and row count (not the rows).
pub fn list(store: &Store) -> ApiResult<Vec<Value>> {
    ensure_table(store)?;
    let mut stmt = store.connection().prepare(
        "SELECT name, primary_key, description, columns, json_array_length(rows), last_updated_time
         FROM flowbook_feature_tables ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        let columns: String = r.get(3)?;
        Ok(json!({
            "name": r.get::<_, String>(0)?,
            "primary_key": r.get::<_, String>(1)?,
            "description": r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            "columns": serde_json::from_str::<Value>(&columns).unwrap_or(Value::Null),
            "num_rows": r.get::<_, i64>(4)?,
            "last_updated_time": r.get::<_, i64>(5)?,
        }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn delete(store: &mut Store, name: &str) -> ApiResult<()> {
    ensure_table(store)?;
    let n = store.write(|tx| {
        Ok(tx.execute(
            "DELETE FROM flowbook_feature_tables WHERE name = ?1",
            [name],
        )?)
    })?;
    if n == 0 {
        return Err(not_found(name));
    }
    Ok(())
}

/// The tables of a lookup spec, read once, joined onto frames by key.
pub struct Joiner {
    lookups: Vec<(FeatureLookup, FeatureTable, HashMap<String, usize>)>,
}

impl Joiner {
    pub fn load(store: &Store, lookups: &[FeatureLookup]) -> ApiResult<Joiner> {
        let mut loaded = Vec::new();
        for lookup in lookups {
            let table = get(store, &lookup.table_name)?;
            let key = table
                .frame
                .column(&table.primary_key)
                .ok_or_else(|| ApiError::internal("a feature table lost its key column"))?;
            let index = (0..table.frame.nrows())
                .map(|i| (key_text(key, i), i))
                .collect();
            loaded.push((lookup.clone(), table, index));
        }
        Ok(Joiner { lookups: loaded })
    }

    /// The names of the columns the lookups add.
    pub fn feature_names(&self) -> Vec<String> {
        self.lookups
            .iter()
            .flat_map(|(_, t, _)| t.feature_names())
            .collect()
    }

    /// `frame` with each lookup's features appended; a key missing from its table is an error
    /// naming the table, the key and the row.
    pub fn join(&self, frame: &Frame) -> Result<Frame, String> {
        let mut out = frame.clone();
        for (lookup, table, index) in &self.lookups {
            let keys = frame.column(&lookup.lookup_key).ok_or_else(|| {
                format!(
                    "the input has no column '{}', the key to look up features in '{}'",
                    lookup.lookup_key, table.name
                )
            })?;
            let mut rows = Vec::with_capacity(frame.nrows());
            for i in 0..frame.nrows() {
                let key = key_text(keys, i);
                let at = index.get(&key).ok_or_else(|| {
                    format!(
                        "feature table '{}' has no row with {} = {key} (row {} of the input)",
                        table.name,
                        table.primary_key,
                        i + 1
                    )
                })?;
                rows.push(*at);
            }
            let picked = table.frame.take(&rows);
            for (name, column) in picked.names.iter().zip(picked.columns) {
                if *name == table.primary_key {
                    continue;
                }
                if out.column(name).is_some() {
                    return Err(format!(
                        "feature '{name}' of table '{}' clashes with a column of the input",
                        table.name
                    ));
                }
                out.push(name, column);
            }
        }
        Ok(out)
    }
}

/// A generated feature table for the taxi-trip data: per pick-up zone, whether it is downtown
/// (slow traffic), whether it is busy, and its typical speed. Keyed by `PULocationID`.
pub fn taxi_zones() -> FeatureTable {
    let busy = [7u32, 41, 74, 75, 166];
    let downtown = [74u32, 75, 166];
    let mut zones: Vec<u32> = busy.to_vec();
    zones.extend((1..=20u32).map(|k| k * 13 % 263 + 1));
    zones.sort_unstable();
    zones.dedup();
    let flag = |set: &[u32], z: u32| if set.contains(&z) { 1.0 } else { 0.0 };
    let mut frame = Frame::default();
    frame.push(
        "PULocationID",
        Column::Text(zones.iter().map(u32::to_string).collect()),
    );
    frame.push(
        "pu_downtown",
        Column::Numeric(zones.iter().map(|&z| flag(&downtown, z)).collect()),
    );
    frame.push(
        "pu_busy",
        Column::Numeric(zones.iter().map(|&z| flag(&busy, z)).collect()),
    );
    frame.push(
        "pu_avg_speed_mph",
        Column::Numeric(
            zones
                .iter()
                .map(|&z| if downtown.contains(&z) { 14.8 } else { 18.75 })
                .collect(),
        ),
    );
    let now = crate::clock::now_ms();
    FeatureTable {
        name: "taxi_zone_features".into(),
        primary_key: "PULocationID".into(),
        description: "Per pick-up zone: downtown (slow traffic), busy, typical speed".into(),
        frame,
        creation_time: now,
        last_updated_time: now,
    }
}
