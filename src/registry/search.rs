//! Registry search behind the interface `src/tracking/search.rs` is to export
//! (`search_registered_models`, `search_model_versions` over a [`ModelSearch`]).
//!
//! INTERIM: until those functions land there, this module answers with its own small
//! implementation of MLflow's registry filters — clauses joined by `AND` on `name`, `run_id`,
//! `source_path`, `version_number` and `tags.<key>`, with `=`, `!=`, `<`, `<=`, `>`, `>=`,
//! `LIKE`, `ILIKE`, `IN`, `NOT IN` — and MLflow's orderings and page tokens. When search.rs has
//! them, this file becomes a re-export.

use super::validation::{IS_PROMPT_TAG_KEY, STAGE_DELETED_INTERNAL};
use super::WORKSPACE;
use crate::api::{ApiError, ApiResult};
use crate::tracking::paging::{page_token, parse_page_token};
use rusqlite::{params, Connection};
use std::cmp::Ordering;
use std::collections::HashMap;

/// One registry search request (the shape `src/tracking/search.rs` will export).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelSearch {
    pub filter: String,
    pub max_results: Option<i64>,
    pub order_by: Vec<String>,
    pub page_token: Option<String>,
}

/// (name, version) of one page of model versions, and the next page's token.
pub type VersionPage = (Vec<(String, i64)>, Option<String>);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(String),
    Op(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(filter: &str) -> ApiResult<Vec<Token>> {
    let bad = |why: &str| ApiError::invalid(format!("Invalid filter '{filter}': {why}"));
    let chars: Vec<char> = filter.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::LParen);
                i += 1
            }
            ')' => {
                out.push(Token::RParen);
                i += 1
            }
            ',' => {
                out.push(Token::Comma);
                i += 1
            }
            '\'' | '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(bad("unterminated string")),
                        Some(&q) if q == c => {
                            if chars.get(i + 1) == Some(&c) {
                                s.push(c);
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1
                        }
                    }
                }
                out.push(Token::Str(s));
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                if ["!=", "<=", ">="].contains(&two.as_str()) {
                    out.push(Token::Op(two));
                    i += 2;
                } else if c == '!' {
                    return Err(bad("'!' must be followed by '='"));
                } else {
                    out.push(Token::Op(c.to_string()));
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                out.push(Token::Num(chars[start..i].iter().collect()));
            }
            _ => {
                // An identifier: words, dots and `backquoted` parts.
                let mut s = String::new();
                while i < chars.len() {
                    let ch = chars[i];
                    if ch == '`' {
                        let end = chars[i + 1..]
                            .iter()
                            .position(|&x| x == '`')
                            .ok_or_else(|| bad("unterminated backquote"))?;
                        s.extend(&chars[i + 1..i + 1 + end]);
                        i += end + 2;
                    } else if ch.is_alphanumeric() || ch == '_' || ch == '.' {
                        s.push(ch);
                        i += 1;
                    } else {
                        break;
                    }
                }
                if s.is_empty() {
                    return Err(bad(&format!("unexpected character '{c}'")));
                }
                out.push(Token::Ident(s));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Key {
    Attr(String),
    Tag(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Num(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
struct Clause {
    key: Key,
    op: String,
    value: Val,
}

fn parse_filter(filter: &str) -> ApiResult<Vec<Clause>> {
    let tokens = tokenize(filter)?;
    let bad = || ApiError::invalid(format!("Invalid filter '{filter}'. Could not be parsed."));
    let mut clauses = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !clauses.is_empty() {
            match &tokens[i] {
                Token::Ident(w) if w.eq_ignore_ascii_case("and") => i += 1,
                _ => return Err(bad()),
            }
        }
        let Some(Token::Ident(ident)) = tokens.get(i) else {
            return Err(bad());
        };
        let key = match ident.split_once('.') {
            Some((p, k)) if ["tags", "tag"].contains(&p.to_lowercase().as_str()) => {
                Key::Tag(k.to_string())
            }
            Some((p, k))
                if ["attribute", "attributes", "attr"].contains(&p.to_lowercase().as_str()) =>
            {
                Key::Attr(k.to_string())
            }
            _ => Key::Attr(ident.clone()),
        };
        i += 1;
        let op = match tokens.get(i) {
            Some(Token::Op(o)) => o.clone(),
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("not") => match tokens.get(i + 1) {
                Some(Token::Ident(w2)) if w2.eq_ignore_ascii_case("in") => {
                    i += 1;
                    "NOT IN".to_string()
                }
                _ => return Err(bad()),
            },
            Some(Token::Ident(w))
                if ["like", "ilike", "in"].contains(&w.to_lowercase().as_str()) =>
            {
                w.to_uppercase()
            }
            _ => return Err(bad()),
        };
        i += 1;
        let value = match tokens.get(i) {
            Some(Token::Str(s)) => Val::Str(s.clone()),
            Some(Token::Num(n)) => Val::Num(n.clone()),
            Some(Token::LParen) => {
                let mut items = Vec::new();
                i += 1;
                loop {
                    match tokens.get(i) {
                        Some(Token::Str(s)) | Some(Token::Num(s)) => items.push(s.clone()),
                        _ => return Err(bad()),
                    }
                    i += 1;
                    match tokens.get(i) {
                        Some(Token::Comma) => i += 1,
                        Some(Token::RParen) => break,
                        _ => return Err(bad()),
                    }
                }
                Val::List(items)
            }
            _ => return Err(bad()),
        };
        if (op == "IN" || op == "NOT IN") != matches!(value, Val::List(_)) {
            return Err(ApiError::invalid(format!(
                "Invalid comparator '{op}' for the value in filter '{filter}'"
            )));
        }
        i += 1;
        clauses.push(Clause { key, op, value });
    }
    Ok(clauses)
}

/// SQL `LIKE` with `%` and `_`, case-sensitive (MLflow turns on `case_sensitive_like` on SQLite).
fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut ti, mut pi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

fn compare_str(lhs: &str, op: &str, value: &Val) -> ApiResult<bool> {
    Ok(match (op, value) {
        ("=", Val::Str(v)) => lhs == v,
        ("!=", Val::Str(v)) => lhs != v,
        ("LIKE", Val::Str(v)) => like(lhs, v),
        ("ILIKE", Val::Str(v)) => like(&lhs.to_lowercase(), &v.to_lowercase()),
        ("IN", Val::List(items)) => items.iter().any(|i| i == lhs),
        ("NOT IN", Val::List(items)) => !items.iter().any(|i| i == lhs),
        _ => {
            return Err(ApiError::invalid(format!(
                "Invalid comparator '{op}' for a string value"
            )))
        }
    })
}

fn compare_num(lhs: i64, op: &str, value: &Val, key: &str) -> ApiResult<bool> {
    let parse = |s: &str| {
        s.trim().parse::<i64>().map_err(|_| {
            ApiError::invalid(format!(
                "Invalid value for numeric attribute '{key}': '{s}'"
            ))
        })
    };
    Ok(match value {
        Val::Num(s) | Val::Str(s) => {
            let v = parse(s)?;
            match op {
                "=" => lhs == v,
                "!=" => lhs != v,
                "<" => lhs < v,
                "<=" => lhs <= v,
                ">" => lhs > v,
                ">=" => lhs >= v,
                _ => {
                    return Err(ApiError::invalid(format!(
                        "Invalid comparator for attribute {key}: {op}"
                    )))
                }
            }
        }
        Val::List(items) => {
            let values = items
                .iter()
                .map(|s| parse(s))
                .collect::<ApiResult<Vec<_>>>()?;
            match op {
                "IN" => values.contains(&lhs),
                _ => !values.contains(&lhs),
            }
        }
    })
}

fn tags_of(
    conn: &Connection,
    table: &str,
) -> ApiResult<HashMap<(String, i64), HashMap<String, String>>> {
    let version = if table == "model_version_tags" {
        "version"
    } else {
        "0"
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT name, {version}, key, value FROM {table} WHERE workspace = ?1"
    ))?;
    let mut out: HashMap<(String, i64), HashMap<String, String>> = HashMap::new();
    let mut rows = stmt.query([WORKSPACE])?;
    while let Some(r) = rows.next()? {
        out.entry((r.get(0)?, r.get(1)?)).or_default().insert(
            r.get(2)?,
            r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        );
    }
    Ok(out)
}

/// Whether the filter asks for prompts (`tags.mlflow.prompt.is_prompt = 'true'`); otherwise
/// prompts are left out, as MLflow leaves them out of model searches.
fn querying_prompts(clauses: &[Clause]) -> bool {
    clauses.iter().any(|c| match (&c.key, &c.value) {
        (Key::Tag(k), Val::Str(v)) if k == IS_PROMPT_TAG_KEY => {
            (c.op == "=" && v.to_lowercase() == "true")
                || (c.op == "!=" && v.to_lowercase() == "false")
        }
        _ => false,
    })
}

fn parse_order(clause: &str) -> ApiResult<(String, bool)> {
    let parts: Vec<&str> = clause.split_whitespace().collect();
    let (key, asc) = match parts.as_slice() {
        [key] => (key.to_string(), true),
        [key, dir] => match dir.to_lowercase().as_str() {
            "asc" => (key.to_string(), true),
            "desc" => (key.to_string(), false),
            _ => {
                return Err(ApiError::invalid(format!(
                    "Invalid ordering key in order_by clause '{clause}'."
                )))
            }
        },
        _ => {
            return Err(ApiError::invalid(format!(
                "Invalid order_by clause '{clause}'. Could not be parsed."
            )))
        }
    };
    Ok((key.trim_matches('`').to_string(), asc))
}

fn page<T: Clone>(items: &[T], q: &ModelSearch) -> ApiResult<(Vec<T>, Option<String>)> {
    let offset = parse_page_token(q.page_token.as_deref())?.max(0) as usize;
    let max = q.max_results.unwrap_or(100).max(0) as usize;
    let start = offset.min(items.len());
    let end = start.saturating_add(max).min(items.len());
    let token = (items.len() > end).then(|| page_token((offset + max) as i64));
    Ok((items[start..end].to_vec(), token))
}

fn sort_by_keys<T>(
    items: &mut [T],
    keys: &[(String, bool)],
    value: impl Fn(&T, &str) -> SortValue,
) {
    items.sort_by(|a, b| {
        for (key, asc) in keys {
            let ord = value(a, key).cmp(&value(b, key));
            let ord = if *asc { ord } else { ord.reverse() };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortValue {
    Int(Option<i64>),
    Text(String),
}

/// Names of the registered models matching the search, in order, one page; and the next page's token.
pub fn search_registered_models(
    conn: &Connection,
    q: &ModelSearch,
) -> ApiResult<(Vec<String>, Option<String>)> {
    let clauses = parse_filter(&q.filter)?;
    for c in &clauses {
        if let Key::Attr(k) = &c.key {
            if k != "name" {
                return Err(ApiError::invalid(format!(
                    "Invalid attribute key '{k}' specified. Valid keys are '{{'name'}}'"
                )));
            }
        }
    }
    let mut keys: Vec<(String, bool)> = Vec::new();
    for clause in &q.order_by {
        let (key, asc) = parse_order(clause)?;
        let field = match key.as_str() {
            "name" => "name",
            "timestamp" | "last_updated_timestamp" => "last_updated_timestamp",
            _ => {
                return Err(ApiError::invalid(format!(
                "Invalid order by key '{key}' specified. Valid keys are '{{'timestamp', 'name'}}'"
            )))
            }
        };
        if keys.iter().any(|(k, _)| k == field) {
            return Err(super::validation::uncoded(format!(
                "`order_by` contains duplicate fields: {}",
                super::validation::py_list_repr(&q.order_by)
            )));
        }
        keys.push((field.to_string(), asc));
    }
    if !keys.iter().any(|(k, _)| k == "name") {
        keys.push(("name".into(), true));
    }
    let tags = tags_of(conn, "registered_model_tags")?;
    let prompts = querying_prompts(&clauses);
    let mut stmt =
        conn.prepare("SELECT name, last_updated_time FROM registered_models WHERE workspace = ?1")?;
    let rows = stmt
        .query_map([WORKSPACE], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let empty = HashMap::new();
    let mut matched = Vec::new();
    'models: for (name, updated) in rows {
        let model_tags = tags.get(&(name.clone(), 0)).unwrap_or(&empty);
        let is_prompt = model_tags
            .get(IS_PROMPT_TAG_KEY)
            .is_some_and(|v| v == "true");
        if is_prompt != prompts {
            continue;
        }
        for c in &clauses {
            let ok = match &c.key {
                Key::Attr(_) => compare_str(&name, &c.op, &c.value)?,
                Key::Tag(k) if k == IS_PROMPT_TAG_KEY => true,
                Key::Tag(k) => match model_tags.get(k) {
                    Some(v) => compare_str(v, &c.op, &c.value)?,
                    None => false,
                },
            };
            if !ok {
                continue 'models;
            }
        }
        matched.push((name, updated));
    }
    sort_by_keys(&mut matched, &keys, |(name, updated), key| match key {
        "name" => SortValue::Text(name.clone()),
        _ => SortValue::Int(*updated),
    });
    let (page, token) = page(&matched, q)?;
    Ok((page.into_iter().map(|(n, _)| n).collect(), token))
}

struct VersionRow {
    name: String,
    version: i64,
    created: Option<i64>,
    updated: Option<i64>,
    run_id: Option<String>,
    source: Option<String>,
}

/// (name, version) of the model versions matching the search, in order, one page; and the next
/// page's token.
pub fn search_model_versions(conn: &Connection, q: &ModelSearch) -> ApiResult<VersionPage> {
    let clauses = parse_filter(&q.filter)?;
    for c in &clauses {
        if let Key::Attr(k) = &c.key {
            if !["name", "version_number", "run_id", "source_path"].contains(&k.as_str()) {
                return Err(ApiError::invalid(format!(
                    "Invalid attribute key '{k}' specified. Valid keys are \
                     '{{'name', 'run_id', 'source_path', 'version_number'}}'"
                )));
            }
        }
    }
    let order_by: Vec<String> = if q.order_by.is_empty() {
        vec![
            "last_updated_timestamp DESC".into(),
            "name ASC".into(),
            "version_number DESC".into(),
        ]
    } else {
        q.order_by.clone()
    };
    let mut keys: Vec<(String, bool)> = Vec::new();
    for clause in &order_by {
        let (key, asc) = parse_order(clause)?;
        let key = key
            .strip_prefix("attribute.")
            .or_else(|| key.strip_prefix("attributes."))
            .unwrap_or(&key)
            .to_string();
        if ![
            "name",
            "version_number",
            "creation_timestamp",
            "last_updated_timestamp",
        ]
        .contains(&key.as_str())
        {
            return Err(ApiError::invalid(format!(
                "Invalid order by key '{key}' specified. Valid keys are \
                 {{'creation_timestamp', 'last_updated_timestamp', 'name', 'version_number'}}"
            )));
        }
        if keys.iter().any(|(k, _)| *k == key) {
            return Err(super::validation::uncoded(format!(
                "`order_by` contains duplicate fields: {}",
                super::validation::py_list_repr(&order_by)
            )));
        }
        keys.push((key, asc));
    }
    if !keys.iter().any(|(k, _)| k == "name") {
        keys.push(("name".into(), true));
    }
    if !keys.iter().any(|(k, _)| k == "version_number") {
        keys.push(("version_number".into(), false));
    }
    let tags = tags_of(conn, "model_version_tags")?;
    let prompt_names: Vec<String> = tags
        .iter()
        .filter(|(_, t)| t.get(IS_PROMPT_TAG_KEY).is_some_and(|v| v == "true"))
        .map(|((n, _), _)| n.clone())
        .collect();
    let prompts = querying_prompts(&clauses);
    let mut stmt = conn.prepare(
        "SELECT name, version, creation_time, last_updated_time, run_id, source FROM model_versions
         WHERE workspace = ?1 AND current_stage != ?2",
    )?;
    let rows = stmt
        .query_map(params![WORKSPACE, STAGE_DELETED_INTERNAL], |r| {
            Ok(VersionRow {
                name: r.get(0)?,
                version: r.get(1)?,
                created: r.get(2)?,
                updated: r.get(3)?,
                run_id: r.get(4)?,
                source: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let empty = HashMap::new();
    let mut matched = Vec::new();
    'versions: for row in rows {
        if prompt_names.contains(&row.name) != prompts {
            continue;
        }
        let version_tags = tags.get(&(row.name.clone(), row.version)).unwrap_or(&empty);
        for c in &clauses {
            let ok = match &c.key {
                Key::Attr(k) if k == "version_number" => {
                    compare_num(row.version, &c.op, &c.value, k)?
                }
                Key::Attr(k) => {
                    let lhs = match k.as_str() {
                        "name" => Some(&row.name),
                        "run_id" => row.run_id.as_ref(),
                        _ => row.source.as_ref(),
                    };
                    match lhs {
                        Some(v) => compare_str(v, &c.op, &c.value)?,
                        None => false,
                    }
                }
                Key::Tag(k) if k == IS_PROMPT_TAG_KEY => true,
                Key::Tag(k) => match version_tags.get(k) {
                    Some(v) => compare_str(v, &c.op, &c.value)?,
                    None => false,
                },
            };
            if !ok {
                continue 'versions;
            }
        }
        matched.push(row);
    }
    sort_by_keys(&mut matched, &keys, |row, key| match key {
        "name" => SortValue::Text(row.name.clone()),
        "version_number" => SortValue::Int(Some(row.version)),
        "creation_timestamp" => SortValue::Int(row.created),
        _ => SortValue::Int(row.updated),
    });
    let keys: Vec<(String, i64)> = matched.into_iter().map(|r| (r.name, r.version)).collect();
    page(&keys, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_into_clauses() {
        let c = parse_filter("name LIKE 'fo%' and tags.`my key` != \"x\" AND version_number >= 2")
            .unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[1].key, Key::Tag("my key".into()));
        assert_eq!(c[2].value, Val::Num("2".into()));
        let c = parse_filter("run_id IN ('a', 'b')").unwrap();
        assert_eq!(c[0].value, Val::List(vec!["a".into(), "b".into()]));
        assert!(parse_filter("name = ").is_err());
        assert!(parse_filter("name = 'a' OR name = 'b'").is_err());
        assert!(parse_filter("").unwrap().is_empty());
    }

    #[test]
    fn like_is_sqls_like() {
        assert!(like("model-a", "model%"));
        assert!(like("model-a", "model-_"));
        assert!(!like("Model-a", "model%"));
        assert!(like("abc", "%b%"));
        assert!(!like("abc", "%d%"));
        assert!(like("", "%"));
    }
}
