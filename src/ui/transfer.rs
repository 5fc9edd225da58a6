//! Import / export: bundles in (a zip dropped or picked, or an `mlruns` folder picked) and the store
//! out in either of MLflow's formats, each with a progress bar fed by the worker.

use super::client::{Client, Payload};
use super::controls::{Progress, ProgressBar};
use leptos::prelude::*;

/// What an import said: its summary and the note of every clash it resolved.
#[derive(Clone, Debug, PartialEq)]
struct Imported {
    summary: String,
    notes: Vec<String>,
}

async fn read_file(file: &web_sys::File) -> Result<js_sys::Uint8Array, String> {
    wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map(|buffer| js_sys::Uint8Array::new(&buffer))
        .map_err(|_| format!("could not read {}", file.name()))
}

/// A picked folder's files as `{path, bytes}` objects, reading shown on the bar's first half.
async fn read_folder(
    files: Vec<web_sys::File>,
    set_progress: WriteSignal<Option<Progress>>,
) -> Result<js_sys::Array, String> {
    let out = js_sys::Array::new();
    let total = files.len();
    for (i, file) in files.into_iter().enumerate() {
        let path = js_sys::Reflect::get(&file, &"webkitRelativePath".into())
            .ok()
            .and_then(|p| p.as_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| file.name());
        let entry = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&entry, &"path".into(), &path.into());
        let bytes: wasm_bindgen::JsValue = read_file(&file).await?.into();
        let _ = js_sys::Reflect::set(&entry, &"bytes".into(), &bytes);
        out.push(&entry);
        set_progress.set(Some(Progress {
            done: i + 1,
            total: total * 2,
        }));
    }
    Ok(out)
}

/// A download link's target for bytes made in this page.
pub(super) fn object_url(bytes: &[u8], mime: &str) -> Result<String, String> {
    let array = js_sys::Uint8Array::from(bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(&array), &options)
        .and_then(|b| web_sys::Url::create_object_url_with_blob(&b))
        .map_err(|_| "the browser could not hold the file".to_string())
}

#[component]
pub fn TransferPage() -> impl IntoView {
    let client = expect_context::<Client>();
    let (import_progress, set_import_progress) = signal(None::<Progress>);
    let (imported, set_imported) = signal(None::<Result<Imported, String>>);
    let (dragging, set_dragging) = signal(false);

    // Sends what was read (a zip's bytes or a folder's files) to the worker to import.
    let start_import = move |name: String, payload: Payload, offset: usize| {
        leptos::task::spawn_local(async move {
            // A folder's reading (of `offset` files) took the first half of the bar.
            let report = move |done: usize, total: usize| {
                set_import_progress.set(Some(if offset == 0 {
                    Progress { done, total }
                } else {
                    Progress {
                        done: offset + done * offset / total.max(1),
                        total: 2 * offset,
                    }
                }));
            };
            let outcome = client
                .import(payload, Box::new(report))
                .await
                .map(|v| Imported {
                    summary: format!(
                        "Imported {} from {name}.",
                        v["summary"].as_str().unwrap_or("the bundle")
                    ),
                    notes: v["notes"]
                        .as_array()
                        .map(|n| {
                            n.iter()
                                .filter_map(|s| s.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .map_err(|e| format!("{name} was not imported (nothing changed): {}", e.message));
            set_imported.set(Some(outcome));
            set_import_progress.set(None);
        });
    };
    let import_file = move |file: web_sys::File| {
        set_imported.set(None);
        set_import_progress.set(Some(Progress { done: 0, total: 1 }));
        leptos::task::spawn_local(async move {
            let name = file.name();
            match read_file(&file).await {
                Ok(bytes) => start_import(name, Payload::Bytes(bytes), 0),
                Err(e) => {
                    set_imported.set(Some(Err(e)));
                    set_import_progress.set(None);
                }
            }
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            import_file(file);
        }
        input.set_value("");
    };
    let on_folder = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        // The FileList is live: copy it out before clearing the input for the next pick.
        let files: Vec<web_sys::File> = input
            .files()
            .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
            .unwrap_or_default();
        input.set_value("");
        if files.is_empty() {
            return;
        }
        set_imported.set(None);
        leptos::task::spawn_local(async move {
            let count = files.len();
            let name = files
                .first()
                .and_then(|f| js_sys::Reflect::get(f, &"webkitRelativePath".into()).ok())
                .and_then(|p| p.as_string())
                .and_then(|p| p.split('/').next().map(str::to_string))
                .unwrap_or_else(|| "the folder".into());
            match read_folder(files, set_import_progress).await {
                Ok(entries) => start_import(name, Payload::Files(entries), count),
                Err(e) => {
                    set_imported.set(Some(Err(e)));
                    set_import_progress.set(None);
                }
            }
        });
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        set_dragging.set(false);
        let Some(files) = ev.data_transfer().and_then(|d| d.files()) else {
            return;
        };
        match files.get(0) {
            // A dropped folder arrives as a file with no type and no size.
            Some(f) if f.size() == 0.0 && f.type_().is_empty() => {
                set_imported.set(Some(Err(format!(
                "{} looks like a folder: use “Choose a folder” for mlruns folders, or drop a zip.",
                f.name()
            ))))
            }
            Some(f) => import_file(f),
            None => {}
        }
    };
    let busy = move || import_progress.get().is_some();

    let (export_progress, set_export_progress) = signal(None::<Progress>);
    let (exported, set_exported) = signal(None::<Result<(String, &'static str, usize), String>>);
    let export = move |format: &'static str| {
        set_exported.set(None);
        set_export_progress.set(Some(Progress { done: 0, total: 1 }));
        leptos::task::spawn_local(async move {
            let report = move |done: usize, total: usize| {
                set_export_progress.set(Some(Progress { done, total }))
            };
            let file_name = crate::bundle::Format::parse(format)
                .map(|f| f.file_name())
                .unwrap_or("flowbook.zip");
            let outcome = match client.export(format, Box::new(report)).await {
                Err(e) => Err(e.message),
                Ok(r) => object_url(&r.bytes, "application/zip")
                    .map(|url| (url, file_name, r.bytes.len())),
            };
            set_exported.set(Some(outcome));
            set_export_progress.set(None);
        });
    };
    let exporting = move || export_progress.get().is_some();

    view! {
        <section class="panel" aria-labelledby="import-heading">
            <h2 id="import-heading">"Import"</h2>
            <p>"Bring MLflow work into this browser: an "<code>"mlruns"</code>" folder written by MLflow 2.x or 3.x
               (or a zip of one), or an "<code>"mlflow.db"</code>" bundle (a zip of "<code>"mlflow.db"</code>" and its "
               <code>"mlartifacts/"</code>"). Work already here is kept; clashes are listed below."</p>
            <div
                class="dropzone"
                class:dragging=dragging
                on:dragover=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    set_dragging.set(true);
                }
                on:dragleave=move |_| set_dragging.set(false)
                on:drop=on_drop
            >
                <p>"Drop a bundle zip here, or"</p>
                <input id="import-file" class="visually-hidden" type="file" accept=".zip,application/zip"
                    on:change=on_file disabled=busy/>
                <label class="button" for="import-file">"Choose a zip"</label>
                " "
                <input id="import-folder" class="visually-hidden" type="file" prop:webkitdirectory=true
                    on:change=on_folder disabled=busy/>
                <label class="button" for="import-folder">"Choose a folder"</label>
            </div>
            <ProgressBar label="Importing" progress=import_progress/>
            {move || imported.get().map(|r| match r {
                Ok(i) => view! {
                    <div class="notice" role="status">
                        <p>{i.summary}</p>
                        {(!i.notes.is_empty()).then(|| view! {
                            <ul class="notes">{i.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                        })}
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
        <section class="panel" aria-labelledby="export-heading">
            <h2 id="export-heading">"Export"</h2>
            <p>"Your whole store, as real MLflow opens it. Unzip it, then in that folder:"</p>
            <ul>
                <li><strong>"mlruns"</strong>" (MLflow 2.x and 3.x): "
                    <code>"MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ./mlruns"</code></li>
                <li><strong>"mlflow.db"</strong>" (MLflow 3.x): "
                    <code>"mlflow server --backend-store-uri sqlite:///mlflow.db --artifacts-destination ./mlartifacts"</code></li>
            </ul>
            <button on:click=move |_| export("mlruns") disabled=exporting>"Export as mlruns"</button>
            " "
            <button on:click=move |_| export("mlflow-db") disabled=exporting>"Export as mlflow.db"</button>
            <ProgressBar label="Exporting" progress=export_progress/>
            {move || exported.get().map(|r| match r {
                Ok((url, name, size)) => view! {
                    <p role="status"><a href=url download=name>{format!("Save {name} ({size} bytes)")}</a></p>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}
