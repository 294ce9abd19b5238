//! `delever serve`: a local web app for teaching. One self-contained page (inline CSS and
//! script, no external requests) with sliders for the parameters a scenario declares in
//! its `teach:` block; every move re-solves on the server through the same library calls
//! as `delever run --set` and redraws the HTML report's charts, network and round player.
//!
//! The HTTP stack is `tiny_http`: synchronous, a handful of small dependencies, no async
//! runtime (ARCHITECTURE.md says why). A few worker threads take requests from its queue;
//! nothing is written to disk; Ctrl-C stops the workers and the process exits 0.
//!
//! Routes: `GET /` (the page), `GET /api/scenarios` (names, titles, sliders), `POST
//! /api/solve` (a [`SolveRequest`] as JSON; the answer is a [`Solved`], or a 4xx with
//! `{"error": message}`).

mod solve;

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use delever_scenario::Template;
use serde_json::json;
use tiny_http::{Header, Request, Response, Server};

pub use solve::{
    Entry, MAX_OVERRIDES, MAX_UPLOAD_BYTES, Refusal, SliderView, SolveRequest, Solved, Summary,
    sliders, solve, what_changed,
};

use crate::commands::{Resolved, resolve};
use crate::{Failure, embedded, exit};

/// Largest request body, in bytes: an upload of [`MAX_UPLOAD_BYTES`] grows when written
/// as a JSON string (escaped newlines and quotes), so the body may be up to three times it.
pub const MAX_BODY_BYTES: usize = 3 * MAX_UPLOAD_BYTES;

/// Worker threads: solves of textbook scenarios take milliseconds, so a few serve a class.
const WORKERS: usize = 4;

/// The page (inline CSS and script).
const PAGE: &str = include_str!("page.html");

/// The scenarios a server offers: those given on the command line first, then every
/// shipped one not shadowed by a name given.
pub fn catalog(args: &[String]) -> Result<Vec<Entry>, Failure> {
    let mut entries = Vec::new();
    for a in args {
        let template = match resolve(Some(a))? {
            Resolved::File(path) => crate::commands::load_template(&Resolved::File(path))?,
            r @ Resolved::Embedded(..) => crate::commands::load_template(&r)?,
        };
        entries.push(entry(template).map_err(|m| Failure::input(format!("error: {a}: {m}")))?);
    }
    for (name, text) in embedded::EMBEDDED {
        if entries.iter().any(|e: &Entry| e.name == *name) {
            continue;
        }
        // A shipped scenario whose CSV books live beside it cannot load from its
        // embedded text alone; the page lists the others.
        let Ok(t) = Template::from_yaml(text, &format!("scenarios/{name}.yaml"), None) else {
            continue;
        };
        if let Ok(e) = entry(t) {
            entries.push(e);
        }
    }
    Ok(entries)
}

fn entry(template: Template) -> Result<Entry, String> {
    let sliders = sliders(&template)?;
    let base = template.base();
    Ok(Entry {
        name: base.name.clone(),
        // The description's first paragraph, on one line.
        title: base
            .description
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        sliders,
        template: Arc::new(template),
    })
}

/// `GET /api/scenarios`.
fn listing(entries: &[Entry]) -> String {
    let list: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "name": e.name,
                "title": e.title,
                "sliders": e.sliders,
            })
        })
        .collect();
    json!({ "scenarios": list, "max_upload_bytes": MAX_UPLOAD_BYTES }).to_string()
}

/// Answer one HTTP request: (status, content type, body).
pub fn answer(
    entries: &[Entry],
    method: &str,
    url: &str,
    body: &[u8],
) -> (u16, &'static str, String) {
    const JSON: &str = "application/json";
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let refuse = |r: Refusal| (r.status, JSON, json!({ "error": r.message }).to_string());
    match (method, path) {
        ("GET" | "HEAD", "/" | "/index.html") => (200, "text/html; charset=utf-8", PAGE.to_owned()),
        ("GET" | "HEAD", "/api/scenarios") => (200, JSON, listing(entries)),
        ("POST", "/api/solve") => {
            if body.len() > MAX_BODY_BYTES {
                return refuse(too_large(body.len()));
            }
            let req: SolveRequest = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(e) => {
                    return refuse(Refusal {
                        status: 400,
                        message: format!(
                            "malformed request: {e}\n  hint: send JSON like {{\"scenario\": \"cifuentes-shin-ferrucci\", \"set\": [\"shocks[0].return=-0.01\"]}}"
                        ),
                    });
                }
            };
            match solve(entries, &req) {
                Ok(s) => match serde_json::to_string(&s) {
                    Ok(text) => (200, JSON, text),
                    Err(e) => refuse(Refusal {
                        status: 500,
                        message: format!("rendering the answer: {e}"),
                    }),
                },
                Err(r) => refuse(r),
            }
        }
        (_, "/" | "/index.html" | "/api/scenarios" | "/api/solve") => refuse(Refusal {
            status: 405,
            message: format!("{method} is not allowed on {path}"),
        }),
        _ => refuse(Refusal {
            status: 404,
            message: format!(
                "nothing at {path}: the page is at /, the API at /api/scenarios and /api/solve"
            ),
        }),
    }
}

fn too_large(n: usize) -> Refusal {
    Refusal {
        status: 413,
        message: format!(
            "the request is {n} bytes; at most {MAX_BODY_BYTES} (a scenario of at most {} MiB)",
            MAX_UPLOAD_BYTES >> 20
        ),
    }
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// Read the body (bounded) and answer.
fn handle(entries: &[Entry], mut rq: Request) {
    let method = rq.method().as_str().to_owned();
    let url = rq.url().to_owned();
    let declared = rq.body_length().unwrap_or(0);
    let (status, ctype, body) = if declared > MAX_BODY_BYTES {
        let r = too_large(declared);
        (
            r.status,
            "application/json",
            json!({ "error": r.message }).to_string(),
        )
    } else {
        let mut buf = Vec::new();
        let limit = (MAX_BODY_BYTES + 1) as u64;
        match rq.as_reader().take(limit).read_to_end(&mut buf) {
            Err(e) => (
                400,
                "application/json",
                json!({ "error": format!("reading the request: {e}") }).to_string(),
            ),
            Ok(_) => {
                // A panic is a bug; it must cost one answer, not the server.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer(entries, &method, &url, &buf))).unwrap_or_else(|_| {
                    (500, "application/json", json!({ "error": "internal error: the solve panicked (a bug: please report it with the request)" }).to_string())
                })
            }
        }
    };
    // Always a Content-Length (tiny_http would chunk bodies over 32 KiB): simpler clients.
    let mut resp = Response::from_string(body)
        .with_status_code(status)
        .with_chunked_threshold(usize::MAX);
    for h in [
        header("Content-Type", ctype),
        header("Cache-Control", "no-store"),
        header("X-Content-Type-Options", "nosniff"),
        header(
            "Content-Security-Policy",
            "default-src 'none'; connect-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; frame-src 'self' about:",
        ),
    ]
    .into_iter()
    .flatten()
    {
        resp.add_header(h);
    }
    if let Err(e) = rq.respond(resp) {
        tracing::debug!("answering {url}: {e}");
    }
}

/// `delever serve`: listen on `bind:port` until Ctrl-C.
pub fn serve(args: &[String], port: u16, bind: IpAddr) -> Result<i32, Failure> {
    let entries = catalog(args)?;
    let server = Server::http(SocketAddr::new(bind, port)).map_err(|e| {
        Failure::input(format!(
            "error: cannot listen on {bind}:{port}: {e}\n  hint: another program may use the port; try --port 0 for a free one"
        ))
    })?;
    let addr = server
        .server_addr()
        .to_ip()
        .map_or_else(|| format!("{bind}:{port}"), |a| a.to_string());
    if !bind.is_loopback() {
        eprintln!(
            "warning: listening on {bind}, not loopback: anyone who can reach this machine can use the page and make it compute\n  hint: drop --bind to serve 127.0.0.1 only"
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        crate::notice(&format!("warning: Ctrl-C handler not installed: {e}"));
    }
    // The first line on stdout is the address: scripts and tests read it (`--port 0`).
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "delever serve: http://{addr}/ ({} scenarios; Ctrl-C stops)",
        entries.len()
    );
    let _ = out.flush();
    drop(out);
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    match server.recv_timeout(Duration::from_millis(100)) {
                        Ok(Some(rq)) => handle(&entries, rq),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!("accepting a request: {e}");
                            break;
                        }
                    }
                }
            });
        }
    });
    crate::notice("delever serve: stopped");
    Ok(exit::OK)
}
