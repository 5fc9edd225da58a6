//! The model registry: registered models, versions, tags, aliases and stages on MLflow's tables.
