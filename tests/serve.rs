//! `delever serve`: the server started on 127.0.0.1 on a free port (`--port 0`) by each
//! test, talked to over plain HTTP/1.1, and stopped with SIGINT (Ctrl-C) at the end.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{delever, root, scratch};

/// A running `delever serve`, stopped (SIGINT, then kill) when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_delever"))
            .arg("serve")
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(args)
            .current_dir(root())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("delever serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout piped"))
            .read_line(&mut line)
            .expect("the first line names the address");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        assert!(addr.starts_with("127.0.0.1:"), "{line}");
        Server { child, addr }
    }

    /// Send SIGINT, as Ctrl-C does, and wait: (exit code, stderr).
    fn interrupt(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -INT {pid}");
        let mut waited = None;
        for _ in 0..100 {
            if let Ok(Some(s)) = self.child.try_wait() {
                waited = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (waited.and_then(|s| s.code()), err)
    }

    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        http(&self.addr, method, path, body)
    }

    fn solve(&self, body: &Value) -> (u16, Value) {
        let (status, text) = self.request("POST", "/api/solve", body.to_string().as_bytes());
        let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, v)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        for _ in 0..40 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close`: (status, body).
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the server");
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // The server may answer (413) before reading a large body: a failed write is fine.
    let _ = s
        .write_all(head.as_bytes())
        .and_then(|()| s.write_all(body));
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    (status, body.to_owned())
}

/// `delever run NAME --set S… --format json`, parsed, and its exit code and stderr.
fn cli(name: &str, sets: &[&str]) -> (Value, i32, String) {
    let mut args = vec!["run", name, "--format", "json"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let r = delever(&args);
    assert!(r.code == 0 || r.code == 3, "{args:?}: {}", r.stderr);
    (
        serde_json::from_str(&r.stdout).expect("JSON report"),
        r.code,
        r.stderr,
    )
}

#[test]
fn fifty_concurrent_solves_give_the_cli_s_answers() {
    let cases: [(&str, &[&str]); 6] = [
        ("cifuentes-shin-ferrucci", &["shocks[0].return=-0.005"]),
        ("cifuentes-shin-ferrucci", &["shocks[0].return=-0.01"]),
        (
            "cifuentes-shin-ferrucci",
            &[
                "assets[ILLIQ].impact.alpha=0.5",
                "holders[*].rule.min_ratio=0.03",
            ],
        ),
        (
            "caccioli-overlapping-portfolios",
            &["assets[*].impact.alpha=0.4"],
        ),
        ("cont-schaanning-threshold", &["shocks[1].return=-0.2"]),
        ("glt-vulnerable-banks", &["engine.max_rounds=20"]),
    ];
    let expected: Vec<(Value, i32)> = cases
        .iter()
        .map(|(n, s)| {
            let (v, code, _) = cli(n, s);
            (v, code)
        })
        .collect();
    let server = Server::start(&[]);
    let n = 60;
    let answers: Vec<(usize, u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (name, sets) = cases[i % cases.len()];
                let server = &server;
                scope.spawn(move || {
                    let (status, v) = server.solve(&json!({ "scenario": name, "set": sets }));
                    (i % cases.len(), status, v)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    });
    assert_eq!(answers.len(), n);
    for (case, status, v) in answers {
        assert_eq!(status, 200, "{:?}: {v}", cases[case]);
        let (want, code) = &expected[case];
        assert_eq!(&v["report"], want, "{:?}", cases[case]);
        assert_eq!(v["exit_code"], json!(code), "{:?}", cases[case]);
        assert!(v["html"].as_str().is_some_and(|h| h.contains("<svg")));
    }
    let (code, err) = server.interrupt();
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn both_equilibria_come_back_when_there_are_two_and_what_changed_is_said() {
    let server = Server::start(&[]);
    let (status, base) = server.solve(&json!({ "scenario": "cifuentes-shin-ferrucci" }));
    assert_eq!(status, 200, "{base}");
    // The base shock has two equilibria: the least one is a collapse, played from the floor.
    let least = base["least_html"]
        .as_str()
        .expect("the least fixed point's page");
    assert!(least.contains("least fixed point") && least.contains("<svg"));
    // Its run ends where the report's least fixed point is, every bank failed.
    let lr = &base["least_report"];
    let want = base["report"]["least_fixed_point"]["total_loss_usd"]
        .as_f64()
        .expect("a least fixed point");
    let got = lr["totals"]["total_loss_usd"].as_f64().expect("its totals");
    assert!((got - want).abs() <= 1e-9 * want.abs(), "{got} vs {want}");
    assert_eq!(lr["totals"]["defaults"], 5);
    assert_eq!(lr["termination"], "converged");
    // Equity after the shock is at the shocked prices, as in the greatest run.
    assert_eq!(
        lr["holders"][0]["equity_shocked"],
        base["report"]["holders"][0]["equity_shocked"]
    );
    assert_eq!(base["what_changed"], "");
    let (_, next) = server.solve(&json!({
        "scenario": "cifuentes-shin-ferrucci",
        "set": ["shocks[0].return=-0.01"],
        "previous": base["summary"],
    }));
    let words = next["what_changed"].as_str().unwrap_or_default();
    assert!(
        words.contains("The total loss rose from") && words.contains("defaults went from 0 to 5"),
        "{words}"
    );
    assert!(words.contains("second equilibrium is gone"), "{words}");
    assert!(next["least_html"].is_null());
    // The slider echoes the value solved.
    assert_eq!(next["sliders"][0]["value"], json!(-0.01));
}

#[test]
fn a_non_converging_solve_reports_exit_3_s_message() {
    let (want, code, stderr) = cli("cifuentes-shin-ferrucci", &["engine.max_rounds=2"]);
    assert_eq!(code, 3);
    let server = Server::start(&[]);
    let (status, v) = server.solve(&json!({
        "scenario": "cifuentes-shin-ferrucci",
        "set": ["engine.max_rounds=2"],
    }));
    assert_eq!(status, 200);
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["report"], want);
    let warning = v["warning"].as_str().expect("a warning");
    assert!(
        warning.contains("did not converge within 2 rounds"),
        "{warning}"
    );
    assert_eq!(warning.trim(), stderr.trim());
}

#[test]
fn malformed_requests_get_4xx_with_a_message_and_the_server_stays_up() {
    let server = Server::start(&[]);
    let bad_upload = "name: bad\ndescription: x\nas_of: 2020-01-01\nassets: []\nfoo: 1\n";
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "POST",
            "/api/solve",
            b"not json".to_vec(),
            400,
            "malformed request",
        ),
        (
            "POST",
            "/api/solve",
            b"{\"scenario\": 3}".to_vec(),
            400,
            "malformed request",
        ),
        (
            "POST",
            "/api/solve",
            b"{\"bogus\": 1}".to_vec(),
            400,
            "unknown field",
        ),
        (
            "POST",
            "/api/solve",
            vec![0xff, 0xfe, 0x00],
            400,
            "malformed request",
        ),
        ("POST", "/api/solve", b"{}".to_vec(), 400, "no scenario"),
        (
            "POST",
            "/api/solve",
            br#"{"scenario": "cifuentes-shin-ferrucci", "text": "x"}"#.to_vec(),
            400,
            "not both",
        ),
        (
            "POST",
            "/api/solve",
            br#"{"scenario": "nope"}"#.to_vec(),
            404,
            "no scenario named",
        ),
        (
            "POST",
            "/api/solve",
            br#"{"scenario": "cifuentes-shin-ferrucci", "set": ["holders[zz].cash=1"]}"#.to_vec(),
            422,
            "not in this scenario",
        ),
        (
            "POST",
            "/api/solve",
            br#"{"scenario": "cifuentes-shin-ferrucci", "set": ["shocks[0].return=-7"]}"#.to_vec(),
            422,
            "shocks[0].return",
        ),
        (
            "POST",
            "/api/solve",
            br#"{"scenario": "cifuentes-shin-ferrucci", "set": ["no equals sign"]}"#.to_vec(),
            422,
            "PATH=VALUE",
        ),
        (
            "POST",
            "/api/solve",
            json!({ "text": bad_upload, "filename": "bad.yaml" })
                .to_string()
                .into_bytes(),
            422,
            "bad.yaml:5:1: foo: unknown key `foo`",
        ),
        ("GET", "/api/solve", Vec::new(), 405, "not allowed"),
        ("DELETE", "/", Vec::new(), 405, "not allowed"),
        ("GET", "/etc/passwd", Vec::new(), 404, "nothing at"),
        ("GET", "/../Cargo.toml", Vec::new(), 404, "nothing at"),
    ];
    for (method, path, body, want, message) in cases {
        let (status, text) = server.request(method, path, &body);
        assert_eq!(
            status,
            want,
            "{method} {path} {}: {text}",
            String::from_utf8_lossy(&body)
        );
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let error = v["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{method} {path}: {error}");
    }
    // Still up, and still right.
    let (status, v) = server.solve(&json!({ "scenario": "cifuentes-shin-ferrucci" }));
    assert_eq!(status, 200, "{v}");
    let (code, err) = server.interrupt();
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn oversized_uploads_and_bodies_get_413() {
    let server = Server::start(&[]);
    // A scenario just over 1 MiB (a comment pads it), in a body under the body limit.
    let text = format!("# {}\nname: x\n", "x".repeat(1 << 20));
    let (status, v) = server.solve(&json!({ "text": text }));
    assert_eq!(status, 413, "{v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("limited to 1 MiB")),
        "{v}"
    );
    // A body over the body limit is refused from its declared length.
    let body = vec![b' '; 3 * (1 << 20) + 1];
    let (status, text) = server.request("POST", "/api/solve", &body);
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("at most"), "{text}");
    let (status, _) = server.request("GET", "/api/scenarios", b"");
    assert_eq!(status, 200);
}

#[test]
fn the_page_is_self_contained_and_lists_the_teach_sliders() {
    let server = Server::start(&[]);
    let (status, page) = server.request("GET", "/", b"");
    assert_eq!(status, 200);
    assert!(page.contains("<script>") && page.contains("<style>"));
    for external in ["src=\"http", "href=\"http", "url(", "@import", "//cdn"] {
        assert!(
            !page.contains(external),
            "the page refers outside: {external}"
        );
    }
    let (status, list) = server.request("GET", "/api/scenarios", b"");
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&list).expect("JSON");
    let csf = list["scenarios"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "cifuentes-shin-ferrucci"))
        .expect("cifuentes-shin-ferrucci is offered");
    assert_eq!(csf["sliders"][0]["path"], "shocks[0].return");
    assert_eq!(csf["sliders"][0]["value"], json!(-0.009));
}

#[test]
fn every_teach_slider_of_the_textbook_scenarios_solves_at_both_ends() {
    let server = Server::start(&[]);
    let (_, list) = server.request("GET", "/api/scenarios", b"");
    let list: Value = serde_json::from_str(&list).expect("JSON");
    let mut tried = 0;
    for name in [
        "cifuentes-shin-ferrucci",
        "caccioli-overlapping-portfolios",
        "glt-vulnerable-banks",
        "cont-schaanning-threshold",
    ] {
        let s = list["scenarios"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == name))
            .unwrap_or_else(|| panic!("{name} offered"));
        let sliders = s["sliders"].as_array().expect("sliders");
        assert!(sliders.len() >= 2, "{name}: a teach block with sliders");
        for sl in sliders {
            let mut totals = Vec::new();
            for end in ["min", "max"] {
                let set = format!("{}={}", sl["path"].as_str().unwrap_or_default(), sl[end]);
                let (status, v) = server.solve(&json!({ "scenario": name, "set": [set] }));
                assert_eq!(status, 200, "{name} {set}: {v}");
                totals.push(v["report"]["totals"]["total_loss_usd"].clone());
                tried += 1;
            }
            assert_ne!(totals[0], totals[1], "{name}: {} moves nothing", sl["path"]);
        }
    }
    assert!(tried >= 16);
}

#[test]
fn a_scenario_file_given_on_the_command_line_is_offered_first() {
    let dir = scratch("serve-file");
    let text = std::fs::read_to_string(root().join("scenarios/cifuentes-shin-ferrucci.yaml"))
        .expect("read")
        .replacen("name: cifuentes-shin-ferrucci", "name: my-csf", 1)
        .replace("teach:\n  sliders:\n", "teach:\n  sliders:\n    - { path: \"holders[b1].cash\", label: \"b1's cash\", min: 0, max: 2.0e10, step: 1.0e8 }\n");
    let path = dir.join("my-csf.yaml");
    std::fs::write(&path, text).expect("write");
    let server = Server::start(&[path.to_str().expect("utf-8 path")]);
    let (_, list) = server.request("GET", "/api/scenarios", b"");
    let list: Value = serde_json::from_str(&list).expect("JSON");
    assert_eq!(list["scenarios"][0]["name"], "my-csf");
    assert_eq!(
        list["scenarios"][0]["sliders"][0]["path"],
        "holders[b1].cash"
    );
    let (status, v) =
        server.solve(&json!({ "scenario": "my-csf", "set": ["holders[b1].cash=1.0e10"] }));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["report"]["totals"]["forced_sales_usd"], json!(0.0));
}

#[test]
fn a_bad_teach_block_is_refused_with_its_location() {
    let dir = scratch("serve-teach");
    let base = std::fs::read_to_string(root().join("scenarios/cifuentes-shin-ferrucci.yaml"))
        .expect("read");
    let cut = base.find("\nteach:").expect("a teach block");
    let bad = format!(
        "{}\nteach:\n  sliders:\n    - {{ path: \"shocks[0].return\", label: \"x\", min: 0.0, max: -0.1, step: 0.01 }}\n    - {{ path: \"shocks[\", label: \"y\", min: 0, max: 1, step: 0 }}\n",
        base.get(..cut).unwrap_or_default()
    );
    let path = dir.join("cifuentes-shin-ferrucci.yaml");
    std::fs::write(&path, bad).expect("write");
    let r = delever(["validate", path.to_str().expect("utf-8")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for want in [
        "teach.sliders[0].max: max (-0.1) must be above min (0)",
        "teach.sliders[1].path: not a field path",
        "teach.sliders[1].step",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
    // A path the scenario does not have: serve refuses to start, naming it.
    let unknown = format!(
        "{}\nteach:\n  sliders:\n    - {{ path: \"holders[nobody].cash\", label: \"x\", min: 0, max: 1, step: 0.1 }}\n",
        base.get(..cut).unwrap_or_default()
    );
    std::fs::write(&path, unknown).expect("write");
    let r = delever(["serve", "--port", "0", path.to_str().expect("utf-8")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("teach path `holders[nobody].cash`"),
        "{}",
        r.stderr
    );
}
