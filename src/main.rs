//! The `flowbook` command line: a native front door to the same engine the browser runs.

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use clap::{Parser, Subcommand};
    use flowbook::bundle::{Format, Source};
    use flowbook::tracking::Store;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    #[derive(Parser)]
    #[command(
        name = "flowbook",
        version,
        about = "MLflow in a browser tab — the native command line: serve, import and export MLflow stores, train and monitor models."
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Serve MLflow's REST API over a Flowbook store, for the real `mlflow` client.
        Server {
            /// The store: an mlflow.db file (created with MLflow's schema when absent).
            #[arg(long)]
            db: PathBuf,
            #[arg(long, default_value = "127.0.0.1")]
            host: String,
            #[arg(long, default_value_t = 5000)]
            port: u16,
        },
        /// Import a bundle into a store: an mlruns folder or zip (MLflow 2.x or 3.x), or an
        /// mlflow.db zip or folder with its artifacts. Data already in the store is kept; see
        /// ARCHITECTURE.md for what happens on a clash.
        Import {
            /// A .zip file or a folder.
            bundle: PathBuf,
            /// The store (created when absent).
            #[arg(long)]
            db: PathBuf,
        },
        /// Train a model and track it as an MLflow run (optionally a hyperparameter search).
        Train(Box<TrainArgs>),
        /// Data drift between two CSVs, per numeric column: the two-sample Kolmogorov–Smirnov
        /// statistic and p-value (as SciPy's ks_2samp) and the population stability index.
        Drift {
            #[arg(long)]
            reference: PathBuf,
            #[arg(long)]
            current: PathBuf,
        },
        /// Push experiments, runs, logged models and the registry to an MLflow tracking server
        /// (its REST API). Pushing again sends only what is new; a push cut short resumes.
        /// Prints a JSON summary; progress goes to stderr.
        Push {
            #[command(flatten)]
            sync: SyncArgs,
            /// The tracking server, e.g. http://127.0.0.1:5000.
            #[arg(long)]
            to: String,
            /// An experiment to push, by name (repeatable; default: all).
            #[arg(long = "experiment")]
            experiments: Vec<String>,
        },
        /// Pull an experiment (optionally only the runs a filter selects), with the registry
        /// versions made from its runs, from an MLflow tracking server into the store.
        Pull {
            #[command(flatten)]
            sync: SyncArgs,
            #[arg(long)]
            from: String,
            #[arg(long)]
            experiment: String,
            /// An MLflow runs filter, e.g. "metrics.rmse < 0.5".
            #[arg(long, default_value = "")]
            filter: String,
        },
        /// Export a store as a bundle real MLflow opens as it is.
        Export {
            #[arg(long)]
            db: PathBuf,
            /// `mlruns`: an mlruns file store (`mlflow ui` in the unzipped folder);
            /// `mlflow-db`: mlflow.db + mlartifacts/ (`mlflow server --backend-store-uri
            /// sqlite:///mlflow.db --artifacts-destination ./mlartifacts`).
            #[arg(long, value_parser = ["mlruns", "mlflow-db"])]
            format: String,
            #[arg(long)]
            out: PathBuf,
        },
    }

    /// Where a sync goes and who it is: the server URL and its token.
    #[derive(clap::Args)]
    struct SyncArgs {
        /// The store.
        #[arg(long)]
        db: PathBuf,
        /// A token for a server behind auth, sent as `Authorization: Bearer <token>`
        /// (default: $MLFLOW_TRACKING_TOKEN).
        #[arg(long, env = "MLFLOW_TRACKING_TOKEN", hide_env_values = true)]
        token: Option<String>,
    }

    #[derive(clap::Args)]
    struct TrainArgs {
        /// The store (created when absent).
        #[arg(long)]
        db: PathBuf,
        /// The experiment (created when absent).
        #[arg(long)]
        experiment: String,
        /// A built-in data set: diabetes, iris, winequality, linnerud, linear, linear-data-drift,
        /// linear-concept-drift, taxi-trips.
        #[arg(long, conflicts_with = "train")]
        dataset: Option<String>,
        /// A CSV of training data (header row; `--target` names the column to predict).
        #[arg(long, requires = "target")]
        train: Option<PathBuf>,
        /// A CSV of validation data (otherwise a seeded 25% of the training data).
        #[arg(long, requires = "train")]
        valid: Option<PathBuf>,
        #[arg(long)]
        target: Option<String>,
        /// CSV columns to one-hot encode (comma-separated).
        #[arg(long, value_delimiter = ',')]
        categorical: Vec<String>,
        /// The estimator, by scikit-learn class name (Lasso, RandomForestRegressor, …).
        #[arg(long)]
        model: String,
        /// An estimator parameter, by scikit-learn name (repeatable): --param alpha=0.1
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        #[arg(long)]
        run_name: Option<String>,
        /// Log every parameter, training and validation metrics, the model, the data set and plots.
        #[arg(long)]
        autolog: bool,
        /// Log the model (implied by --autolog).
        #[arg(long)]
        log_model: bool,
        /// Standard-scale the features.
        #[arg(long)]
        scale: bool,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Rows for generated data sets.
        #[arg(long, default_value_t = 2000)]
        rows: usize,
        /// Search hyperparameters: random or tpe (needs --space and --max-evals).
        #[arg(long, requires_all = ["space", "max_evals"])]
        tune: Option<String>,
        #[arg(long)]
        max_evals: Option<usize>,
        /// A JSON search space: {"alpha": ["loguniform", -5, 0], "max_depth": ["quniform", 1, 20, 1]}
        #[arg(long)]
        space: Option<PathBuf>,
    }

    fn read_text(path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }

    fn train(a: TrainArgs) -> Result<(), String> {
        use flowbook::ml::{data, estimators::Estimator, train, tuning};
        let mut estimator = Estimator::new(&a.model)?;
        let mut explicit = Vec::new();
        for p in &a.params {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("--param {p}: expected KEY=VALUE"))?;
            estimator = estimator.set(k.trim(), v.trim())?;
            explicit.push((k.trim().to_string(), v.trim().to_string()));
        }
        let task = estimator.task();
        let (dataset, valid_rows) = match (&a.dataset, &a.train) {
            (Some(name), None) => (data::builtin(name, a.rows, a.seed)?, None),
            (None, Some(path)) => {
                let target = a.target.clone().unwrap_or_default();
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                let set =
                    data::parse_csv(&name, &read_text(path)?, &target, &[], &a.categorical, task)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                match &a.valid {
                    None => (set, None),
                    Some(valid) => {
                        let v = data::parse_csv(
                            &name,
                            &read_text(valid)?,
                            &target,
                            &set.features.names,
                            &a.categorical,
                            task,
                        )
                        .map_err(|e| format!("{}: {e}", valid.display()))?;
                        let rows = v.nrows();
                        (data::concat(&set, &v)?, Some(rows))
                    }
                }
            }
            _ => return Err("give --dataset NAME or --train A.csv --target COLUMN".into()),
        };
        let mut spec = train::TrainSpec::new(&a.experiment, dataset, estimator);
        spec.explicit_params = explicit;
        spec.run_name = a.run_name.clone();
        spec.autolog = a.autolog;
        spec.log_model = a.log_model;
        spec.scale = a.scale;
        spec.seed = a.seed;
        spec.valid_rows = valid_rows;
        let mut store = Store::open(&a.db).map_err(|e| e.to_string())?;
        if let Some(algo) = &a.tune {
            let space_path = a.space.clone().unwrap_or_default();
            let space: serde_json::Value = serde_json::from_str(&read_text(&space_path)?)
                .map_err(|e| format!("{}: not JSON: {e}", space_path.display()))?;
            let search = tuning::SearchSpec {
                base: spec,
                space: tuning::parse_space(&space)?,
                algo: tuning::Algo::parse(algo)?,
                max_evals: a.max_evals.unwrap_or(0),
                seed: a.seed,
            };
            let outcome = tuning::search(&mut store, &search, &mut |done, total| {
                eprint!("\rtrial {done}/{total}");
                true
            })
            .map_err(|e| e.to_string())?;
            eprintln!();
            let best = outcome.best.ok_or("every trial failed")?;
            println!(
                "search run {} ({} trials): best trial run {} with {} = {:.6} and {}",
                outcome.parent_run_id,
                outcome.trials.len(),
                best.run_id,
                outcome.loss_metric,
                best.loss,
                best.params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(());
        }
        let trained = train::train(&mut store, &spec).map_err(|e| e.to_string())?;
        let shown: Vec<String> = trained
            .metrics
            .iter()
            .filter(|(k, _)| k.starts_with("val_"))
            .map(|(k, v)| format!("{k}={v:.6}"))
            .collect();
        println!(
            "run {} in experiment {}: {}{}",
            trained.run_id,
            trained.experiment_id,
            shown.join(", "),
            trained
                .model_uri
                .map(|u| format!("; model {u}"))
                .unwrap_or_default()
        );
        Ok(())
    }

    fn drift(reference: &Path, current: &Path) -> Result<(), String> {
        use flowbook::ml::{data, drift};
        let load = |path: &Path| -> Result<data::Frame, String> {
            data::parse_table(&read_text(path)?).map_err(|e| format!("{}: {e}", path.display()))
        };
        let (a, b) = (load(reference)?, load(current)?);
        let mut columns = serde_json::Map::new();
        for (name, column) in a.names.iter().zip(&a.columns) {
            let (data::Column::Numeric(x), Some(data::Column::Numeric(y))) =
                (column, b.column(name))
            else {
                continue;
            };
            let d = drift::column_drift(x, y).map_err(|e| format!("column '{name}': {e}"))?;
            columns.insert(
                name.clone(),
                serde_json::to_value(d).map_err(|e| e.to_string())?,
            );
        }
        if columns.is_empty() {
            return Err("the two files share no numeric column".into());
        }
        println!("{}", serde_json::json!({"columns": columns}));
        Ok(())
    }

    fn import(bundle: &Path, db: &Path) -> Result<(), String> {
        let bytes;
        let mut source = if bundle.is_dir() {
            Source::folder(bundle).map_err(|e| e.to_string())?
        } else {
            bytes = std::fs::read(bundle)
                .map_err(|e| format!("cannot read {}: {e}", bundle.display()))?;
            Source::zip(&bytes).map_err(|e| e.to_string())?
        };
        let mut store = Store::open(db).map_err(|e| e.to_string())?;
        let summary = flowbook::bundle::import(&mut store, &mut source, &mut |_, _| {})
            .map_err(|e| e.to_string())?;
        println!("imported {summary} from {}", bundle.display());
        for note in &summary.notes {
            eprintln!("note: {note}");
        }
        Ok(())
    }

    fn export(db: &Path, format: &str, out: &Path) -> Result<(), String> {
        if !db.exists() {
            return Err(format!("no store at {}", db.display()));
        }
        let format = Format::parse(format).map_err(|e| e.to_string())?;
        let store = Store::open(db).map_err(|e| e.to_string())?;
        // An export reads everything once: a memory map would only fill memory with the file.
        store
            .connection()
            .pragma_update(None, "mmap_size", 0)
            .map_err(|e| e.to_string())?;
        // Written beside the target, then renamed: a failed export never leaves half a zip behind.
        let partial = out.with_extension("zip.partial");
        let file = std::fs::File::create(&partial)
            .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
        let result = flowbook::bundle::export(
            &store,
            format,
            std::io::BufWriter::new(file),
            &mut |_, _| {},
        )
        .map_err(|e| e.to_string())
        .and_then(|(mut w, summary)| {
            w.flush()
                .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
            Ok(summary)
        });
        let summary = match result {
            Ok(summary) => summary,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        std::fs::rename(&partial, out)
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        println!("exported {summary} to {}", out.display());
        Ok(())
    }

    fn sync(args: &SyncArgs, request: serde_json::Value) -> Result<(), String> {
        use flowbook::sync::{self, native};
        let mut store = Store::open(&args.db).map_err(|e| e.to_string())?;
        let mut request = request;
        request["token"] = serde_json::json!(args.token);
        let mut last = None;
        let mut progress = |done: usize, total: usize| {
            if last != Some(done) {
                last = Some(done);
                eprint!("\r{done}/{total}");
            }
        };
        let (verb, url, result) = if request.get("experiment").is_some() {
            let r = sync::PullRequest::parse(&request).map_err(|e| e.message)?;
            let out = native::block_on(sync::pull(
                native::Http::default(),
                &mut store,
                &r,
                &mut progress,
            ));
            ("pulled", r.url, out)
        } else {
            let r = sync::PushRequest::parse(&request).map_err(|e| e.message)?;
            let out = native::block_on(sync::push(
                native::Http::default(),
                &mut store,
                &r,
                &mut progress,
            ));
            ("pushed", r.url, out)
        };
        eprintln!();
        let summary = result.map_err(|e| e.message)?;
        println!("{}", summary.to_json(verb, &url));
        Ok(())
    }

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        let result = match cli.command {
            Command::Server { db, host, port } => Store::open(&db)
                .map_err(|e| e.to_string())
                .and_then(|store| flowbook::server::serve(store, &host, port)),
            Command::Export { db, format, out } => export(&db, &format, &out),
            Command::Push {
                sync: args,
                to,
                experiments,
            } => sync(
                &args,
                serde_json::json!({"url": to, "experiments": experiments}),
            ),
            Command::Pull {
                sync: args,
                from,
                experiment,
                filter,
            } => sync(
                &args,
                serde_json::json!({"url": from, "experiment": experiment, "filter": filter}),
            ),
            Command::Import { bundle, db } => import(&bundle, &db),
            Command::Train(args) => train(*args),
            Command::Drift { reference, current } => drift(&reference, &current),
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("flowbook: {e}");
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

// The CLI is native-only; the browser app is the `flowbook-app` binary.
#[cfg(target_arch = "wasm32")]
fn main() {}
