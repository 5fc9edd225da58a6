//! ML speed benchmark, native side: writes the engine's seeded train/validation split of each data
//! set to CSV (for `benches/sklearn_ml.py`, so scikit-learn fits the very same rows), then times
//! the engine's estimators and its TPE search (`flowbook::ml::bench`, the same code the browser's
//! worker runs as the `bench-ml` job) and writes the results as JSON.
//!
//!   cargo bench --bench ml -- CSV_DIR RESULTS_JSON

#![cfg_attr(target_arch = "wasm32", allow(unused))]

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use flowbook::ml::bench;
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let usage = "usage: ml CSV_DIR RESULTS_JSON";
    let dir = std::path::Path::new(args.get(1).expect(usage));
    let out = args.get(2).expect(usage);
    std::fs::create_dir_all(dir).expect("create the CSV folder");
    let mut datasets: Vec<&str> = bench::CASES.iter().map(|c| c.0).collect();
    datasets.push(bench::TPE.0);
    datasets.dedup();
    for name in datasets {
        let (train, valid) = bench::split_csv(name).expect("split");
        std::fs::write(dir.join(format!("{name}-train.csv")), train).expect("write CSV");
        std::fs::write(dir.join(format!("{name}-valid.csv")), valid).expect("write CSV");
    }
    let results = bench::run(&serde_json::json!({"seeds": 10})).expect("benchmark");
    std::fs::write(out, serde_json::to_string_pretty(&results).unwrap()).expect("write results");
    eprintln!("{results}");
}
