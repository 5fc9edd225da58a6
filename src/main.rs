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

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        let result = match cli.command {
            Command::Server { db, host, port } => Store::open(&db)
                .map_err(|e| e.to_string())
                .and_then(|store| flowbook::server::serve(store, &host, port)),
            Command::Export { db, format, out } => export(&db, &format, &out),
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
