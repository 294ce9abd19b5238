//! `delever._native`: the Rust side of the `delever` Python package.
//!
//! It is thin on purpose: scenarios are loaded by the scenario crate, runs go through
//! `delever_cli::api` (the code of `delever run`), sweeps and Monte Carlo studies through
//! the batch crate, and every result crosses into Python as the text the CLI would print
//! (JSON or CSV), so that the package and the CLI cannot disagree. The Python layer
//! (`python/delever/__init__.py`) turns that text into dicts and data frames.
//!
//! The GIL is released while anything runs (`Python::detach`), so other Python threads go
//! on and the engine uses rayon's threads as in the CLI.

// pyo3 hands a function its arguments as owned values, converted from Python's.
#![allow(clippy::needless_pass_by_value)]

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchReader};

use delever_batch::BatchError;
use delever_batch::grid::{Grid, Vary};
use delever_batch::mc::{self, Study, SummaryMeta};
use delever_batch::sweep::Sweep;
use delever_report::batch::{DrawColumns, SweepDoc, draws_csv};
use delever_scenario::{
    Diagnostic, MemoryBook, MemoryBooks, MemoryTable, ScenarioError as Invalid, Template,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyList};

pyo3::create_exception!(
    _native,
    DeleverError,
    PyRuntimeError,
    "Base class of delever's errors."
);
pyo3::create_exception!(
    _native,
    ScenarioError,
    PyValueError,
    "A scenario (or an override of one) is invalid: `file`, `line`, `column`, `path`, `hint` locate the first problem, `diagnostics` lists them all."
);

/// Largest Monte Carlo study in one call, as in the CLI (a typo guard).
const MAX_DRAWS: u64 = 1_000_000_000;

/// One diagnostic as a Python dict.
fn diagnostic_dict<'py>(py: Python<'py>, d: &Diagnostic) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("file", &d.file)?;
    dict.set_item("line", d.line)?;
    dict.set_item("column", d.column)?;
    dict.set_item("path", &d.path)?;
    dict.set_item("message", &d.message)?;
    dict.set_item("hint", d.hint.as_deref())?;
    dict.set_item("text", d.to_string())?;
    Ok(dict)
}

/// A `ScenarioError` carrying the first diagnostic's location as attributes and every
/// diagnostic in `diagnostics`.
fn scenario_error(py: Python<'_>, e: &Invalid) -> PyErr {
    let err = ScenarioError::new_err(e.to_string());
    let attach = || -> PyResult<()> {
        let value = err.value(py);
        let list = PyList::empty(py);
        for d in &e.diagnostics {
            list.append(diagnostic_dict(py, d)?)?;
        }
        value.setattr("diagnostics", list)?;
        let first = e.diagnostics.first();
        value.setattr("file", first.map(|d| d.file.clone()))?;
        value.setattr("line", first.and_then(|d| d.line))?;
        value.setattr("column", first.and_then(|d| d.column))?;
        value.setattr("path", first.map(|d| d.path.clone()))?;
        value.setattr("message", first.map(|d| d.message.clone()))?;
        value.setattr("hint", first.and_then(|d| d.hint.clone()))?;
        Ok(())
    };
    match attach() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// A `ScenarioError` without a location in the file (a bad override or sweep spec), its
/// message and hint as the CLI prints them.
fn spec_error(py: Python<'_>, message: String, hint: Option<String>) -> PyErr {
    let mut text = format!("error: {message}");
    if let Some(h) = &hint {
        text.push_str("\n  hint: ");
        text.push_str(h);
    }
    let err = ScenarioError::new_err(text);
    let attach = || -> PyResult<()> {
        let value = err.value(py);
        value.setattr("diagnostics", PyList::empty(py))?;
        value.setattr("file", py.None())?;
        value.setattr("line", py.None())?;
        value.setattr("column", py.None())?;
        value.setattr("path", py.None())?;
        value.setattr("message", message.clone())?;
        value.setattr("hint", hint.clone())?;
        Ok(())
    };
    match attach() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// A batch error: a scenario error inside it keeps its locations.
fn batch_error(py: Python<'_>, e: BatchError) -> PyErr {
    match e {
        BatchError::Variant { source, .. } | BatchError::Path { source, .. } => {
            scenario_error(py, &source)
        }
        BatchError::Engine { .. } => DeleverError::new_err(e.to_string()),
        other => {
            let hint = other.hint().map(str::to_owned);
            spec_error(py, other.to_string(), hint)
        }
    }
}

/// A CLI failure (its message is what the CLI prints).
fn failure(f: &delever_cli::Failure) -> PyErr {
    DeleverError::new_err(f.message.trim_end().to_owned())
}

/// A loaded, validated scenario, kept as the sweep's template so that overrides
/// (`set=`, `sweep`) validate exactly as `delever run --set` and `delever sweep` do.
#[pyclass(frozen, module = "delever._native")]
struct NativeScenario {
    template: Arc<Template>,
    /// The YAML text it was loaded from (for `with_holders`/`with_book`).
    text: Arc<str>,
    /// Where its CSV books are resolved, if anywhere.
    base_dir: Option<PathBuf>,
    /// A warning from loading (the name differs from the file's stem), as the CLI prints.
    warning: Option<String>,
}

/// One table of a book from a Python object with `__arrow_c_stream__` (a pyarrow Table,
/// a pandas >= 2.2 `DataFrame`, a polars `DataFrame`, ...): its batches, imported through
/// Arrow's C stream interface without copying their buffers. Read with the GIL held (a
/// producer may call into Python for each batch); cheap, as nothing is converted here.
// The one `unsafe` of the package: the C stream interface hands over a raw pointer.
#[allow(unsafe_code)]
fn arrow_table(name: String, obj: &Bound<'_, PyAny>) -> PyResult<MemoryTable> {
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        PyValueError::new_err(format!(
            "{name}: `__arrow_c_stream__` did not return a PyCapsule"
        ))
    })?;
    let ptr = capsule
        .pointer_checked(Some(c"arrow_array_stream"))?
        .cast::<FFI_ArrowArrayStream>();
    // SAFETY: the capsule named `arrow_array_stream` holds a valid, initialised
    // `ArrowArrayStream` (the PyCapsule interface's contract); `from_raw` moves it out and
    // leaves a released stream behind, which the capsule's destructor then skips.
    let reader = unsafe { RecordBatchStreamReader::from_raw(ptr.as_ptr()) }.map_err(|e| {
        PyValueError::new_err(format!("{name}: cannot import the Arrow stream: {e}"))
    })?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<RecordBatch>, _>>()
        .map_err(|e| PyValueError::new_err(format!("{name}: cannot read the Arrow stream: {e}")))?;
    Ok(MemoryTable::new(name, schema, batches))
}

/// One finished run: the report's JSON (as `delever run --format json`), its exit code,
/// and what the HTML report needs.
#[pyclass(frozen, module = "delever._native")]
struct NativeRun {
    json: String,
    exit_code: i32,
    scenario: Arc<delever_scenario::Scenario>,
    run: Arc<delever_cli::api::Run>,
}

#[pymethods]
impl NativeRun {
    /// The JSON report, byte for byte `delever run --format json`.
    fn json(&self) -> &str {
        &self.json
    }

    /// The CLI's exit code for this run: 0, or 3 when it stopped at its round limit.
    #[getter]
    fn exit_code(&self) -> i32 {
        self.exit_code
    }

    /// The self-contained HTML report (`delever run --html`).
    fn html(&self, py: Python<'_>) -> String {
        let scenario = Arc::clone(&self.scenario);
        let run = Arc::clone(&self.run);
        py.detach(move || delever_cli::api::html(&scenario, &run))
    }

    /// The report as CSV (`delever run --format csv`).
    fn csv(&self) -> String {
        self.run.report.to_csv()
    }

    /// The report as a table (`delever run`).
    fn table(&self) -> String {
        self.run.report.to_table()
    }
}

#[pymethods]
impl NativeScenario {
    /// The scenario's name.
    #[getter]
    fn name(&self) -> &str {
        &self.template.base().name
    }

    /// What the scenario is about.
    #[getter]
    fn description(&self) -> &str {
        &self.template.base().description
    }

    /// The date its figures refer to.
    #[getter]
    fn as_of(&self) -> &str {
        &self.template.base().as_of
    }

    /// The names of its variants.
    #[getter]
    fn variants(&self) -> Vec<String> {
        self.template
            .base()
            .variants
            .iter()
            .map(|v| v.name.clone())
            .collect()
    }

    /// The file it was loaded from, if it was.
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.template.base().path.clone()
    }

    /// The warning the CLI would print on loading it, if any.
    #[getter]
    fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// The YAML text it was loaded from.
    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    /// The ids of the account books it was given in memory (`with_book` from Arrow data).
    #[getter]
    fn memory_books(&self) -> Vec<String> {
        self.template.memory_books().keys().cloned().collect()
    }

    /// The directory its CSV books are resolved against, if any.
    #[getter]
    fn base_dir(&self) -> Option<PathBuf> {
        self.base_dir.clone()
    }

    /// The document as JSON (a YAML 1.2 subset the scenario crate reads back), for the
    /// Python layer to edit positions in; anchors and aliases come out expanded.
    fn document_json(&self, py: Python<'_>) -> PyResult<String> {
        let text = Arc::clone(&self.text);
        py.detach(move || -> Result<String, String> {
            let value: serde_yaml::Value =
                serde_yaml::from_str(text.strip_prefix('\u{feff}').unwrap_or(&text))
                    .map_err(|e| e.to_string())?;
            serde_json::to_string(&value).map_err(|e| e.to_string())
        })
        .map_err(|e| DeleverError::new_err(format!("cannot re-read the scenario's text: {e}")))
    }

    /// Asset ids, in the file's order.
    #[getter]
    fn asset_ids(&self) -> Vec<String> {
        self.template
            .base()
            .network
            .assets()
            .iter()
            .map(|a| a.id.clone())
            .collect()
    }

    /// Run it: `delever run [--variant V | --set P=V ...] [--max-rounds N]`.
    #[pyo3(signature = (max_rounds=None, variant=None, set=Vec::new()))]
    fn run(
        &self,
        py: Python<'_>,
        max_rounds: Option<u32>,
        variant: Option<String>,
        set: Vec<String>,
    ) -> PyResult<NativeRun> {
        if max_rounds == Some(0) {
            return Err(spec_error(
                py,
                "max_rounds must be at least 1".into(),
                Some("1 gives the one-round answer".into()),
            ));
        }
        let scenario = if set.is_empty() {
            let base = self.template.base().clone();
            py.detach(|| delever_cli::api::pick_variant(base, variant.as_deref()))
                .map_err(|f| spec_error(py, strip_error(&f.message), None))?
        } else {
            if variant.is_some() {
                return Err(PyValueError::new_err(
                    "variant= and set= cannot be combined (as --variant and --set in the CLI)",
                ));
            }
            let overrides = delever_batch::set::overrides(&self.template, &set)
                .map_err(|e| batch_error(py, e))?;
            let template = Arc::clone(&self.template);
            py.detach(move || template.instantiate(&overrides))
                .map_err(|e| scenario_error(py, &e))?
        };
        let mut config = scenario.engine.clone();
        if let Some(n) = max_rounds {
            config.max_rounds = n;
        }
        let scenario = Arc::new(scenario);
        let s = Arc::clone(&scenario);
        let run = py
            .detach(move || delever_cli::api::run(&s, &config))
            .map_err(|f| failure(&f))?;
        let json = run.report.to_json();
        Ok(NativeRun {
            json,
            exit_code: run.outcome.exit_code(),
            scenario,
            run: Arc::new(run),
        })
    }

    /// `delever sweep --vary ... --format csv`: the CSV text and the exit code (3 when a
    /// variant did not converge).
    #[pyo3(signature = (vary, max_rounds=None))]
    fn sweep(
        &self,
        py: Python<'_>,
        vary: Vec<String>,
        max_rounds: Option<u32>,
    ) -> PyResult<(String, i32)> {
        let params = vary
            .iter()
            .map(|v| Vary::parse(v))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| batch_error(py, e))?;
        let grid = Grid::new(params).map_err(|e| batch_error(py, e))?;
        let template = Arc::clone(&self.template);
        let done = py.detach(move || -> Result<(String, i32), BatchError> {
            let sweep = Sweep::new(&template, &grid, max_rounds)?;
            let rows = sweep.run(0..grid.len(), &|| {})?;
            let failed = rows.iter().any(|r| r.figures.termination != "converged");
            let doc = SweepDoc {
                scenario: template.base().name.clone(),
                parameters: grid.paths(),
                kinds: sweep.kind_names(),
                variants: grid.len(),
                rows,
            };
            Ok((doc.to_csv(), if failed { 3 } else { 0 }))
        });
        done.map_err(|e| batch_error(py, e))
    }

    /// `delever mc --draws N --seed S`: the per-draw rows (`--draws-out FILE.csv`), the
    /// summary (`--format csv`) and the exit code.
    #[pyo3(signature = (draws, seed, max_rounds=None))]
    fn mc(
        &self,
        py: Python<'_>,
        draws: u64,
        seed: u64,
        max_rounds: Option<u32>,
    ) -> PyResult<(String, String, i32)> {
        if draws == 0 || draws > MAX_DRAWS {
            return Err(spec_error(
                py,
                format!("draws={draws}: give between 1 and {MAX_DRAWS}"),
                None,
            ));
        }
        let template = Arc::clone(&self.template);
        let done = py.detach(move || -> Result<(String, String, i32), BatchError> {
            let scenario = template.base();
            let study = Study::new(scenario, max_rounds)?;
            let rows = study.run(seed, 0..draws, &|| {})?;
            let failed = rows.iter().any(|r| r.figures.termination != "converged");
            let kinds = study.kind_names();
            let (assets, lenders) = (study.asset_names(), study.lender_names());
            let meta = SummaryMeta {
                scenario: &scenario.name,
                seed,
                distribution: study.describe(),
                kinds: &kinds,
                lenders: &lenders,
            };
            let summary = mc::summary(&meta, &rows);
            let cols = DrawColumns {
                kinds: &kinds,
                assets: &assets,
                lenders: &lenders,
            };
            Ok((
                draws_csv(&cols, &rows),
                summary.to_csv(),
                if failed { 3 } else { 0 },
            ))
        });
        done.map_err(|e| batch_error(py, e))
    }
}

/// A CLI message without its leading `error: ` (the exception names the kind).
fn strip_error(message: &str) -> String {
    message
        .trim_end()
        .strip_prefix("error: ")
        .unwrap_or(message)
        .to_owned()
}

/// Load a scenario file (`delever run PATH`): the name may differ from the file's stem,
/// with a warning.
#[pyfunction]
fn load_path(py: Python<'_>, path: PathBuf) -> PyResult<NativeScenario> {
    let (template, warning) = py
        .detach(|| Template::load_lenient(&path))
        .map_err(|e| scenario_error(py, &e))?;
    // Read again for `with_holders`/`with_book`; it loaded a moment ago.
    let text = delever_scenario::read_text(&path).map_err(|e| scenario_error(py, &e))?;
    let base_dir = path.parent().map(|p| {
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.to_path_buf()
        }
    });
    Ok(NativeScenario {
        template: Arc::new(template),
        text: text.into(),
        base_dir,
        warning: warning.map(|w| format!("warning: {w}")),
    })
}

/// Load a scenario from YAML text; `origin` names it in diagnostics and CSV books are
/// resolved against `base_dir` (refused when it is `None`).
#[pyfunction]
#[pyo3(signature = (text, origin, base_dir=None))]
fn load_text(
    py: Python<'_>,
    text: String,
    origin: String,
    base_dir: Option<PathBuf>,
) -> PyResult<NativeScenario> {
    let template = py
        .detach(|| Template::from_yaml(&text, &origin, base_dir.as_deref()))
        .map_err(|e| scenario_error(py, &e))?;
    Ok(NativeScenario::of(template, text, base_dir))
}

/// Load a scenario from YAML text, as [`load_text`], with account books given as Arrow
/// data: `books` maps a holder id to `(accounts, holdings)`, two objects with
/// `__arrow_c_stream__`; `keep` names the books of `carry` (a scenario loaded this way)
/// to keep, by holder id. Each book is the tables of the `account_book` holder of its
/// id, which names no table files. The GIL is released while the books are checked.
#[pyfunction]
#[pyo3(signature = (text, origin, base_dir=None, books=None, carry=None, keep=Vec::new()))]
fn load_text_books(
    py: Python<'_>,
    text: String,
    origin: String,
    base_dir: Option<PathBuf>,
    books: Option<&Bound<'_, PyDict>>,
    carry: Option<&NativeScenario>,
    keep: Vec<String>,
) -> PyResult<NativeScenario> {
    let mut memory = MemoryBooks::new();
    if let Some(carry) = carry {
        for id in keep {
            if let Some(b) = carry.template.memory_books().get(&id) {
                memory.insert(id, Arc::clone(b));
            }
        }
    }
    for (holder, tables) in books.into_iter().flat_map(PyDictMethods::iter) {
        let holder: String = holder.extract()?;
        let (accounts, holdings): (Bound<'_, PyAny>, Bound<'_, PyAny>) = tables.extract()?;
        let accounts = arrow_table(format!("accounts of {holder} (Arrow)"), &accounts)?;
        let holdings = arrow_table(format!("holdings of {holder} (Arrow)"), &holdings)?;
        memory.insert(holder, Arc::new(MemoryBook::new(accounts, holdings)));
    }
    let template = py
        .detach(|| Template::from_yaml_with_books(&text, &origin, base_dir.as_deref(), memory))
        .map_err(|e| scenario_error(py, &e))?;
    Ok(NativeScenario::of(template, text, base_dir))
}

impl NativeScenario {
    /// A scenario loaded from text, with no warning to carry.
    fn of(template: Template, text: String, base_dir: Option<PathBuf>) -> Self {
        NativeScenario {
            template: Arc::new(template),
            text: text.into(),
            base_dir,
            warning: None,
        }
    }
}

/// The shipped scenarios' names, sorted.
#[pyfunction]
fn shipped_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = delever_cli::api::shipped()
        .iter()
        .map(|(n, _)| *n)
        .collect();
    names.sort_unstable();
    names
}

/// A shipped scenario's YAML text, or `None`.
#[pyfunction]
fn shipped_text(name: &str) -> Option<&'static str> {
    delever_cli::api::shipped()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

/// The Python module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DeleverError", py.get_type::<DeleverError>())?;
    m.add("ScenarioError", py.get_type::<ScenarioError>())?;
    m.add("DEFAULT_SCENARIO", delever_cli::api::DEFAULT_SCENARIO)?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<NativeScenario>()?;
    m.add_class::<NativeRun>()?;
    m.add_function(wrap_pyfunction!(load_path, m)?)?;
    m.add_function(wrap_pyfunction!(load_text, m)?)?;
    m.add_function(wrap_pyfunction!(load_text_books, m)?)?;
    m.add_function(wrap_pyfunction!(shipped_names, m)?)?;
    m.add_function(wrap_pyfunction!(shipped_text, m)?)?;
    Ok(())
}
