//! The lessons: the course's MLflow chapters as notebook cells, written as Markdown files in
//! `src/lessons/` (one per lesson, `NN-slug.md`) and compiled into the app. Keeping them as text
//! lets the compatibility tests execute every Python block with real MLflow, and the browser test
//! run every cell, from the same source the learner reads.
//!
//! A lesson file:
//!
//! ````text
//! # 1. Title
//! A summary paragraph.
//! ## A cell's title
//! Explanation (Markdown).
//! ```python
//! the MLflow 3.x code of the step (required)
//! ```
//! ```bash
//! a terminal command (optional)
//! ```
//! ```flowbook
//! step: train          (what "Run" does in Flowbook; absent: the cell is read, not run)
//! view: runs           (the view its result lives in)
//! alpha: 0.1           (any other line: an argument of the step)
//! ```
//! ````

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

/// What a cell's Run performs in the engine: a named step and its arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub name: String,
    pub args: BTreeMap<String, String>,
}

/// The steps the app can perform (the UI's `lessons::steps::run` matches on these names).
pub const STEPS: &[&str] = &[
    "create-experiment",
    "train",
    "autolog",
    "show-runs",
    "show-file-store",
    "show-sql-tables",
    "tune",
    "log-model",
    "load-model",
    "custom-model",
    "register",
    "stages-aliases",
    "choose-champion",
    "feature-table",
    "feature-lookup",
    "data-drift",
    "concept-drift",
    "export",
];

/// The views a cell can link to.
pub const VIEWS: &[&str] = &[
    "experiments",
    "runs",
    "run",
    "compare",
    "models",
    "model",
    "monitor",
    "transfer",
    "train",
    "features",
];

/// The lesson files, in order. A unit test checks this list against the folder.
const FILES: &[(&str, &str)] = &[
    ("01-why-track.md", include_str!("lessons/01-why-track.md")),
    (
        "02-where-mlflow-keeps-things.md",
        include_str!("lessons/02-where-mlflow-keeps-things.md"),
    ),
    ("03-tuning.md", include_str!("lessons/03-tuning.md")),
    ("04-autolog.md", include_str!("lessons/04-autolog.md")),
    (
        "05-artifacts-and-models.md",
        include_str!("lessons/05-artifacts-and-models.md"),
    ),
    (
        "06-custom-models.md",
        include_str!("lessons/06-custom-models.md"),
    ),
    ("07-registry.md", include_str!("lessons/07-registry.md")),
    (
        "08-feature-lookup.md",
        include_str!("lessons/08-feature-lookup.md"),
    ),
    ("09-monitoring.md", include_str!("lessons/09-monitoring.md")),
    (
        "10-take-it-to-mlflow.md",
        include_str!("lessons/10-take-it-to-mlflow.md"),
    ),
];

/// Every lesson, parsed. An error names the file and the cell at fault.
pub fn all() -> Result<Vec<Lesson>, String> {
    FILES.iter().map(|(name, text)| parse(name, text)).collect()
}

/// One lesson file; `name` is `NN-slug.md`.
pub fn parse(name: &str, text: &str) -> Result<Lesson, String> {
    let fail = |what: String| format!("lesson {name}: {what}");
    let stem = name
        .strip_suffix(".md")
        .ok_or_else(|| fail("the file name must end in .md".into()))?;
    let (number, slug) = stem
        .split_once('-')
        .and_then(|(n, s)| Some((n.parse::<u32>().ok()?, s)))
        .ok_or_else(|| fail("the file name must be NN-slug.md".into()))?;
    let mut lines = text.lines();
    let title = lines
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .map(str::trim)
        .ok_or_else(|| fail("the first line must be '# <number>. <title>'".into()))?;
    if !title.starts_with(&format!("{number}. ")) {
        return Err(fail(format!(
            "the title '{title}' must start with its number '{number}. '"
        )));
    }
    let mut summary = Vec::new();
    let mut sections: Vec<(String, Vec<&str>)> = Vec::new();
    let mut in_fence = false;
    for line in lines {
        if line.starts_with("```") {
            in_fence = !in_fence;
        }
        if !in_fence && line.starts_with("## ") {
            sections.push((line[3..].trim().to_string(), Vec::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push(line);
        } else {
            summary.push(line);
        }
    }
    if in_fence {
        return Err(fail("a ``` block is not closed".into()));
    }
    if sections.is_empty() {
        return Err(fail("it has no cells ('## ' headings)".into()));
    }
    let cells = sections
        .into_iter()
        .map(|(title, body)| {
            parse_cell(&title, &body).map_err(|e| fail(format!("cell '{title}': {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Lesson {
        number,
        slug: slug.to_string(),
        title: title.to_string(),
        summary: summary.join(" ").trim().to_string(),
        cells,
    })
}

fn parse_cell(title: &str, body: &[&str]) -> Result<Cell, String> {
    let mut markdown = Vec::new();
    let mut blocks: BTreeMap<String, String> = BTreeMap::new();
    let mut open: Option<(String, Vec<&str>)> = None;
    for line in body {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_string(), Vec::new())),
            (Some(_), Some("")) => {
                let (lang, lines) = open.take().unwrap_or_default();
                if !["python", "bash", "flowbook"].contains(&lang.as_str()) {
                    return Err(format!(
                        "a ```{lang} block: only python, bash and flowbook blocks are known"
                    ));
                }
                if blocks.insert(lang.clone(), lines.join("\n")).is_some() {
                    return Err(format!("it has two ```{lang} blocks"));
                }
            }
            (Some((_, lines)), _) => lines.push(line),
            (None, None) => markdown.push(*line),
        }
    }
    if title.is_empty() {
        return Err("a cell needs a title".into());
    }
    let python = blocks
        .remove("python")
        .filter(|p| !p.trim().is_empty())
        .ok_or("it has no ```python block")?;
    let (step, view) = match blocks.remove("flowbook") {
        Some(spec) => parse_step(&spec)?,
        None => (None, None),
    };
    Ok(Cell {
        title: title.to_string(),
        markdown: markdown.join("\n").trim().to_string(),
        python,
        bash: blocks.remove("bash"),
        step,
        view,
    })
}

fn parse_step(spec: &str) -> Result<(Option<Step>, Option<String>), String> {
    let mut args = BTreeMap::new();
    let (mut name, mut view) = (None, None);
    for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, value) = line
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim().to_string()))
            .ok_or_else(|| format!("'{line}' in the flowbook block is not 'key: value'"))?;
        match key {
            "step" if !STEPS.contains(&value.as_str()) => {
                return Err(format!("Flowbook has no step named '{value}'"))
            }
            "step" => name = Some(value),
            "view" if !VIEWS.contains(&value.as_str()) => {
                return Err(format!("Flowbook has no view named '{value}'"))
            }
            "view" => view = Some(value),
            _ => {
                args.insert(key.to_string(), value);
            }
        }
    }
    match name {
        Some(name) => Ok((Some(Step { name, args }), view)),
        None if args.is_empty() => Ok((None, view)),
        None => Err("the flowbook block has arguments but no 'step:'".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# 3. Tuning\nFind good parameters.\n\n## Search\nTPE **proposes**.\n\n```python\nfmin(objective)\n```\n\n```flowbook\nstep: tune\nview: compare\ntrials: 10\n```\n\n## Reading\nLook.\n```python\n## not a heading inside code\nprint(1)\n```\n";

    #[test]
    fn a_lesson_parses_into_cells_with_their_python_and_step() {
        let l = parse("03-tuning.md", GOOD).unwrap();
        assert_eq!((l.number, l.slug.as_str()), (3, "tuning"));
        assert_eq!(l.title, "3. Tuning");
        assert_eq!(l.summary, "Find good parameters.");
        assert_eq!(l.cells.len(), 2);
        let step = l.cells[0].step.as_ref().unwrap();
        assert_eq!(step.name, "tune");
        assert_eq!(step.args.get("trials").map(String::as_str), Some("10"));
        assert_eq!(l.cells[0].view.as_deref(), Some("compare"));
        assert_eq!(l.cells[0].markdown, "TPE **proposes**.");
        assert_eq!(l.cells[1].python, "## not a heading inside code\nprint(1)");
        assert!(l.cells[1].step.is_none());
    }

    #[test]
    fn faults_are_named_with_file_and_cell() {
        let cases = [
            (
                "03-tuning.md",
                GOOD.replace("```python\nfmin(objective)\n```", ""),
                "cell 'Search': it has no ```python block",
            ),
            (
                "03-tuning.md",
                GOOD.replace("step: tune", "step: tuen"),
                "no step named 'tuen'",
            ),
            (
                "03-tuning.md",
                GOOD.replace("view: compare", "view: nowhere"),
                "no view named 'nowhere'",
            ),
            (
                "03-tuning.md",
                GOOD.replace("trials: 10", "trials 10"),
                "'trials 10' in the flowbook block is not 'key: value'",
            ),
            (
                "03-tuning.md",
                GOOD.replace("# 3. Tuning", "# Tuning"),
                "must start with its number",
            ),
            ("tuning.md", GOOD.to_string(), "NN-slug.md"),
            (
                "03-tuning.md",
                "# 3. Tuning\nno cells".to_string(),
                "no cells",
            ),
            ("03-tuning.md", format!("{GOOD}```python\nx"), "not closed"),
            (
                "03-tuning.md",
                GOOD.replace("```flowbook", "```yaml"),
                "```yaml block",
            ),
        ];
        for (name, text, message) in cases {
            let e = parse(name, &text).unwrap_err();
            assert!(e.contains(message), "{e:?} should contain {message:?}");
            assert!(e.starts_with(&format!("lesson {name}")), "{e}");
        }
    }

    #[test]
    fn every_lesson_file_is_compiled_in_and_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lessons");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".md"))
            .collect();
        on_disk.sort();
        let listed: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(listed, on_disk);
        let lessons = all().unwrap();
        assert!(lessons.len() >= 10);
        for (i, l) in lessons.iter().enumerate() {
            assert_eq!(l.number as usize, i + 1, "{} is numbered in order", l.slug);
            assert!(!l.summary.is_empty(), "{} has a summary", l.slug);
        }
    }
}
