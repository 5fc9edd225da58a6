//! MLflow's search, compiled to one SQL query over MLflow's schema: the filter grammar of
//! `search_runs` / `search_experiments` (clauses joined by AND), `order_by`, view types and page
//! tokens — with MLflow's rules for what each entity accepts and MLflow's messages when it refuses.
//! User text only ever reaches SQL as bound parameters.

use super::paging::{page_token, parse_page_token};
use crate::api::{ApiError, ApiResult};
use rusqlite::types::Value as Sql;
use rusqlite::Connection;

pub const MAX_RESULTS_DEFAULT: i64 = 1000;
pub const MAX_RESULTS_THRESHOLD: i64 = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewType {
    #[default]
    ActiveOnly,
    DeletedOnly,
    All,
}

impl ViewType {
    /// MLflow's names, or the proto enum numbers (1, 2, 3).
    pub fn parse(s: &str) -> ApiResult<ViewType> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ACTIVE_ONLY" | "1" | "" => Ok(ViewType::ActiveOnly),
            "DELETED_ONLY" | "2" => Ok(ViewType::DeletedOnly),
            "ALL" | "3" => Ok(ViewType::All),
            other => Err(ApiError::invalid(format!(
                "Invalid view type '{other}': expected ACTIVE_ONLY, DELETED_ONLY or ALL"
            ))),
        }
    }

    fn stages_sql(self) -> &'static str {
        match self {
            ViewType::ActiveOnly => "('active')",
            ViewType::DeletedOnly => "('deleted')",
            ViewType::All => "('active', 'deleted')",
        }
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

#[derive(Debug, Clone, Default)]
pub struct ExperimentSearch {
    pub filter: String,
    pub view: ViewType,
    pub max_results: Option<i64>,
    pub order_by: Vec<String>,
    pub page_token: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An identifier as written, e.g. metrics.`f1 score` or status.
    Ident(String),
    /// A single-quoted string (raw text kept for messages).
    Str {
        value: String,
        raw: String,
    },
    /// A double-quoted string: a value, or a quoted identifier.
    DStr {
        value: String,
        raw: String,
    },
    Num(String),
    Op(String),
    Word(String),
    LParen,
    RParen,
    Comma,
}

impl Tok {
    fn raw(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Num(s) | Tok::Op(s) | Tok::Word(s) => s.clone(),
            Tok::Str { raw, .. } | Tok::DStr { raw, .. } => raw.clone(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::Comma => ",".into(),
        }
    }
}

const KEYWORDS: [&str; 8] = ["AND", "OR", "LIKE", "ILIKE", "IN", "NOT", "IS", "NULL"];

fn quoted(chars: &[char], start: usize, quote: char) -> ApiResult<(String, usize)> {
    let mut value = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == quote {
            // A doubled quote inside a string stands for one quote, as in SQL.
            if chars.get(i + 1) == Some(&quote) {
                value.push(quote);
                i += 2;
                continue;
            }
            return Ok((value, i + 1));
        }
        if chars[i] == '\\' && i + 1 < chars.len() {
            value.push(chars[i + 1]);
            i += 2;
            continue;
        }
        value.push(chars[i]);
        i += 1;
    }
    Err(ApiError::invalid(format!(
        "Invalid filter string: the quote {quote} opened at character {} is never closed",
        start + 1
    )))
}

fn tokenize(text: &str) -> ApiResult<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if c == '\'' {
            let (value, end) = quoted(&chars, i, '\'')?;
            out.push(Tok::Str {
                value,
                raw: chars[i..end].iter().collect(),
            });
            i = end;
        } else if c == '"' {
            let (value, end) = quoted(&chars, i, '"')?;
            out.push(Tok::DStr {
                value,
                raw: chars[i..end].iter().collect(),
            });
            i = end;
        } else if "<>=!".contains(c) {
            let start = i;
            while i < chars.len() && "<>=!".contains(chars[i]) {
                i += 1;
            }
            out.push(Tok::Op(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit()
            || ((c == '-' || c == '+' || c == '.')
                && chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_digit() || *n == '.')
                && matches!(out.last(), Some(Tok::Op(_)) | None))
        {
            let start = i;
            i += 1;
            while i < chars.len() {
                let d = chars[i];
                let exp_sign = (d == '-' || d == '+') && matches!(chars[i - 1], 'e' | 'E');
                if d.is_ascii_alphanumeric() || d == '.' || exp_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' || c == '`' {
            // An identifier: words joined by dots, any part may be `backticked` or "quoted".
            let start = i;
            loop {
                if i < chars.len() && (chars[i] == '`' || (chars[i] == '"' && i > start)) {
                    let (_, end) = quoted(&chars, i, chars[i])?;
                    i = end;
                } else {
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                }
                if i < chars.len() && chars[i] == '.' {
                    i += 1;
                    continue;
                }
                break;
            }
            let word: String = chars[start..i].iter().collect();
            if KEYWORDS.contains(&word.to_ascii_uppercase().as_str()) {
                out.push(Tok::Word(word.to_ascii_uppercase()));
            } else {
                out.push(Tok::Ident(word));
            }
        } else {
            return Err(ApiError::invalid(format!(
                "Invalid filter string: unexpected character '{c}' at position {}",
                i + 1
            )));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Clauses

/// What a filter clause or order key is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    Metric,
    Param,
    Tag,
    Attribute,
    Dataset,
}

impl Entity {
    fn name(&self) -> &'static str {
        match self {
            Entity::Metric => "metric",
            Entity::Param => "parameter",
            Entity::Tag => "tag",
            Entity::Attribute => "attribute",
            Entity::Dataset => "dataset",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(f64),
    Text(String),
    List(Vec<String>),
    Null,
}

/// One `<entity>.<key> <comparator> <value>` clause, as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub entity: Entity,
    pub key: String,
    pub comparator: String,
    pub value: Operand,
}

/// A parsed filter: clauses that must all hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub clauses: Vec<Clause>,
}

const METRIC_COMPARATORS: [&str; 6] = ["!=", "<", "<=", "=", ">", ">="];
const PARAM_COMPARATORS: [&str; 6] = ["!=", "=", "ILIKE", "IS NOT NULL", "IS NULL", "LIKE"];
const STRING_ATTRIBUTE_COMPARATORS: [&str; 6] = ["!=", "=", "ILIKE", "IN", "LIKE", "NOT IN"];
const RUN_ATTRIBUTES: [&str; 12] = [
    "Created",
    "Run Name",
    "Run name",
    "artifact_uri",
    "created",
    "end_time",
    "run name",
    "run_id",
    "run_name",
    "start_time",
    "status",
    "user_id",
];
const NUMERIC_RUN_ATTRIBUTES: [&str; 4] = ["start_time", "end_time", "created", "Created"];
const DATASET_ATTRIBUTES: [&str; 3] = ["context", "digest", "name"];
const EXPERIMENT_ATTRIBUTES: [&str; 4] =
    ["creation_time", "experiment_id", "last_update_time", "name"];

/// Python's repr of a set of strings, as MLflow's messages print them.
fn py_set(items: &[&str]) -> String {
    format!(
        "{{{}}}",
        items
            .iter()
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn strip_quotes(key: &str) -> String {
    let b = key.as_bytes();
    if key.len() >= 2 && (b[0] == b'`' || b[0] == b'"') && b[key.len() - 1] == b[0] {
        key[1..key.len() - 1].to_string()
    } else {
        key.to_string()
    }
}

/// Which search a filter belongs to: they share the grammar, not the entities.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Runs,
    Experiments,
}

fn identifier(raw: &str, scope: Scope) -> ApiResult<(Entity, String)> {
    let (entity, key) = match raw.split_once('.') {
        None => (Entity::Attribute, strip_quotes(raw)),
        Some((kind, key)) => {
            let kind = strip_quotes(kind);
            let entity = match (scope, kind.as_str()) {
                (Scope::Runs, "metric" | "metrics") => Entity::Metric,
                (Scope::Runs, "parameter" | "parameters" | "param" | "params") => Entity::Param,
                (_, "tag" | "tags") => Entity::Tag,
                (Scope::Runs, "attribute" | "attributes" | "attr" | "run") => Entity::Attribute,
                (Scope::Experiments, "attribute") => Entity::Attribute,
                (Scope::Runs, "dataset" | "datasets") => Entity::Dataset,
                (Scope::Runs, _) => {
                    return Err(ApiError::invalid(format!(
                        "Invalid entity type '{kind}'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
                    )))
                }
                (Scope::Experiments, _) => {
                    return Err(ApiError::invalid(format!(
                        "Invalid entity type '{kind}'. Valid entity types are ('attribute', 'tag', 'tags')"
                    )))
                }
            };
            (entity, strip_quotes(key))
        }
    };
    match (&entity, scope) {
        (Entity::Attribute, Scope::Runs) if !RUN_ATTRIBUTES.contains(&key.as_str()) => {
            Err(ApiError::invalid(format!(
                "Invalid attribute key '{key}' specified. Valid keys are '{}'",
                py_set(&RUN_ATTRIBUTES)
            )))
        }
        (Entity::Attribute, Scope::Experiments)
            if !EXPERIMENT_ATTRIBUTES.contains(&key.as_str()) =>
        {
            Err(ApiError::invalid(format!(
                "Invalid attribute key '{key}' specified. Valid keys are '{}'",
                py_set(&EXPERIMENT_ATTRIBUTES)
            )))
        }
        (Entity::Dataset, _) if !DATASET_ATTRIBUTES.contains(&key.as_str()) => {
            Err(ApiError::invalid(format!(
                "Invalid dataset key '{key}' specified. Valid keys are '{}'",
                py_set(&DATASET_ATTRIBUTES)
            )))
        }
        _ => Ok((entity, key)),
    }
}

fn is_numeric_key(entity: &Entity, key: &str, scope: Scope) -> bool {
    match (entity, scope) {
        (Entity::Metric, _) => true,
        (Entity::Attribute, Scope::Runs) => NUMERIC_RUN_ATTRIBUTES.contains(&key),
        (Entity::Attribute, Scope::Experiments) => {
            matches!(key, "creation_time" | "last_update_time")
        }
        _ => false,
    }
}

fn parse_number(tok: &Tok) -> Option<f64> {
    match tok {
        Tok::Num(n) => n.parse::<f64>().ok(),
        _ => None,
    }
}

fn string_value(tok: &Tok) -> Option<String> {
    match tok {
        Tok::Str { value, .. } | Tok::DStr { value, .. } => Some(value.clone()),
        _ => None,
    }
}

fn clause(tokens: &[Tok], scope: Scope) -> ApiResult<Clause> {
    let raw = || tokens.iter().map(Tok::raw).collect::<Vec<_>>().join(" ");
    let ident = match tokens.first() {
        Some(Tok::Ident(i)) => i.clone(),
        Some(Tok::DStr { raw, .. }) => raw.clone(),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Invalid comparison clause. Expected 'Identifier' found '{}'",
                other.raw()
            )))
        }
        None => return Err(ApiError::invalid("Invalid filter string: an empty clause")),
    };
    let (entity, key) = identifier(&ident, scope)?;
    let rest = &tokens[1..];
    let (comparator, value_tokens): (String, &[Tok]) = match rest {
        [Tok::Word(w), Tok::Word(n)] if w == "IS" && n == "NULL" => ("IS NULL".into(), &[]),
        [Tok::Word(w), Tok::Word(n), Tok::Word(m)] if w == "IS" && n == "NOT" && m == "NULL" => {
            ("IS NOT NULL".into(), &[])
        }
        [Tok::Word(n), Tok::Word(w), tail @ ..] if n == "NOT" && w == "IN" => {
            ("NOT IN".into(), tail)
        }
        [Tok::Op(op), tail @ ..] => (if op == "<>" { "!=".into() } else { op.clone() }, tail),
        [Tok::Word(w), tail @ ..] if matches!(w.as_str(), "LIKE" | "ILIKE" | "IN") => {
            (w.clone(), tail)
        }
        [] => {
            return Err(ApiError::invalid(format!(
                "Invalid comparison clause. Expected 3 tokens found 1: '{}'",
                raw()
            )))
        }
        [other, ..] => {
            return Err(ApiError::invalid(format!(
                "Invalid comparison clause. Expected comparison found '{}' in '{}'",
                other.raw(),
                raw()
            )))
        }
    };
    // The value, checked against what the entity accepts (MLflow checks it before the comparator).
    let value = if comparator.ends_with("NULL") {
        if !matches!(entity, Entity::Param | Entity::Tag) {
            return Err(ApiError::invalid(format!(
                "IS NULL / IS NOT NULL is only supported for tags and params, not for '{}' '{key}'",
                entity.name()
            )));
        }
        Operand::Null
    } else if comparator.ends_with("IN") {
        let items = match value_tokens {
            [Tok::LParen, inner @ .., Tok::RParen] => inner,
            _ => {
                return Err(ApiError::invalid(format!(
                    "Expected a list of quoted strings after {comparator} in '{}'",
                    raw()
                )))
            }
        };
        let allowed = match (scope, &entity) {
            (Scope::Runs, Entity::Attribute) => key == "run_id",
            (Scope::Runs, Entity::Dataset) => true,
            (Scope::Experiments, Entity::Attribute) => key == "experiment_id",
            _ => false,
        };
        if !allowed {
            let supported = if scope == Scope::Runs {
                "['run_id']"
            } else {
                "['experiment_id']"
            };
            return Err(ApiError::invalid(format!(
                "Only {supported} attributes support comparison with a list of quoted string values."
            )));
        }
        let mut list = Vec::new();
        for (i, t) in items.iter().enumerate() {
            match (i % 2, t) {
                (0, t) if string_value(t).is_some() => list.push(string_value(t).unwrap_or_default()),
                (1, Tok::Comma) => {}
                _ => {
                    return Err(ApiError::invalid(format!(
                        "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: {}",
                        t.raw()
                    )))
                }
            }
        }
        if list.is_empty() {
            return Err(ApiError::invalid(format!(
                "An empty list follows {comparator} in '{}'",
                raw()
            )));
        }
        Operand::List(list)
    } else {
        let [tok] = value_tokens else {
            return Err(ApiError::invalid(format!(
                "Invalid comparison clause. Expected 3 tokens found {}: '{}'",
                tokens.len(),
                raw()
            )));
        };
        if is_numeric_key(&entity, &key, scope)
            && !(scope == Scope::Experiments && entity == Entity::Attribute)
        {
            match parse_number(tok) {
                Some(n) => Operand::Number(n),
                None if entity == Entity::Metric => {
                    return Err(ApiError::invalid(format!(
                        "Expected numeric value type for metric. Found {}",
                        tok.raw()
                    )))
                }
                None => {
                    return Err(ApiError::invalid(format!(
                        "Expected numeric value type for numeric attribute: {key}. Found {}",
                        tok.raw()
                    )))
                }
            }
        } else if let Some(s) = string_value(tok) {
            Operand::Text(s)
        } else if scope == Scope::Experiments && entity == Entity::Attribute {
            match tok {
                Tok::Num(n) => Operand::Text(n.clone()),
                other => {
                    return Err(ApiError::invalid(format!(
                        "Expected a quoted string value for attributes. Got value {}",
                        other.raw()
                    )))
                }
            }
        } else {
            let what = match entity {
                Entity::Param => {
                    "Expected a quoted string value for parameter (e.g. 'my-value'). Got value"
                }
                Entity::Tag => {
                    "Expected a quoted string value for tag (e.g. 'my-value'). Got value"
                }
                Entity::Dataset => {
                    "Expected a quoted string value for dataset attributes. Got value"
                }
                _ => "Expected a quoted string value for attributes. Got value",
            };
            return Err(ApiError::invalid(format!("{what} {}", tok.raw())));
        }
    };
    // MLflow's messages differ per entity (a closing quote only for params and string attributes;
    // numeric attributes list the string comparators): reproduced as they are.
    let numeric = is_numeric_key(&entity, &key, scope);
    let (valid, listed, close): (&[&str], &[&str], &str) = match (&entity, numeric) {
        (Entity::Metric, _) => (&METRIC_COMPARATORS, &METRIC_COMPARATORS, ""),
        (Entity::Attribute, true) => (&METRIC_COMPARATORS, &STRING_ATTRIBUTE_COMPARATORS, ""),
        (Entity::Param, _) => (&PARAM_COMPARATORS, &PARAM_COMPARATORS, "'"),
        (Entity::Tag, _) => (&PARAM_COMPARATORS, &PARAM_COMPARATORS, ""),
        (Entity::Attribute, false) => (
            &STRING_ATTRIBUTE_COMPARATORS,
            &STRING_ATTRIBUTE_COMPARATORS,
            "'",
        ),
        (Entity::Dataset, _) => (
            &STRING_ATTRIBUTE_COMPARATORS,
            &STRING_ATTRIBUTE_COMPARATORS,
            "",
        ),
    };
    if !valid.contains(&comparator.as_str()) {
        return Err(ApiError::invalid(format!(
            "Invalid comparator '{comparator}' not one of '{}{close}",
            py_set(listed)
        )));
    }
    Ok(Clause {
        entity,
        key,
        comparator,
        value,
    })
}

fn parse(filter: &str, scope: Scope) -> ApiResult<Filter> {
    let tokens = tokenize(filter)?;
    if let Some(bad) = tokens
        .iter()
        .find(|t| matches!(t, Tok::Word(w) if w == "OR"))
    {
        return Err(ApiError::invalid(format!(
            "Invalid clause(s) in filter string: '{}'",
            bad.raw()
        )));
    }
    let mut clauses = Vec::new();
    let mut depth = 0i32;
    let mut current: Vec<Tok> = Vec::new();
    for t in tokens {
        match &t {
            Tok::LParen => depth += 1,
            Tok::RParen => depth -= 1,
            _ => {}
        }
        if depth == 0 && matches!(&t, Tok::Word(w) if w == "AND") {
            if current.is_empty() {
                return Err(ApiError::invalid(
                    "Invalid clause(s) in filter string: 'AND' without a clause before it",
                ));
            }
            clauses.push(clause(&current, scope)?);
            current.clear();
        } else {
            current.push(t);
        }
    }
    if !current.is_empty() {
        clauses.push(clause(&current, scope)?);
    } else if !clauses.is_empty() {
        return Err(ApiError::invalid(
            "Invalid clause(s) in filter string: 'AND' without a clause after it",
        ));
    }
    Ok(Filter { clauses })
}

impl Filter {
    /// A `search_runs` filter, as MLflow parses it.
    pub fn parse_runs(filter: &str) -> ApiResult<Filter> {
        parse(filter, Scope::Runs)
    }
    /// A `search_experiments` filter.
    pub fn parse_experiments(filter: &str) -> ApiResult<Filter> {
        parse(filter, Scope::Experiments)
    }
}

// ---------------------------------------------------------------------------------------------
// SQL

/// `column <comparator> ?` with MLflow's meaning of each comparator (LIKE is case-sensitive,
/// as MLflow's `PRAGMA case_sensitive_like`, ILIKE is not).
fn comparison(column: &str, comparator: &str, value: &Operand, params: &mut Vec<Sql>) -> String {
    match value {
        Operand::Number(n) => {
            params.push(Sql::Real(*n));
            format!("{column} {comparator} ?")
        }
        Operand::Text(s) => match comparator {
            "LIKE" => {
                params.push(Sql::Text(like_to_glob(s)));
                format!("{column} GLOB ?")
            }
            "ILIKE" => {
                params.push(Sql::Text(like_to_glob(&s.to_lowercase())));
                format!("lower({column}) GLOB ?")
            }
            op => {
                params.push(Sql::Text(s.clone()));
                format!("{column} {op} ?")
            }
        },
        Operand::List(items) => {
            let marks = vec!["?"; items.len()].join(", ");
            params.extend(items.iter().cloned().map(Sql::Text));
            format!("{column} {comparator} ({marks})")
        }
        Operand::Null => "1".into(),
    }
}

/// SQL LIKE patterns as GLOB patterns, so LIKE stays case-sensitive without a connection pragma.
fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    for c in pattern.chars() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
    out
}

/// One clause of a run filter as SQL over `runs r`. A key's comparison is a semi-join on the rows of
/// that key (as MLflow joins a filtered subquery): one pass over the key's entries, then a lookup per
/// run in memory, where a correlated EXISTS sought the key once per run (half the time at 10,000 runs).
fn run_clause_sql(c: &Clause, params: &mut Vec<Sql>) -> String {
    let keyed = |table: &str, key_col: &str, value_col: &str, params: &mut Vec<Sql>| {
        params.push(Sql::Text(c.key.clone()));
        let cond = comparison(&format!("x.{value_col}"), &c.comparator, &c.value, params);
        format!("r.run_uuid IN (SELECT x.run_uuid FROM {table} x WHERE x.{key_col} = ? AND {cond})")
    };
    match c.entity {
        Entity::Metric => {
            params.push(Sql::Text(c.key.clone()));
            let cond = comparison("x.value", &c.comparator, &c.value, params);
            // NaN is stored as 0 with is_nan: it satisfies only "!=".
            let nan = if c.comparator == "!=" {
                format!("({cond} OR x.is_nan = 1)")
            } else {
                format!("({cond} AND x.is_nan = 0)")
            };
            format!(
                "r.run_uuid IN (SELECT x.run_uuid FROM latest_metrics x WHERE x.key = ? AND {nan})"
            )
        }
        Entity::Param | Entity::Tag => {
            let table = if c.entity == Entity::Param {
                "params"
            } else {
                "tags"
            };
            match c.comparator.as_str() {
                "IS NULL" | "IS NOT NULL" => {
                    params.push(Sql::Text(c.key.clone()));
                    let not = if c.comparator == "IS NULL" {
                        "NOT "
                    } else {
                        ""
                    };
                    format!("{not}EXISTS (SELECT 1 FROM {table} x WHERE x.run_uuid = r.run_uuid AND x.key = ?)")
                }
                _ => keyed(table, "key", "value", params),
            }
        }
        Entity::Attribute => match c.key.as_str() {
            // As MLflow does: the run name is compared through its tag (older runs lack runs.name).
            "run_name" | "run name" | "Run name" | "Run Name" => {
                let c = Clause {
                    key: "mlflow.runName".into(),
                    ..c.clone()
                };
                run_clause_sql(
                    &Clause {
                        entity: Entity::Tag,
                        ..c
                    },
                    params,
                )
            }
            key => {
                let column = match key {
                    "created" | "Created" => "start_time",
                    "run_id" => "run_uuid",
                    other => other,
                };
                comparison(&format!("r.{column}"), &c.comparator, &c.value, params)
            }
        },
        Entity::Dataset => {
            let join = "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id
                        WHERE i.destination_type = 'RUN' AND i.source_type = 'DATASET' AND i.destination_id = r.run_uuid";
            if c.key == "context" {
                let cond = comparison("t.value", &c.comparator, &c.value, params);
                format!("EXISTS (SELECT 1 {join} AND EXISTS (SELECT 1 FROM input_tags t WHERE t.input_uuid = i.input_uuid AND t.name = 'mlflow.data.context' AND {cond}))")
            } else {
                let cond = comparison(&format!("d.{}", c.key), &c.comparator, &c.value, params);
                format!("EXISTS (SELECT 1 {join} AND {cond})")
            }
        }
    }
}

/// An `order_by` entry: `<key> [ASC|DESC]`, the key quoted with backticks or double quotes if needed.
fn order_entry(text: &str) -> ApiResult<(String, bool)> {
    let trimmed = text.trim();
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in trimmed.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                current.push(c);
            }
            Some(_) => current.push(c),
            None if c == '`' || c == '"' => {
                quote = Some(c);
                current.push(c);
            }
            None if c.is_whitespace() => {
                if !current.is_empty() {
                    parts.push(std::mem::take(&mut current));
                }
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    match parts.as_slice() {
        [key] => Ok((key.clone(), true)),
        [key, dir] => match dir.to_ascii_lowercase().as_str() {
            "asc" => Ok((key.clone(), true)),
            "desc" => Ok((key.clone(), false)),
            _ => Err(ApiError::invalid(format!(
                "Invalid ordering key in order_by clause '{text}'."
            ))),
        },
        _ => Err(ApiError::invalid(format!(
            "Invalid order_by clause '{text}'. Could not be parsed."
        ))),
    }
}

fn check_max_results(max_results: Option<i64>, default: i64) -> ApiResult<i64> {
    let m = max_results.unwrap_or(default);
    if m < 1 {
        return Err(ApiError::invalid(format!(
            "Invalid value {m} for parameter 'max_results' supplied. It must be a positive integer"
        )));
    }
    if m > MAX_RESULTS_THRESHOLD {
        return Err(ApiError::invalid(format!(
            "Invalid value {m} for parameter 'max_results' supplied. It must be at most {MAX_RESULTS_THRESHOLD}"
        )));
    }
    Ok(m)
}

fn run_page<T>(
    conn: &Connection,
    sql: &str,
    mut params: Vec<Sql>,
    max_results: i64,
    offset: i64,
    read: impl Fn(&rusqlite::Row) -> rusqlite::Result<T>,
) -> ApiResult<(Vec<T>, Option<String>)> {
    params.push(Sql::Integer(max_results + 1));
    params.push(Sql::Integer(offset));
    let mut stmt = conn.prepare(&format!("{sql} LIMIT ? OFFSET ?"))?;
    let mut rows = stmt
        .query_map(rusqlite::params_from_iter(params), read)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    let token = if rows.len() as i64 > max_results {
        rows.truncate(max_results as usize);
        Some(page_token(offset + max_results))
    } else {
        None
    };
    Ok((rows, token))
}

/// The WHERE clause of a run search (experiments, lifecycle, filter) and its parameters.
fn run_conditions(q: &RunSearch) -> ApiResult<(String, Vec<Sql>)> {
    let filter = Filter::parse_runs(&q.filter)?;
    let mut params = Vec::with_capacity(q.experiment_ids.len());
    for e in &q.experiment_ids {
        params.push(Sql::Integer(super::validation::parse_experiment_id(e)?));
    }
    let mut conditions = vec![
        format!(
            "r.experiment_id IN ({})",
            vec!["?"; q.experiment_ids.len()].join(", ")
        ),
        format!("r.lifecycle_stage IN {}", q.view.stages_sql()),
    ];
    for c in &filter.clauses {
        conditions.push(run_clause_sql(c, &mut params));
    }
    Ok((conditions.join(" AND "), params))
}

/// The ORDER BY clause of a run search, in MLflow's order (newest first, then run id, as ties).
fn run_order(order_by: &[String]) -> ApiResult<(String, Vec<Sql>)> {
    let mut params: Vec<Sql> = Vec::new();
    let mut order_sql: Vec<String> = Vec::new();
    let mut seen: Vec<(Entity, String)> = Vec::new();
    for text in order_by {
        let (key, ascending) = order_entry(text)?;
        let (entity, key) = identifier(&key, Scope::Runs)?;
        let key = match key.as_str() {
            "created" | "Created" => "start_time".to_string(),
            "run name" | "Run name" | "Run Name" => "run_name".to_string(),
            _ => key,
        };
        if seen.contains(&(entity.clone(), key.clone())) {
            return Err(ApiError::internal(format!(
                "`order_by` contains duplicate fields: {order_by:?}"
            )));
        }
        seen.push((entity.clone(), key.clone()));
        let dir = if ascending { "ASC" } else { "DESC" };
        let (value, missing) = match entity {
            Entity::Attribute => {
                let column = match key.as_str() {
                    "run_name" => "r.name".to_string(),
                    "run_id" => "r.run_uuid".to_string(),
                    other => format!("r.{other}"),
                };
                (
                    column.clone(),
                    format!("CASE WHEN {column} IS NULL THEN 1 ELSE 0 END"),
                )
            }
            Entity::Metric => {
                params.push(Sql::Text(key.clone()));
                params.push(Sql::Text(key.clone()));
                params.push(Sql::Text(key.clone()));
                let sub = "(SELECT {c} FROM latest_metrics x WHERE x.run_uuid = r.run_uuid AND x.key = ?)";
                let is_nan = sub.replace("{c}", "x.is_nan");
                let value = sub.replace("{c}", "x.value");
                // NaN after numbers, missing last (MLflow's CASE ordering), whatever the direction.
                (
                    value.clone(),
                    format!("CASE WHEN {is_nan} = 1 THEN 1 WHEN {value} IS NULL THEN 2 ELSE 0 END"),
                )
            }
            Entity::Param | Entity::Tag => {
                let table = if entity == Entity::Param {
                    "params"
                } else {
                    "tags"
                };
                params.push(Sql::Text(key.clone()));
                params.push(Sql::Text(key.clone()));
                let value = format!(
                    "(SELECT x.value FROM {table} x WHERE x.run_uuid = r.run_uuid AND x.key = ?)"
                );
                (
                    value.clone(),
                    format!("CASE WHEN {value} IS NULL THEN 1 ELSE 0 END"),
                )
            }
            Entity::Dataset => {
                return Err(ApiError::invalid(format!(
                    "Invalid identifier type '{}'",
                    entity.name()
                )));
            }
        };
        order_sql.push(missing);
        order_sql.push(format!("{value} {dir}"));
    }
    if !seen.contains(&(Entity::Attribute, "start_time".to_string())) {
        order_sql.push("r.start_time DESC".into());
    }
    order_sql.push("r.run_uuid ASC".into());
    Ok((order_sql.join(", "), params))
}

/// Run ids of one page of `search_runs`, in MLflow's order, and the next page's token.
pub fn search_runs(conn: &Connection, q: &RunSearch) -> ApiResult<(Vec<String>, Option<String>)> {
    let max_results = check_max_results(q.max_results, MAX_RESULTS_DEFAULT)?;
    let offset = parse_page_token(q.page_token.as_deref())?;
    let (order, order_params) = run_order(&q.order_by)?;
    let (conditions, mut params) = run_conditions(q)?;
    if q.experiment_ids.is_empty() {
        return Ok((Vec::new(), None));
    }
    // In the statement the WHERE clause comes first, so its parameters do too.
    params.extend(order_params);
    let sql = format!("SELECT r.run_uuid FROM runs r WHERE {conditions} ORDER BY {order}");
    run_page(conn, &sql, params, max_results, offset, |row| {
        row.get::<_, String>(0)
    })
}

/// How many runs a search matches in all (its pages together): what a table needs to size itself
/// while it asks for only the rows in view. Refuses what `search_runs` refuses.
pub fn count_runs(conn: &Connection, q: &RunSearch) -> ApiResult<i64> {
    run_order(&q.order_by)?;
    let (conditions, params) = run_conditions(q)?;
    if q.experiment_ids.is_empty() {
        return Ok(0);
    }
    Ok(conn.query_row(
        &format!("SELECT count(*) FROM runs r WHERE {conditions}"),
        rusqlite::params_from_iter(params),
        |row| row.get(0),
    )?)
}

/// The metric, param and tag keys of the runs a search matches (sorted, each once): the columns a
/// runs table can offer without reading the runs themselves.
pub struct RunKeys {
    pub metrics: Vec<String>,
    pub params: Vec<String>,
    pub tags: Vec<String>,
}

pub fn run_keys(conn: &Connection, q: &RunSearch) -> ApiResult<RunKeys> {
    let (conditions, params) = run_conditions(q)?;
    let keys = |table: &str| -> ApiResult<Vec<String>> {
        if q.experiment_ids.is_empty() {
            return Ok(Vec::new());
        }
        // Each distinct key by one seek of the (key, run_uuid) primary key (a skip scan), kept when
        // one matching run has it: a few dozen index probes, where DISTINCT over the join read every
        // row of the table (tens of milliseconds at 10,000 runs, which delayed the table's next answer).
        let sql = format!(
            "WITH RECURSIVE k(key) AS (SELECT min(key) FROM {table} UNION ALL \
             SELECT (SELECT min(x.key) FROM {table} x WHERE x.key > k.key) FROM k WHERE k.key IS NOT NULL) \
             SELECT k.key FROM k WHERE k.key IS NOT NULL AND EXISTS (SELECT 1 FROM {table} x \
             JOIN runs r ON r.run_uuid = x.run_uuid WHERE x.key = k.key AND {conditions}) ORDER BY k.key"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    };
    Ok(RunKeys {
        metrics: keys("latest_metrics")?,
        params: keys("params")?,
        tags: keys("tags")?,
    })
}

/// Experiment ids of one page of `search_experiments`, in MLflow's order, and the next token.
pub fn search_experiments(
    conn: &Connection,
    q: &ExperimentSearch,
) -> ApiResult<(Vec<i64>, Option<String>)> {
    let max_results = check_max_results(q.max_results, MAX_RESULTS_DEFAULT)?;
    let filter = Filter::parse_experiments(&q.filter)?;
    let offset = parse_page_token(q.page_token.as_deref())?;
    let mut params: Vec<Sql> = Vec::new();
    let mut conditions = vec![
        format!("e.lifecycle_stage IN {}", q.view.stages_sql()),
        "e.workspace = 'default'".into(),
    ];
    for c in &filter.clauses {
        match c.entity {
            Entity::Tag => match c.comparator.as_str() {
                "IS NULL" | "IS NOT NULL" => {
                    params.push(Sql::Text(c.key.clone()));
                    let not = if c.comparator == "IS NULL" {
                        "NOT "
                    } else {
                        ""
                    };
                    conditions.push(format!(
                        "{not}EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = ?)"
                    ));
                }
                _ => {
                    params.push(Sql::Text(c.key.clone()));
                    let cond = comparison("t.value", &c.comparator, &c.value, &mut params);
                    conditions.push(format!(
                        "EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = ? AND {cond})"
                    ));
                }
            },
            Entity::Attribute => {
                let value = match (c.key.as_str(), &c.value) {
                    ("experiment_id", Operand::Text(t)) => {
                        Operand::Number(super::validation::parse_experiment_id(t)? as f64)
                    }
                    ("experiment_id", Operand::List(items)) => {
                        for i in items {
                            super::validation::parse_experiment_id(i)?;
                        }
                        c.value.clone()
                    }
                    ("creation_time" | "last_update_time", Operand::Text(t)) => {
                        Operand::Number(t.parse::<i64>().map_err(|_| {
                            ApiError::invalid(format!(
                                "Invalid value for numeric attribute '{}': '{t}'",
                                c.key
                            ))
                        })? as f64)
                    }
                    _ => c.value.clone(),
                };
                let column = if c.key == "experiment_id" && matches!(value, Operand::List(_)) {
                    "CAST(e.experiment_id AS TEXT)".to_string()
                } else {
                    format!("e.{}", c.key)
                };
                conditions.push(comparison(&column, &c.comparator, &value, &mut params));
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "Invalid token type: {}",
                    c.entity.name()
                )))
            }
        }
    }
    let mut order_sql = Vec::new();
    let defaults = [
        "creation_time DESC".to_string(),
        "experiment_id ASC".to_string(),
    ];
    let order_by = if q.order_by.is_empty() {
        &defaults[..]
    } else {
        &q.order_by[..]
    };
    let mut has_id = false;
    for text in order_by {
        let (key, ascending) = order_entry(text)?;
        let (entity, key) = identifier(&key, Scope::Experiments)?;
        if entity != Entity::Attribute {
            return Err(ApiError::invalid(format!(
                "Invalid order_by entity: {}",
                entity.name()
            )));
        }
        has_id |= key == "experiment_id";
        order_sql.push(format!(
            "e.{key} {}",
            if ascending { "ASC" } else { "DESC" }
        ));
    }
    if !has_id {
        order_sql.push("e.experiment_id DESC".into());
    }
    let sql = format!(
        "SELECT e.experiment_id FROM experiments e WHERE {} ORDER BY {}",
        conditions.join(" AND "),
        order_sql.join(", ")
    );
    run_page(conn, &sql, params, max_results, offset, |row| {
        row.get::<_, i64>(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorCode;
    use crate::tracking::{KeyValue, Metric, Store};

    fn err(filter: &str) -> String {
        let e = Filter::parse_runs(filter).unwrap_err();
        assert_eq!(e.error_code, ErrorCode::InvalidParameterValue, "{filter}");
        e.message
    }

    #[test]
    fn the_grammar_reads_mlflows_filters() {
        let f = Filter::parse_runs(
            "metrics.rmse < 0.5 and params.alpha = '0.1' AND tags.model LIKE 'xg%'",
        )
        .unwrap();
        assert_eq!(f.clauses.len(), 3);
        assert_eq!(
            f.clauses[0],
            Clause {
                entity: Entity::Metric,
                key: "rmse".into(),
                comparator: "<".into(),
                value: Operand::Number(0.5)
            }
        );
        let f = Filter::parse_runs(
            "metrics.`f1 score` >= -1e-3 and tags.\"my tag\" = \"v\" and status = 'FINISHED'",
        )
        .unwrap();
        assert_eq!(f.clauses[0].key, "f1 score");
        assert_eq!(f.clauses[0].value, Operand::Number(-1e-3));
        assert_eq!(f.clauses[1].key, "my tag");
        assert_eq!(f.clauses[2].entity, Entity::Attribute);
        let f = Filter::parse_runs(
            "attributes.run_id IN ('a', 'b') and tags.x IS NOT NULL and params.y IS NULL",
        )
        .unwrap();
        assert_eq!(
            f.clauses[0].value,
            Operand::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(f.clauses[1].comparator, "IS NOT NULL");
        assert!(Filter::parse_runs("").unwrap().clauses.is_empty());
        assert!(
            Filter::parse_runs("dataset.name = 'train' and dataset.context IN ('training')")
                .is_ok()
        );
    }

    #[test]
    fn the_grammar_refuses_what_mlflow_refuses() {
        assert!(err("metrics.rmse <<< 3").starts_with("Invalid comparator '<<<' not one of"));
        assert!(err("attributes.nope = 'x'").starts_with("Invalid attribute key 'nope' specified"));
        assert_eq!(
            err("metrics.rmse = 'abc'"),
            "Expected numeric value type for metric. Found 'abc'"
        );
        assert_eq!(
            err("metrics.rmse < 1 OR metrics.rmse > 2"),
            "Invalid clause(s) in filter string: 'OR'"
        );
        assert!(
            err("attributes.run_name IN ('a')").starts_with("Only ['run_id'] attributes support")
        );
        assert!(
            err("params.alpha = 0.1").starts_with("Expected a quoted string value for parameter")
        );
        assert!(err("params.alpha > '1'").starts_with("Invalid comparator '>'"));
        assert!(err("metrics.rmse LIKE 1").starts_with("Invalid comparator 'LIKE'"));
        assert!(err("foo.bar = 'x'").starts_with("Invalid entity type 'foo'"));
        assert!(err("metrics.rmse IS NULL").starts_with("IS NULL / IS NOT NULL is only supported"));
        assert!(err("params.a = 'unterminated").contains("never closed"));
        assert!(err("metrics.rmse < 1 and").contains("AND"));
        assert!(err("start_time > 'yesterday'")
            .starts_with("Expected numeric value type for numeric attribute"));
    }

    fn seeded() -> (Store, Vec<String>) {
        let mut s = Store::open_in_memory().unwrap();
        let mut ids = Vec::new();
        for (i, (name, rmse, alpha, model)) in [
            ("a", 0.9, "0.1", "lasso"),
            ("b", 0.4, "0.01", "xgboost"),
            ("c", 0.2, "1.0", "xgb-tuned"),
            ("d", f64::NAN, "0.1", "Xgb"),
        ]
        .iter()
        .enumerate()
        {
            let run = s
                .create_run("0", "u", Some(100 + i as i64), Some(name), &[])
                .unwrap();
            let id = run.info.run_id;
            s.log_batch(
                &id,
                &[Metric {
                    key: "rmse".into(),
                    value: *rmse,
                    timestamp: 1,
                    step: 0,
                }],
                &[KeyValue::new("alpha", *alpha)],
                &[KeyValue::new("model", *model)],
            )
            .unwrap();
            ids.push(id);
        }
        (s, ids)
    }

    fn names(s: &Store, filter: &str, order_by: &[&str]) -> Vec<String> {
        let q = RunSearch {
            experiment_ids: vec!["0".into()],
            filter: filter.into(),
            order_by: order_by.iter().map(|o| o.to_string()).collect(),
            ..Default::default()
        };
        s.search_runs(&q)
            .unwrap()
            .0
            .into_iter()
            .map(|r| r.info.run_name)
            .collect()
    }

    #[test]
    fn searches_filter_and_order_as_mlflow_does() {
        let (mut s, ids) = seeded();
        assert_eq!(
            names(&s, "", &[]),
            ["d", "c", "b", "a"],
            "newest first by default"
        );
        assert_eq!(
            names(&s, "metrics.rmse < 0.5", &["metrics.rmse"]),
            ["c", "b"],
            "NaN never satisfies <"
        );
        assert_eq!(
            names(&s, "metrics.rmse != 0.4", &["attributes.run_name"]),
            ["a", "c", "d"],
            "NaN satisfies !="
        );
        assert_eq!(
            names(&s, "params.alpha = '0.1'", &["attributes.run_name ASC"]),
            ["a", "d"]
        );
        assert_eq!(
            names(&s, "tags.model LIKE 'xg%'", &["attributes.run_name"]),
            ["b", "c"],
            "LIKE is case-sensitive"
        );
        assert_eq!(
            names(&s, "tags.model ILIKE 'xg%'", &["attributes.run_name"]),
            ["b", "c", "d"]
        );
        assert_eq!(names(&s, "attributes.run_name = 'b'", &[]), ["b"]);
        assert_eq!(
            names(
                &s,
                &format!("attributes.run_id IN ('{}', '{}')", ids[0], ids[2]),
                &["run_name"]
            ),
            ["a", "c"]
        );
        assert_eq!(
            names(&s, "metrics.rmse > 0", &["metrics.rmse DESC"]),
            ["a", "b", "c"]
        );
        assert_eq!(
            names(&s, "", &["metrics.rmse DESC"]),
            ["a", "b", "c", "d"],
            "NaN after numbers in either direction"
        );
        assert_eq!(names(&s, "", &["metrics.rmse ASC"]), ["c", "b", "a", "d"]);
        assert_eq!(
            names(&s, "", &["params.alpha DESC", "attributes.run_name DESC"]),
            ["c", "d", "a", "b"]
        );
        assert_eq!(
            names(
                &s,
                "params.missing IS NULL and tags.model IS NOT NULL",
                &["run_name"]
            )
            .len(),
            4
        );
        s.delete_run(&ids[1]).unwrap();
        assert_eq!(names(&s, "", &["run_name"]), ["a", "c", "d"]);
        let deleted = RunSearch {
            experiment_ids: vec!["0".into()],
            view: ViewType::DeletedOnly,
            ..Default::default()
        };
        assert_eq!(s.search_runs(&deleted).unwrap().0.len(), 1);
    }

    #[test]
    fn pages_follow_tokens_to_the_end() {
        let (s, _) = seeded();
        let mut q = RunSearch {
            experiment_ids: vec!["0".into()],
            max_results: Some(3),
            order_by: vec!["run_name".into()],
            ..Default::default()
        };
        let (first, token) = search_runs(s.connection(), &q).unwrap();
        assert_eq!(first.len(), 3);
        q.page_token = token;
        let (second, token) = search_runs(s.connection(), &q).unwrap();
        assert_eq!(second.len(), 1);
        assert!(token.is_none());
        q.max_results = Some(0);
        assert!(search_runs(s.connection(), &q)
            .unwrap_err()
            .message
            .contains("positive integer"));
        q.max_results = Some(50_001);
        assert!(search_runs(s.connection(), &q)
            .unwrap_err()
            .message
            .contains("at most 50000"));
        q.max_results = None;
        q.page_token = Some("garbage!".into());
        assert!(search_runs(s.connection(), &q).is_err());
        q.page_token = None;
        q.order_by = vec!["metrics.rmse SIDEWAYS".into()];
        assert_eq!(
            search_runs(s.connection(), &q).unwrap_err().message,
            "Invalid ordering key in order_by clause 'metrics.rmse SIDEWAYS'."
        );
    }

    #[test]
    fn counts_and_keys_follow_the_filter_and_lifecycle() {
        let (mut s, ids) = seeded();
        let q = |filter: &str, view: ViewType| RunSearch {
            experiment_ids: vec!["0".into()],
            filter: filter.into(),
            view,
            ..Default::default()
        };
        let count = |s: &Store, filter: &str, view| count_runs(s.connection(), &q(filter, view));
        assert_eq!(count(&s, "", ViewType::ActiveOnly).unwrap(), 4);
        assert_eq!(
            count(&s, "metrics.rmse < 0.5", ViewType::ActiveOnly).unwrap(),
            2
        );
        assert_eq!(
            count(&s, "tags.model LIKE 'xg%'", ViewType::All).unwrap(),
            2
        );
        s.delete_run(&ids[0]).unwrap();
        assert_eq!(count(&s, "", ViewType::ActiveOnly).unwrap(), 3);
        assert_eq!(count(&s, "", ViewType::DeletedOnly).unwrap(), 1);
        assert!(
            count(&s, "metrics.rmse <", ViewType::All).is_err(),
            "a bad filter is refused as search refuses it"
        );
        let mut bad_order = q("", ViewType::All);
        bad_order.order_by = vec!["metrics.rmse SIDEWAYS".into()];
        assert!(count_runs(s.connection(), &bad_order).is_err());
        let run = s.create_run("0", "u", Some(1), Some("e"), &[]).unwrap();
        s.log_batch(
            &run.info.run_id,
            &[Metric {
                key: "mae".into(),
                value: 1.0,
                timestamp: 1,
                step: 0,
            }],
            &[KeyValue::new("l1_ratio", "0.5")],
            &[KeyValue::new("developer", "ana")],
        )
        .unwrap();
        let keys = run_keys(s.connection(), &q("", ViewType::ActiveOnly)).unwrap();
        assert_eq!(keys.metrics, ["mae", "rmse"]);
        assert_eq!(keys.params, ["alpha", "l1_ratio"]);
        assert!(
            keys.tags.contains(&"developer".to_string())
                && keys.tags.contains(&"model".to_string())
        );
        let only_e = run_keys(
            s.connection(),
            &q("attributes.run_name = 'e'", ViewType::ActiveOnly),
        )
        .unwrap();
        assert_eq!(only_e.metrics, ["mae"]);
        assert!(run_keys(s.connection(), &RunSearch::default())
            .unwrap()
            .metrics
            .is_empty());
    }

    #[test]
    fn experiments_search_by_name_tags_and_order() {
        let mut s = Store::open_in_memory().unwrap();
        s.create_experiment("conformance", None, &[KeyValue::new("team", "mlops")])
            .unwrap();
        s.create_experiment("second", None, &[]).unwrap();
        let ids = |filter: &str, order: &[&str]| {
            let q = ExperimentSearch {
                filter: filter.into(),
                order_by: order.iter().map(|o| o.to_string()).collect(),
                ..Default::default()
            };
            search_experiments(s.connection(), &q).unwrap().0
        };
        assert_eq!(ids("name LIKE 'conf%'", &[]), [1]);
        assert_eq!(ids("tags.team = 'mlops'", &[]), [1]);
        assert_eq!(
            ids("", &["name"]),
            [0, 1, 2],
            "binary collation: \"Default\" before \"conformance\""
        );
        assert_eq!(
            ids("attribute.experiment_id IN ('0', '2')", &["experiment_id"]),
            [0, 2]
        );
        assert!(Filter::parse_experiments("metrics.x > 1").is_err());
    }
}

/// Fuzzing the parser (native only: proptest does not build for wasm32).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod fuzz {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_parser_never_panics(text in "\\PC{0,80}") {
            let _ = Filter::parse_runs(&text);
            let _ = Filter::parse_experiments(&text);
            let _ = order_entry(&text);
        }

        #[test]
        fn the_parser_never_panics_on_token_soup(parts in proptest::collection::vec(proptest::sample::select(vec![
            "metrics.rmse", "params.`a b`", "tags.\"x\"", "status", "attributes.run_id", "dataset.name", "AND", "and", "OR",
            "IN", "NOT", "IS", "NULL", "LIKE", "ILIKE", "=", "!=", "<", ">=", "<<<", "(", ")", ",", "'v'", "\"v\"", "1", "-2.5e3",
            "'", "\"", "`", ".", "..",
        ]), 0..12)) {
            let text = parts.join(" ");
            let _ = Filter::parse_runs(&text);
            let _ = Filter::parse_experiments(&text);
        }
    }
}
