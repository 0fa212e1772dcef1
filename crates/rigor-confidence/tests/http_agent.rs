//! The HTTP agent against a local test server that speaks the documented OpenAI-compatible
//! `/v1/completions` format — including malformed responses, timeouts and missing
//! logprobs, each a clear error, a failed trial, and nothing lost from the results file.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rigor_confidence::{
    Agent, AgentError, DesignConfig, HttpAgentConfig, QuestionSet, Results, Runner, StagePrompt,
    TrialOutcome, latitude_questions,
};

/// What the test server answers: status, body, delay before answering.
type Reply = (u16, String, Duration);

/// Whether an error is the expected kind.
type Check = fn(&AgentError) -> bool;

/// Serves `reply(request body)` on 127.0.0.1 (one thread per connection); returns the base
/// URL and the log of request bodies.
fn serve(
    reply: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let reply = Arc::new(reply);
    let log2 = log.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let reply = reply.clone();
            let log = log2.clone();
            thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut len = 0usize;
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                let _ = reader.read_exact(&mut body);
                let body = String::from_utf8_lossy(&body).to_string();
                assert!(
                    request_line.starts_with("POST /v1/completions "),
                    "{request_line}"
                );
                log.lock().unwrap().push(body.clone());
                let (status, text, delay) = reply(&body);
                thread::sleep(delay);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            });
        }
    });
    (url, log)
}

fn ok(body: &str) -> Reply {
    (200, body.to_string(), Duration::ZERO)
}

fn legacy(a: f64, b: f64) -> String {
    format!(
        r#"{{"id":"x","object":"text_completion","choices":[{{"index":0,"text":" A","logprobs":{{"tokens":[" A"],"token_logprobs":[{a}],"top_logprobs":[{{" A":{a}," B":{b}," The":-5.0}}]}},"finish_reason":"length"}}]}}"#
    )
}

fn questions() -> QuestionSet {
    let all = latitude_questions(2, 0).unwrap();
    QuestionSet::new(all.questions()[..6].to_vec()).unwrap()
}

fn agent(url: &str) -> rigor_confidence::HttpAgent {
    let mut c = HttpAgentConfig::new(url);
    c.model = Some("gemma-3-12b".into());
    c.request_timeout = Duration::from_millis(400);
    c.build().unwrap()
}

#[test]
fn http_agent_reads_option_probabilities_from_logprobs() {
    let (url, log) = serve(|_| ok(&legacy(-0.2, -1.8)));
    let q = &questions().questions()[0].clone();
    let p = agent(&url).respond(&StagePrompt::initial(q)).unwrap();
    let (a, b) = ((-0.2f64).exp(), (-1.8f64).exp());
    assert!((p.get(0) - a / (a + b)).abs() < 1e-12);
    // The documented request body.
    let body: serde_json::Value = serde_json::from_str(&log.lock().unwrap()[0]).unwrap();
    assert_eq!(body["model"], "gemma-3-12b");
    assert_eq!(body["max_tokens"], 1);
    assert_eq!(body["logprobs"], 20);
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["prompt"], StagePrompt::initial(q).render());

    // The chat-style shape (llama.cpp's newer servers) reads the same.
    let chat = r#"{"choices":[{"logprobs":{"content":[{"token":"B","logprob":-0.1,
        "top_logprobs":[{"token":"B","logprob":-0.1},{"token":"A","logprob":-2.4}]}]}}]}"#;
    let (url, _) = serve(move |_| ok(chat));
    let p = agent(&url).respond(&StagePrompt::initial(q)).unwrap();
    assert_eq!(p.answer(), 1);
}

#[test]
fn http_agent_reports_bad_responses_as_clear_errors() {
    let q = questions().questions()[0].clone();
    let prompt = StagePrompt::initial(&q);
    let cases: Vec<(&str, Reply, Check)> = vec![
        ("not json", ok("<html>oops"), |e| {
            matches!(e, AgentError::MalformedResponse { .. })
        }),
        ("no choices", ok(r#"{"choices":[]}"#), |e| {
            matches!(e, AgentError::MalformedResponse { .. })
        }),
        (
            "logprobs null",
            ok(r#"{"choices":[{"text":" A","logprobs":null}]}"#),
            |e| matches!(e, AgentError::MissingLogprobs { .. }),
        ),
        (
            "logprobs absent",
            ok(r#"{"choices":[{"text":" A"}]}"#),
            |e| matches!(e, AgentError::MissingLogprobs { .. }),
        ),
        (
            "option B absent",
            ok(r#"{"choices":[{"logprobs":{"top_logprobs":[{" A":-0.1," The":-3.0}]}}]}"#),
            |e| matches!(e, AgentError::OptionsAbsent { missing, seen } if missing == &vec!["B".to_string()] && seen.len() == 2),
        ),
        (
            "logprob not a number",
            ok(r#"{"choices":[{"logprobs":{"top_logprobs":[{" A":"x"," B":-1.0}]}}]}"#),
            |e| matches!(e, AgentError::MalformedResponse { .. }),
        ),
        (
            "server error",
            (
                500,
                r#"{"error":"model not loaded"}"#.into(),
                Duration::ZERO,
            ),
            |e| matches!(e, AgentError::HttpStatus { status: 500, body, .. } if body.contains("model not loaded")),
        ),
    ];
    for (name, reply, check) in cases {
        let (url, _) = serve(move |_| reply.clone());
        let err = agent(&url).respond(&prompt).unwrap_err();
        assert!(check(&err), "{name}: {err:?}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn http_agent_times_out_and_reports_unreachable_servers() {
    let (url, _) = serve(|_| (200, legacy(-0.1, -2.0), Duration::from_secs(3)));
    let q = questions().questions()[0].clone();
    let start = Instant::now();
    let err = agent(&url).respond(&StagePrompt::initial(&q)).unwrap_err();
    assert!(
        matches!(
            err,
            AgentError::Timeout {
                timeout_ms: 400,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(2));

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = agent(&format!("http://127.0.0.1:{port}"))
        .respond(&StagePrompt::initial(&q))
        .unwrap_err();
    assert!(matches!(err, AgentError::Transport { .. }), "{err:?}");
}

/// Hidden-answer stage-2 prompts get malformed replies, then time out, while the server is
/// "broken": those trials are written as failed records with the error, every planned trial
/// is in the file, and after the server recovers a resumed run completes exactly them.
#[test]
fn failed_http_trials_are_recorded_and_retried_on_resume() {
    let broken = Arc::new(AtomicBool::new(true));
    let flag = broken.clone();
    let (url, _) = serve(move |body| {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        let prompt = v["prompt"].as_str().unwrap();
        let hidden = prompt.contains("Your initial answer was: xx");
        if flag.load(Ordering::SeqCst) && hidden {
            if prompt.contains("90%") {
                return (200, legacy(-0.1, -2.0), Duration::from_secs(2));
            }
            return ok(r#"{"choices":[{"text":"A"}"#);
        }
        // Follows the advice a little: more weight on the recommended label.
        let (a, b) = if prompt.trim_end().ends_with(": B\nTaking your initial answer and the advice into account, give your final answer.\n\nAnswer:") {
            (-1.0, -0.5)
        } else {
            (-0.3, -1.5)
        };
        ok(&legacy(a, b))
    });
    let qs = questions();
    let design = DesignConfig {
        accuracies_percent: vec![60, 90],
        trials_per_cell: 2,
        seed: 1,
        ..DesignConfig::default()
    };
    let n_planned = 2 * 3 * 2 * 2;
    let path = common::temp_dir("http-resume").join("model.jsonl");
    let runner = Runner::new(design).unwrap();
    let http = agent(&url);
    let first = runner.run(&http, &qs, &path, &mut |_| {}).unwrap();
    assert_eq!(first.trials_planned, n_planned);
    assert_eq!(
        first.trials_failed,
        n_planned / 2,
        "every Hidden trial fails"
    );
    let r = Results::load(&path).unwrap();
    assert_eq!(
        r.trials.len(),
        n_planned,
        "no trial is missing from the file"
    );
    for t in r.failed_trials() {
        let TrialOutcome::Failed { error } = &t.outcome else {
            unreachable!()
        };
        if t.cell.accuracy_percent == 90 {
            assert!(error.contains("timed out"), "{error}");
        } else {
            assert!(error.contains("malformed response"), "{error}");
        }
    }
    broken.store(false, Ordering::SeqCst);
    let second = runner.run(&http, &qs, &path, &mut |_| {}).unwrap();
    assert_eq!(
        (second.trials_run, second.trials_failed),
        (n_planned / 2, 0)
    );
    let r = Results::load(&path).unwrap();
    assert_eq!(r.completed_trials().len(), n_planned);
    assert_eq!(r.n_records, 1 + qs.len() + 1 + n_planned + n_planned / 2);
}
