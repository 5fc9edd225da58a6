//! Machine learning in the engine, natively and in the browser: data sets, preparation,
//! scikit-learn-style estimators on linfa, metrics, tracked training with autolog, MLflow models,
//! hyperparameter search (random and TPE), and monitoring (drift statistics, evaluation runs).

pub mod bench;
pub mod data;
pub mod drift;
pub mod estimators;
pub mod features;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod plots;
pub mod prep;
pub mod request;
pub mod train;
pub mod trees;
pub mod tuning;
