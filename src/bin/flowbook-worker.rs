//! The Web Worker that runs the engine in the browser, built by Trunk beside the app.

#[cfg(target_arch = "wasm32")]
fn main() {
    flowbook::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
