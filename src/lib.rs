//! Flowbook's engine: MLflow's tracking store, registry, bundles and ML in plain Rust.
//! No web-sys here: the same code builds natively (tests, CLI, server) and to wasm32 (the app's worker).

pub mod api;
pub mod bundle;
pub mod clock;
pub mod lessons;
pub mod ml;
pub mod registry;
pub mod sync;
pub mod tracking;

#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;

#[cfg(not(target_arch = "wasm32"))]
pub mod server;
