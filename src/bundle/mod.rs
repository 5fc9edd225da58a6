//! Bundles: MLflow `mlruns` file stores and `mlflow.db` files, in and out, as zips or folders.

pub mod mlflow_db;
