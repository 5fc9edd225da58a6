//! The `flowbook` command line: a native front door to the same engine the browser runs.

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use clap::{Parser, Subcommand};
    use flowbook::tracking::Store;
    use std::path::PathBuf;
    use std::process::ExitCode;

    #[derive(Parser)]
    #[command(
        name = "flowbook",
        version,
        about = "MLflow in a browser tab — the native command line: serve, import and export MLflow stores."
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
        /// Open an mlflow.db bundle (zip of mlflow.db + mlartifacts/) as a new, empty store's content.
        Import {
            /// The bundle zip.
            bundle: PathBuf,
            #[arg(long)]
            db: PathBuf,
        },
        /// Export a store as a bundle real MLflow opens as it is.
        Export {
            #[arg(long)]
            db: PathBuf,
            /// `mlflow-db`: mlflow.db + mlartifacts/ (for `mlflow server --backend-store-uri sqlite:///mlflow.db
            /// --artifacts-destination ./mlartifacts`).
            #[arg(long, value_parser = ["mlflow-db"])]
            format: String,
            #[arg(long)]
            out: PathBuf,
        },
    }

    fn import(bundle: &std::path::Path, db: &std::path::Path) -> Result<(), String> {
        let bytes =
            std::fs::read(bundle).map_err(|e| format!("cannot read {}: {e}", bundle.display()))?;
        let mut store = Store::open(db).map_err(|e| e.to_string())?;
        let summary =
            flowbook::bundle::mlflow_db::import(&mut store, &bytes).map_err(|e| e.to_string())?;
        println!("imported {summary} from {}", bundle.display());
        Ok(())
    }

    fn export(db: &std::path::Path, out: &std::path::Path) -> Result<(), String> {
        if !db.exists() {
            return Err(format!("no store at {}", db.display()));
        }
        let store = Store::open(db).map_err(|e| e.to_string())?;
        let (bytes, summary) =
            flowbook::bundle::mlflow_db::export(&store).map_err(|e| e.to_string())?;
        // Written beside the target, then renamed: a failed export never leaves half a zip behind.
        let partial = out.with_extension("zip.partial");
        std::fs::write(&partial, &bytes)
            .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
        std::fs::rename(&partial, out)
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        println!("exported {summary} to {}", out.display());
        Ok(())
    }

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        let result = match cli.command {
            Command::Server { db, host, port } => Store::open(&db)
                .map_err(|e| e.to_string())
                .and_then(|store| flowbook::server::serve(store, &host, port)),
            Command::Export { db, format: _, out } => export(&db, &out),
            Command::Import { bundle, db } => import(&bundle, &db),
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
