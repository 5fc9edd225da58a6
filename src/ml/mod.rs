//! Machine learning: model-monitoring statistics (data drift between a reference and a current sample).

pub mod drift;
