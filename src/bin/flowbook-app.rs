//! The browser app's entry point, built by Trunk from `index.html`.

#[cfg(target_arch = "wasm32")]
fn main() {
    flowbook::ui::mount();
}

// Natively there is no app: the CLI is the `flowbook` binary.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
