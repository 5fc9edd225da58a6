//! Import / export: an `mlflow.db` bundle in (into an empty store), and the store out as a bundle
//! real MLflow opens (`mlflow.db` + `mlartifacts/`).

use super::client::Client;
use leptos::prelude::*;
use serde_json::json;

#[component]
pub fn TransferPage() -> impl IntoView {
    let client = expect_context::<Client>();
    let (busy, set_busy) = signal(false);
    let (result, set_result) = signal(None::<Result<(String, usize), String>>);
    let export = move |_| {
        set_busy.set(true);
        set_result.set(None);
        leptos::task::spawn_local(async move {
            let outcome = match client
                .raw(
                    "GET",
                    "/api/2.0/flowbook/export",
                    json!({"format": "mlflow-db"}),
                )
                .await
            {
                Err(e) => Err(e.to_string()),
                Ok(r) => {
                    let array = js_sys::Uint8Array::from(&r.bytes[..]);
                    let options = web_sys::BlobPropertyBag::new();
                    options.set_type("application/zip");
                    web_sys::Blob::new_with_u8_array_sequence_and_options(
                        &js_sys::Array::of1(&array),
                        &options,
                    )
                    .and_then(|b| web_sys::Url::create_object_url_with_blob(&b))
                    .map(|url| (url, r.bytes.len()))
                    .map_err(|_| "the browser could not hold the bundle".to_string())
                }
            };
            set_result.set(Some(outcome));
            set_busy.set(false);
        });
    };
    let (importing, set_importing) = signal(false);
    let (imported, set_imported) = signal(None::<Result<String, String>>);
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        set_importing.set(true);
        set_imported.set(None);
        leptos::task::spawn_local(async move {
            let name = file.name();
            let outcome = match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Err(_) => Err(format!("could not read {name}")),
                Ok(buffer) => {
                    let bytes = js_sys::Uint8Array::new(&buffer);
                    match client
                        .raw_with_body("POST", "/api/2.0/flowbook/import", json!({}), Some(bytes))
                        .await
                    {
                        Ok(r) => {
                            client.revision.update(|v| *v += 1);
                            let v: serde_json::Value =
                                serde_json::from_slice(&r.bytes).unwrap_or_default();
                            Ok(format!(
                                "Imported {} from {name}",
                                v["summary"].as_str().unwrap_or("the bundle")
                            ))
                        }
                        Err(e) => Err(format!("{name}: {e}")),
                    }
                }
            };
            set_imported.set(Some(outcome));
            set_importing.set(false);
        });
    };
    view! {
        <section class="panel" aria-labelledby="import-heading">
            <h2 id="import-heading">"Import"</h2>
            <p>"Open an "<code>"mlflow.db"</code>" bundle (a zip of "<code>"mlflow.db"</code>" and its "<code>"mlartifacts/"</code>
               ", as Export writes it or as a real MLflow server's folder) into this browser's store. The store must be empty."</p>
            <label for="import-file">"Bundle (.zip)"</label>" "
            <input id="import-file" type="file" accept=".zip,application/zip" on:change=on_file disabled=importing/>
            {move || importing.get().then(|| view! { <progress aria-label="Importing the bundle"></progress> })}
            {move || imported.get().map(|r| match r {
                Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
        <section class="panel" aria-labelledby="export-heading">
            <h2 id="export-heading">"Export"</h2>
            <p>"Your whole store as an "<code>"mlflow.db"</code>" bundle: the database at MLflow 3.17.2's schema and an "
               <code>"mlartifacts/"</code>" folder. Unzip it and run:"</p>
            <pre><code>"mlflow server --backend-store-uri sqlite:///mlflow.db --artifacts-destination ./mlartifacts"</code></pre>
            <button on:click=export disabled=busy>"Prepare the mlflow.db bundle"</button>
            {move || busy.get().then(|| view! { <progress aria-label="Preparing the bundle"></progress> })}
            {move || result.get().map(|r| match r {
                Ok((url, size)) => view! {
                    <p role="status"><a href=url download="flowbook-mlflow-db.zip">{format!("Save flowbook-mlflow-db.zip ({size} bytes)")}</a></p>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}
