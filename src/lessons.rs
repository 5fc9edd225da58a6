//! TEMPORARY stub (replaced by the lessons branch's parser).
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lesson {
    pub number: u32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub cells: Vec<Cell>,
}
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub title: String,
    pub markdown: String,
    pub python: String,
    pub bash: Option<String>,
    pub step: Option<Step>,
    pub view: Option<String>,
}
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub name: String,
    pub args: BTreeMap<String, String>,
}
pub fn all() -> Result<Vec<Lesson>, String> {
    Ok(vec![])
}
