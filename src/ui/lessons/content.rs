//! The lessons' text: each cell is an explanation (Markdown), the Python MLflow code that does the
//! step in a real notebook (MLflow 3.x; notes where 2.x differed), and the action Flowbook runs.

/// What a cell's "Run" does in Flowbook (see `super::actions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Explanation only.
    Read,
    CreateExperiment,
    TrainLasso { alpha_milli: u32 },
    ShowRunsTable,
    ShowFileStoreLayout,
    ShowSqlTables,
    TuneTpe,
    Autolog,
    LogPreprocessorAndModel,
    LoadByRunsUri,
    CustomModel,
    RegisterVersions,
    StagesAndAliases,
    ChooseChampion,
    FeatureLookup,
    DataDrift,
    ConceptDrift,
    ExportBundle,
}

pub struct Cell {
    pub title: &'static str,
    pub markdown: &'static str,
    pub python: &'static str,
    pub action: Action,
}

pub struct Lesson {
    pub slug: &'static str,
    pub title: &'static str,
    pub cells: &'static [Cell],
}

pub const LESSONS: &[Lesson] = &[
    Lesson {
        slug: "why-track",
        title: "1. Why track experiments",
        cells: &[
            Cell {
                title: "A first experiment",
                markdown: "Every run of a training script belongs to an **experiment**. `set_experiment` creates it the first time and selects it afterwards.",
                python: "import mlflow\n\nmlflow.set_tracking_uri(\"sqlite:///mlflow.db\")\nmlflow.set_experiment(\"nyc-taxi-experiment\")",
                action: Action::CreateExperiment,
            },
            Cell {
                title: "Lasso with alpha = 0.1",
                markdown: "A run records the **parameters** you chose, the **metrics** you measured and **tags** that say who and what. Run it, then change alpha.",
                python: "from sklearn.linear_model import Lasso\nfrom sklearn.metrics import root_mean_squared_error\n\nwith mlflow.start_run():\n    mlflow.set_tag(\"developer\", \"marcus\")\n    mlflow.set_tag(\"model\", \"lasso\")\n    alpha = 0.1\n    mlflow.log_param(\"alpha\", alpha)\n    lr = Lasso(alpha=alpha).fit(X_train, y_train)\n    rmse = root_mean_squared_error(y_val, lr.predict(X_val))\n    mlflow.log_metric(\"rmse\", rmse)",
                action: Action::TrainLasso { alpha_milli: 100 },
            },
            Cell {
                title: "Lasso with alpha = 0.01",
                markdown: "The same code with another alpha is another run: nothing is overwritten, both are kept side by side.",
                python: "with mlflow.start_run():\n    mlflow.set_tags({\"developer\": \"marcus\", \"model\": \"lasso\"})\n    alpha = 0.01\n    mlflow.log_param(\"alpha\", alpha)\n    lr = Lasso(alpha=alpha).fit(X_train, y_train)\n    mlflow.log_metric(\"rmse\", root_mean_squared_error(y_val, lr.predict(X_val)))",
                action: Action::TrainLasso { alpha_milli: 10 },
            },
            Cell {
                title: "The runs table",
                markdown: "The runs table is where you compare: sort by `rmse`, filter with `params.alpha = '0.01'`.",
                python: "runs = mlflow.search_runs(\n    experiment_names=[\"nyc-taxi-experiment\"],\n    filter_string=\"tags.model = 'lasso'\",\n    order_by=[\"metrics.rmse ASC\"],\n)\nprint(runs[[\"run_id\", \"params.alpha\", \"metrics.rmse\"]])",
                action: Action::ShowRunsTable,
            },
        ],
    },
    Lesson {
        slug: "where-mlflow-keeps-things",
        title: "2. Where MLflow keeps things",
        cells: &[
            Cell {
                title: "The file store",
                markdown: "Without a tracking URI MLflow 2.x wrote `mlruns/<experiment>/<run>/{params,metrics,tags,artifacts}`: one small file per value. Here is that layout for **your** runs. (MLflow 3.13+ refuses this store unless `MLFLOW_ALLOW_FILE_STORE=true`.)",
                python: "# MLflow 2.x default: a folder of files\nmlflow.set_tracking_uri(\"file:./mlruns\")\n# each param is a file: mlruns/1/<run_id>/params/alpha",
                action: Action::ShowFileStoreLayout,
            },
            Cell {
                title: "A database backend",
                markdown: "With `sqlite:///mlflow.db` the same facts are rows of tables: `experiments`, `runs`, `params`, `metrics`, `latest_metrics`, `tags`. Flowbook's store **is** such a database, so these are your own rows. Teams move to a database (PostgreSQL in production) for concurrent writers, fast search and a server everyone shares.",
                python: "mlflow.set_tracking_uri(\"sqlite:///mlflow.db\")\n# then: mlflow server --backend-store-uri sqlite:///mlflow.db",
                action: Action::ShowSqlTables,
            },
        ],
    },
    Lesson {
        slug: "tuning",
        title: "3. Hyperparameter tuning with TPE",
        cells: &[
            Cell {
                title: "Search space and fmin",
                markdown: "hyperopt's TPE proposes parameters from a search space; each trial is a **nested run** under one parent, so the parent groups the whole search.",
                python: "from hyperopt import fmin, tpe, hp, STATUS_OK, Trials\nfrom hyperopt.pyll import scope\n\nsearch_space = {\n    \"max_depth\": scope.int(hp.quniform(\"max_depth\", 4, 100, 1)),\n    \"learning_rate\": hp.loguniform(\"learning_rate\", -3, 0),\n    \"min_samples_leaf\": scope.int(hp.quniform(\"min_samples_leaf\", 1, 20, 1)),\n}\n\ndef objective(params):\n    with mlflow.start_run(nested=True):\n        mlflow.set_tag(\"model\", \"random-forest\")\n        mlflow.log_params(params)\n        rmse = train_and_score(params)\n        mlflow.log_metric(\"rmse\", rmse)\n    return {\"loss\": rmse, \"status\": STATUS_OK}\n\nwith mlflow.start_run(run_name=\"tpe-search\"):\n    best = fmin(objective, search_space, algo=tpe.suggest, max_evals=30, trials=Trials())",
                action: Action::TuneTpe,
            },
            Cell {
                title: "Reading the search",
                markdown: "Select the trials and **Compare**: the parallel coordinates show which settings lead to a low rmse, the scatter and contour plots show how rmse varies with one or two parameters.",
                python: "runs = mlflow.search_runs(filter_string=f\"tags.mlflow.parentRunId = '{parent_id}'\",\n                          order_by=[\"metrics.rmse ASC\"], max_results=5)",
                action: Action::Read,
            },
        ],
    },
    Lesson {
        slug: "autolog",
        title: "4. Autolog",
        cells: &[Cell {
            title: "One switch",
            markdown: "`autolog()` logs every estimator parameter (defaults too), training metrics, the model and the dataset, with no `log_*` call. Open the run and see what it logged.",
            python: "mlflow.sklearn.autolog()\n\nwith mlflow.start_run():\n    RandomForestRegressor(max_depth=10, random_state=42).fit(X_train, y_train)",
            action: Action::Autolog,
        }],
    },
    Lesson {
        slug: "artifacts-and-models",
        title: "5. Artifacts and models",
        cells: &[
            Cell {
                title: "Log the preprocessor and the model",
                markdown: "Artifacts are files: here the fitted `DictVectorizer` preprocessor. `log_model` writes the model with its `MLmodel` file: flavors, signature and an input example.",
                python: "with open(\"models/preprocessor.b\", \"wb\") as f_out:\n    pickle.dump(dv, f_out)\n\nwith mlflow.start_run():\n    mlflow.log_artifact(\"models/preprocessor.b\", artifact_path=\"preprocessor\")\n    mlflow.sklearn.log_model(lr, name=\"model\", input_example=X_val[:5])  # 2.x: artifact_path=\"model\"",
                action: Action::LogPreprocessorAndModel,
            },
            Cell {
                title: "Load it back and predict",
                markdown: "A model URI names a model anywhere MLflow knows it: `runs:/<run_id>/model`, or MLflow 3's `models:/m-<id>`.",
                python: "model = mlflow.pyfunc.load_model(f\"runs:/{run_id}/model\")\nmodel.predict(X_val[:5])",
                action: Action::LoadByRunsUri,
            },
        ],
    },
    Lesson {
        slug: "custom-models",
        title: "6. Custom models",
        cells: &[Cell {
            title: "A pyfunc wrapper",
            markdown: "A `PythonModel` wraps a model with your own code: here predictions come back as `{\"predictions\": [...]}` after an adjustment function from a custom library.",
            python: "class WrappedModel(mlflow.pyfunc.PythonModel):\n    def load_context(self, context):\n        self.model = mlflow.sklearn.load_model(context.artifacts[\"model\"])\n\n    def predict(self, context, model_input, params=None):\n        from my_library import round_to\n        return {\"predictions\": round_to(self.model.predict(model_input), 1)}\n\nmlflow.pyfunc.log_model(name=\"wrapped\", python_model=WrappedModel(),\n                        artifacts={\"model\": f\"runs:/{run_id}/model\"}, code_paths=[\"my_library.py\"])",
            action: Action::CustomModel,
        }],
    },
    Lesson {
        slug: "registry",
        title: "7. The model registry",
        cells: &[
            Cell {
                title: "Register versions",
                markdown: "Registering a run's model creates version 1, 2, … of a **registered model**, each tied back to its run.",
                python: "for run_id in best_run_ids:\n    mlflow.register_model(f\"runs:/{run_id}/model\", \"nyc-taxi-regressor\")",
                action: Action::RegisterVersions,
            },
            Cell {
                title: "Stages and aliases",
                markdown: "MLflow 2.x moved versions through **stages** (None → Staging → Production → Archived). MLflow 3 prefers **aliases** you name yourself (`champion`, `challenger`); stages still work but are deprecated.",
                python: "client = mlflow.MlflowClient()\nclient.transition_model_version_stage(\"nyc-taxi-regressor\", 2, \"Production\",\n                                      archive_existing_versions=True)  # deprecated in 3.x\nclient.set_registered_model_alias(\"nyc-taxi-regressor\", \"champion\", 2)\nmodel = mlflow.pyfunc.load_model(\"models:/nyc-taxi-regressor@champion\")",
                action: Action::StagesAndAliases,
            },
            Cell {
                title: "Choose Champion, Fastest and Best",
                markdown: "Tag every version with its test rmse, prediction time and evaluation status, then set aliases from a query rather than by hand.",
                python: "versions = client.search_model_versions(\"name = 'nyc-taxi-regressor'\")\nfor v in versions:\n    client.set_model_version_tag(v.name, v.version, \"test_rmse\", f\"{rmse(v):.4f}\")\npassed = [v for v in versions if v.tags.get(\"evaluation\") == \"passed\"]\nchampion = min(passed, key=lambda v: float(v.tags[\"test_rmse\"]))\nclient.set_registered_model_alias(\"nyc-taxi-regressor\", \"Champion\", champion.version)",
                action: Action::ChooseChampion,
            },
        ],
    },
    Lesson {
        slug: "feature-lookup",
        title: "8. Feature lookup",
        cells: &[Cell {
            title: "A feature table and a lookup at prediction time",
            markdown: "Features live in a table keyed by id; the model is logged with the **lookup spec**, so at prediction time only the key is given and the features are looked up.",
            python: "from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup\n\nfe = FeatureEngineeringClient()\nlookups = [FeatureLookup(table_name=\"ml.taxi.zone_features\", lookup_key=\"PULocationID\")]\ntraining_set = fe.create_training_set(df=labels, feature_lookups=lookups, label=\"duration\")\nfe.log_model(model=model, artifact_path=\"model\", flavor=mlflow.sklearn, training_set=training_set)",
            action: Action::FeatureLookup,
        }],
    },
    Lesson {
        slug: "monitoring",
        title: "9. Monitoring",
        cells: &[
            Cell {
                title: "Data drift",
                markdown: "When the inputs move (here x is shifted), a two-sample **Kolmogorov–Smirnov** test and the **PSI** say by how much.",
                python: "from scipy.stats import ks_2samp\n\nstat, p_value = ks_2samp(reference[\"x\"], current[\"x\"])\nmlflow.log_metrics({\"ks_stat\": stat, \"ks_p_value\": p_value})",
                action: Action::DataDrift,
            },
            Cell {
                title: "Concept drift",
                markdown: "When the relation itself changes (here y gains +10), the inputs look the same but the **error** shifts.",
                python: "rmse_before = root_mean_squared_error(y_ref, model.predict(X_ref))\nrmse_after = root_mean_squared_error(y_new, model.predict(X_new))\nmlflow.log_metric(\"rmse_shift\", rmse_after - rmse_before)",
                action: Action::ConceptDrift,
            },
        ],
    },
    Lesson {
        slug: "take-it-to-mlflow",
        title: "10. Taking it to real MLflow",
        cells: &[Cell {
            title: "Export and open with MLflow",
            markdown: "Export your store as an `mlflow.db` bundle, unzip it and start a real MLflow server on it: the same experiments, runs, models and registry.",
            python: "# in a terminal, in the unzipped folder:\n#   mlflow server --backend-store-uri sqlite:///mlflow.db --artifacts-destination ./mlartifacts\nmlflow.set_tracking_uri(\"http://127.0.0.1:5000\")\nprint(mlflow.search_experiments())",
            action: Action::ExportBundle,
        }],
    },
];
