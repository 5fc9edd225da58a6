//! Data sets: linfa's built-in sets, generated sets (the course's linear set with its drifted
//! variants, and a taxi-trip set shaped like NYC's), and the user's CSV. A data set is a [`Frame`]
//! of feature columns (numbers or categories) and a numeric target.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    Regression,
    Classification,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Numeric(Vec<f64>),
    /// Categories, one-hot encoded by [`super::prep::Preprocessor`] (as scikit-learn's DictVectorizer).
    Text(Vec<String>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take(&self, rows: &[usize]) -> Column {
        match self {
            Column::Numeric(v) => Column::Numeric(rows.iter().map(|&i| v[i]).collect()),
            Column::Text(v) => Column::Text(rows.iter().map(|&i| v[i].clone()).collect()),
        }
    }
}

/// Named feature columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    pub names: Vec<String>,
    pub columns: Vec<Column>,
}

impl Frame {
    pub fn nrows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }

    pub fn push(&mut self, name: &str, column: Column) {
        self.names.push(name.to_string());
        self.columns.push(column);
    }

    /// The rows at `rows`, in that order.
    pub fn take(&self, rows: &[usize]) -> Frame {
        Frame {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.take(rows)).collect(),
        }
    }

    /// The frame without the columns named.
    pub fn without(&self, names: &[String]) -> Frame {
        let (names, columns) = self
            .names
            .iter()
            .zip(&self.columns)
            .filter(|(n, _)| !names.contains(n))
            .map(|(n, c)| (n.clone(), c.clone()))
            .unzip();
        Frame { names, columns }
    }

    /// A frame of numeric columns from a matrix.
    pub fn from_matrix(names: Vec<String>, x: &Array2<f64>) -> Frame {
        Frame {
            columns: x
                .columns()
                .into_iter()
                .map(|c| Column::Numeric(c.to_vec()))
                .collect(),
            names,
        }
    }

    /// The numeric columns as a matrix (rows × columns); text columns are refused.
    pub fn numeric_matrix(&self) -> Result<Array2<f64>, String> {
        let mut x = Array2::zeros((self.nrows(), self.columns.len()));
        for (j, (name, column)) in self.names.iter().zip(&self.columns).enumerate() {
            match column {
                Column::Numeric(v) => x.column_mut(j).assign(&ndarray::ArrayView1::from(v)),
                Column::Text(_) => return Err(format!("column '{name}' is not numeric")),
            }
        }
        Ok(x)
    }
}

/// Features, a numeric target, and what kind of learning it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub features: Frame,
    pub target: Vec<f64>,
    pub target_name: String,
    pub task: Task,
}

impl Dataset {
    pub fn nrows(&self) -> usize {
        self.target.len()
    }

    pub fn take(&self, rows: &[usize]) -> Dataset {
        Dataset {
            name: self.name.clone(),
            features: self.features.take(rows),
            target: rows.iter().map(|&i| self.target[i]).collect(),
            target_name: self.target_name.clone(),
            task: self.task,
        }
    }

    /// A short digest of the data, as MLflow's dataset inputs carry one (FNV-1a over the values).
    pub fn digest(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for (name, column) in self.features.names.iter().zip(&self.features.columns) {
            eat(name.as_bytes());
            match column {
                Column::Numeric(v) => v.iter().for_each(|x| eat(&x.to_le_bytes())),
                Column::Text(v) => v.iter().for_each(|x| eat(x.as_bytes())),
            }
        }
        self.target.iter().for_each(|x| eat(&x.to_le_bytes()));
        format!("{:08x}", h as u32)
    }
}

/// The names of the built-in and generated sets, for menus and error messages.
pub const BUILTIN: [&str; 8] = [
    "diabetes",
    "iris",
    "winequality",
    "linnerud",
    "linear",
    "linear-data-drift",
    "linear-concept-drift",
    "taxi-trips",
];

fn from_linfa<T>(
    name: &str,
    data: linfa::Dataset<f64, T, ndarray::Ix1>,
    task: Task,
    label: impl Fn(&T) -> f64,
) -> Dataset {
    let feature_names = data.feature_names().to_vec();
    let names = if feature_names.len() == data.records().ncols() {
        feature_names
    } else {
        (0..data.records().ncols())
            .map(|i| format!("x{i}"))
            .collect()
    };
    Dataset {
        name: name.to_string(),
        features: Frame::from_matrix(names, data.records()),
        target: data.targets().iter().map(label).collect(),
        target_name: "target".into(),
        task,
    }
}

/// A built-in (linfa-datasets) or generated set by name; generated sets use `rows` and `seed`.
pub fn builtin(name: &str, rows: usize, seed: u64) -> Result<Dataset, String> {
    Ok(match name {
        "diabetes" => from_linfa(name, linfa_datasets::diabetes(), Task::Regression, |y| *y),
        "iris" => from_linfa(name, linfa_datasets::iris(), Task::Classification, |y| {
            *y as f64
        }),
        "winequality" => from_linfa(
            name,
            linfa_datasets::winequality(),
            Task::Classification,
            |y| *y as f64,
        ),
        "linnerud" => {
            // Three exercises predict three body measures; the first (weight) is the target here.
            let data = linfa_datasets::linnerud();
            let target = data.targets().column(0).to_vec();
            Dataset {
                name: name.into(),
                features: Frame::from_matrix(
                    vec!["chins".into(), "situps".into(), "jumps".into()],
                    data.records(),
                ),
                target,
                target_name: "weight".into(),
                task: Task::Regression,
            }
        }
        "linear" => linear(rows, seed, Drift::None),
        "linear-data-drift" => linear(rows, seed, Drift::Data),
        "linear-concept-drift" => linear(rows, seed, Drift::Concept),
        "taxi-trips" => taxi_trips(rows, seed),
        other => {
            return Err(format!(
                "unknown data set '{other}': expected one of {}",
                BUILTIN.join(", ")
            ))
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Drift {
    None,
    /// The inputs move: x is drawn from a shifted distribution.
    Data,
    /// The relation moves: y gains +10 for the same x.
    Concept,
}

/// A standard normal draw (Box–Muller), from the seeded generator.
fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The course's monitoring set: `y = x + noise`, x ~ U(0, 10) (U(5, 15) with data drift).
pub fn linear(rows: usize, seed: u64, drift: Drift) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (lo, hi) = if drift == Drift::Data {
        (5.0, 15.0)
    } else {
        (0.0, 10.0)
    };
    let x: Vec<f64> = (0..rows).map(|_| rng.gen_range(lo..hi)).collect();
    let shift = if drift == Drift::Concept { 10.0 } else { 0.0 };
    let target = x.iter().map(|x| x + normal(&mut rng) + shift).collect();
    let name = match drift {
        Drift::None => "linear",
        Drift::Data => "linear-data-drift",
        Drift::Concept => "linear-concept-drift",
    };
    let mut features = Frame::default();
    features.push("x", Column::Numeric(x));
    Dataset {
        name: name.into(),
        features,
        target,
        target_name: "y".into(),
        task: Task::Regression,
    }
}

/// Trips shaped like the course's NYC green-taxi data: pick-up and drop-off zone ids (categories),
/// their pair `PU_DO`, the trip distance, and the duration in minutes (the target).
pub fn taxi_trips(rows: usize, seed: u64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    // 20 zones on a line, 1.2 miles apart; a few busy zones draw most pick-ups.
    let zone = |rng: &mut Xoshiro256PlusPlus| -> u32 {
        if rng.gen_bool(0.6) {
            [7, 41, 74, 75, 166][rng.gen_range(0..5)]
        } else {
            rng.gen_range(1..=20) * 13 % 263 + 1
        }
    };
    let (mut pu, mut dof, mut pudo, mut dist, mut minutes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rows {
        let (a, b) = (zone(&mut rng), zone(&mut rng));
        let miles =
            (f64::from(a.abs_diff(b) % 40) * 0.3 + 0.5 + normal(&mut rng).abs() * 0.8).max(0.1);
        // Downtown zones are slow; a fixed cost per trip; noise.
        let slow = if [74, 75, 166].contains(&a) { 1.3 } else { 1.0 };
        let duration = (3.0 + miles * 3.2 * slow + normal(&mut rng) * 2.0).clamp(1.0, 60.0);
        pu.push(a.to_string());
        dof.push(b.to_string());
        pudo.push(format!("{a}_{b}"));
        dist.push((miles * 100.0).round() / 100.0);
        minutes.push((duration * 100.0).round() / 100.0);
    }
    let mut features = Frame::default();
    features.push("PULocationID", Column::Text(pu));
    features.push("DOLocationID", Column::Text(dof));
    features.push("PU_DO", Column::Text(pudo));
    features.push("trip_distance", Column::Numeric(dist));
    Dataset {
        name: "taxi-trips".into(),
        features,
        target: minutes,
        target_name: "duration".into(),
        task: Task::Regression,
    }
}

/// One CSV record's fields (RFC 4180 quoting: `"a, b"`, `""` for a quote).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    fields.push(field);
    Ok(fields.into_iter().map(|f| f.trim().to_string()).collect())
}

/// A CSV's header and its cells by column, refusing ragged rows and duplicate names.
fn read_csv(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("the CSV is empty")?;
    let header =
        csv_fields(header.trim_start_matches('\u{feff}')).map_err(|e| format!("line 1: {e}"))?;
    if let Some(dup) = header
        .iter()
        .enumerate()
        .find(|(i, h)| header[..*i].contains(h))
    {
        return Err(format!("the header names column '{}' twice", dup.1));
    }
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); header.len()];
    for (n, line) in lines {
        let fields = csv_fields(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        if fields.len() != header.len() {
            return Err(format!(
                "line {} has {} fields, the header has {}",
                n + 1,
                fields.len(),
                header.len()
            ));
        }
        for (column, value) in cells.iter_mut().zip(fields) {
            column.push(value);
        }
    }
    if cells.first().is_none_or(Vec::is_empty) {
        return Err("the CSV has a header but no rows".into());
    }
    Ok((header, cells))
}

/// A column's values as numbers, or the first row (0-based) that is not one.
fn numbers(cells: &[String]) -> Result<Vec<f64>, (usize, String)> {
    cells
        .iter()
        .enumerate()
        .map(|(row, v)| v.parse::<f64>().map_err(|_| (row, v.clone())))
        .collect()
}

/// One column as a frame column: numeric when every value is a number (unless `categorical`).
fn typed_column(name: &str, cells: &[String], categorical: bool) -> Result<Column, String> {
    if cells.iter().all(String::is_empty) {
        return Err(format!("column '{name}' is empty"));
    }
    if let Some(row) = cells.iter().position(String::is_empty) {
        return Err(format!("column '{name}' has no value in row {}", row + 1));
    }
    Ok(if categorical {
        Column::Text(cells.to_vec())
    } else {
        match numbers(cells) {
            Ok(v) => Column::Numeric(v),
            Err(_) => Column::Text(cells.to_vec()),
        }
    })
}

/// A CSV as a frame of all its columns (for drift between two files).
pub fn parse_table(text: &str) -> Result<Frame, String> {
    let (header, cells) = read_csv(text)?;
    let mut frame = Frame::default();
    for (name, column) in header.iter().zip(&cells) {
        frame.push(name, typed_column(name, column, false)?);
    }
    Ok(frame)
}

/// The user's CSV: a header row, then records. Columns whose every value is a number are numeric
/// unless listed in `categorical`; other columns are categories. `features` empty means every
/// column but the target. The target must be numeric.
pub fn parse_csv(
    name: &str,
    text: &str,
    target: &str,
    features: &[String],
    categorical: &[String],
    task: Task,
) -> Result<Dataset, String> {
    let (header, cells) = read_csv(text)?;
    let index = |column: &str| {
        header.iter().position(|h| h == column).ok_or_else(|| {
            format!(
                "the CSV has no column '{column}' (its columns: {})",
                header.join(", ")
            )
        })
    };
    let target_at = index(target)?;
    let target_values = numbers(&cells[target_at]).map_err(|(row, v)| {
        format!(
            "the target '{target}' must be numeric: row {} holds '{v}'",
            row + 1
        )
    })?;
    let chosen: Vec<usize> = if features.is_empty() {
        (0..header.len()).filter(|&i| i != target_at).collect()
    } else {
        features
            .iter()
            .map(|f| index(f))
            .collect::<Result<_, _>>()?
    };
    if chosen.is_empty() {
        return Err("no feature columns are left besides the target".into());
    }
    for c in categorical {
        index(c)?;
    }
    let mut frame = Frame::default();
    for i in chosen {
        let name = &header[i];
        frame.push(
            name,
            typed_column(name, &cells[i], categorical.contains(name))?,
        );
    }
    Ok(Dataset {
        name: name.to_string(),
        features: frame,
        target: target_values,
        target_name: target.to_string(),
        task,
    })
}

/// Rows of `b` after rows of `a`; the two must have the same columns of the same kinds.
pub fn concat(a: &Dataset, b: &Dataset) -> Result<Dataset, String> {
    let mut features = Frame::default();
    for (name, column) in a.features.names.iter().zip(&a.features.columns) {
        let other = b
            .features
            .column(name)
            .ok_or_else(|| format!("the validation data has no column '{name}'"))?;
        let joined = match (column, other) {
            (Column::Numeric(x), Column::Numeric(y)) => {
                Column::Numeric([x.clone(), y.clone()].concat())
            }
            (Column::Text(x), Column::Text(y)) => Column::Text([x.clone(), y.clone()].concat()),
            (Column::Text(x), Column::Numeric(y)) => Column::Text(
                x.iter()
                    .cloned()
                    .chain(y.iter().map(|v| v.to_string()))
                    .collect(),
            ),
            _ => {
                return Err(format!(
                    "column '{name}' is numeric in one file and text in the other"
                ))
            }
        };
        features.push(name, joined);
    }
    Ok(Dataset {
        name: a.name.clone(),
        features,
        target: [a.target.clone(), b.target.clone()].concat(),
        target_name: a.target_name.clone(),
        task: a.task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_sets_load_with_their_shapes() {
        let d = builtin("diabetes", 0, 0).unwrap();
        // linfa-datasets ships 441 of scikit-learn's 442 diabetes rows.
        assert_eq!((d.nrows(), d.features.names.len()), (441, 10));
        let i = builtin("iris", 0, 0).unwrap();
        assert_eq!((i.nrows(), i.task), (150, Task::Classification));
        assert!(builtin("winequality", 0, 0).unwrap().nrows() > 1000);
        assert_eq!(builtin("linnerud", 0, 0).unwrap().nrows(), 20);
        assert!(builtin("mnist", 0, 0)
            .unwrap_err()
            .contains("unknown data set 'mnist'"));
    }

    #[test]
    fn generated_sets_are_seeded_and_drift_as_named() {
        let a = linear(500, 1, Drift::None);
        assert_eq!(a, linear(500, 1, Drift::None));
        assert_ne!(a, linear(500, 2, Drift::None));
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let x = |d: &Dataset| match &d.features.columns[0] {
            Column::Numeric(v) => mean(v),
            _ => unreachable!(),
        };
        assert!((x(&a) - 5.0).abs() < 0.5);
        assert!((x(&linear(500, 1, Drift::Data)) - 10.0).abs() < 0.5);
        let concept = linear(500, 1, Drift::Concept);
        assert!((mean(&concept.target) - mean(&a.target) - 10.0).abs() < 1e-9);
        let taxi = taxi_trips(1000, 3);
        assert_eq!(
            taxi.features.names,
            ["PULocationID", "DOLocationID", "PU_DO", "trip_distance"]
        );
        assert!(taxi.target.iter().all(|m| (1.0..=60.0).contains(m)));
    }

    #[test]
    fn csv_parses_types_and_refuses_bad_files_by_name() {
        let csv = "zone,distance,\"note, quoted\",duration\n7,1.5,a,10\n41,2.5,b,12.5\n";
        let d = parse_csv(
            "t",
            csv,
            "duration",
            &[],
            &["zone".into()],
            Task::Regression,
        )
        .unwrap();
        assert_eq!(d.features.names, ["zone", "distance", "note, quoted"]);
        assert!(matches!(d.features.column("zone"), Some(Column::Text(_))));
        assert_eq!(
            d.features.column("distance"),
            Some(&Column::Numeric(vec![1.5, 2.5]))
        );
        assert_eq!(d.target, [10.0, 12.5]);
        let err = |text: &str, target: &str| {
            parse_csv("t", text, target, &[], &[], Task::Regression).unwrap_err()
        };
        assert!(err("a,b\n1,2\n3\n", "b").contains("line 3 has 1 fields, the header has 2"));
        assert!(err("a,b\n1,x\n", "b").contains("target 'b' must be numeric: row 1 holds 'x'"));
        assert!(err("a,b\n,1\n,2\n", "b").contains("column 'a' is empty"));
        assert!(err("a,b\n1,2\n", "c").contains("no column 'c'"));
        assert!(err("", "b").contains("empty"));
        assert!(err("a,b\n", "b").contains("no rows"));
        assert!(err("a,a\n1,2\n", "a").contains("twice"));
        assert!(err("a,b\n\"1,2\n", "b").contains("not closed"));
    }
}
