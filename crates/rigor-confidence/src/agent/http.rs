//! An agent backed by an OpenAI-compatible completion server that returns logprobs
//! (llama.cpp `llama-server`, vLLM, …).
//!
//! ## Request
//!
//! `POST {endpoint}` where `endpoint` is the server's base URL (`http://127.0.0.1:8080`, to
//! which `/v1/completions` is appended) or a full URL ending in `/completions`. Headers:
//! `Content-Type: application/json` and, when an API key is set, `Authorization: Bearer KEY`.
//! Body:
//!
//! ```json
//! {"model": "MODEL", "prompt": "<rendered stage prompt>", "max_tokens": 1,
//!  "temperature": 0.0, "logprobs": 20, "echo": false}
//! ```
//!
//! `"model"` is omitted when no model is configured (llama.cpp serves one model);
//! `"logprobs"` is [`HttpAgentConfig::top_logprobs`]. Prompts are rendered with
//! [`StagePrompt::render`] (templates in [`crate::design::prompt`]).
//!
//! ## Response fields read
//!
//! Only the first generated token's alternatives, from `choices[0].logprobs`, in either of
//! the two shapes servers use:
//!
//! 1. legacy completions: `top_logprobs[0]` is an object `{"token": logprob, …}`;
//! 2. chat-style: `content[0].top_logprobs` is an array of `{"token": …, "logprob": …}`.
//!
//! A token counts for option `A` when, with surrounding whitespace removed, it equals the
//! label `A` (so `"A"` and `" A"` both count; their probabilities are added). The option
//! probabilities are then renormalised over the options:
//! $p_k = e^{\ell_k} / \sum_j e^{\ell_j}$.
//!
//! ## Errors (each becomes a failed trial record, see [`crate::runner`])
//!
//! non-2xx status → [`AgentError::HttpStatus`]; no answer within the timeout →
//! [`AgentError::Timeout`]; connection failures → [`AgentError::Transport`]; a body that is
//! not JSON or lacks `choices[0]` → [`AgentError::MalformedResponse`]; `logprobs` missing or
//! `null` → [`AgentError::MissingLogprobs`]; an option label absent from the top logprobs →
//! [`AgentError::OptionsAbsent`].

use std::time::Duration;

use serde_json::{Value, json};

use super::{Agent, AgentError, OptionProbs};
use crate::design::prompt::StagePrompt;
use crate::design::question::option_label;
use crate::error::{ConfidenceError, Result};
use crate::logodds::log_sum_exp;

/// Settings of an [`HttpAgent`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpAgentConfig {
    /// Base URL of the server, or a full URL ending in `/completions`.
    pub endpoint: String,
    /// `"model"` field of the request (omitted when `None`).
    pub model: Option<String>,
    /// Bearer token sent as `Authorization` (never stored in results files).
    pub api_key: Option<String>,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long a whole request may take, connection included.
    pub request_timeout: Duration,
    /// How many alternatives per token to request (`"logprobs"`), 1 to 20.
    pub top_logprobs: u32,
}

impl HttpAgentConfig {
    /// Defaults for a local server: no model name, 5 s to connect, 60 s per request,
    /// 20 top logprobs.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            model: None,
            api_key: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            top_logprobs: 20,
        }
    }

    /// Validates the config and builds the agent.
    pub fn build(self) -> Result<HttpAgent> {
        let bad = |reason: String| ConfidenceError::InvalidConfig {
            what: "HTTP agent",
            reason,
        };
        let base = self.endpoint.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(bad(format!(
                "endpoint `{}` must start with http:// or https://",
                self.endpoint
            )));
        }
        if base.starts_with("https://") && !cfg!(feature = "tls") {
            return Err(bad(
                "https endpoints need the `tls` feature of rigor-confidence".into(),
            ));
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            return Err(bad("timeouts must be positive".into()));
        }
        if !(1..=20).contains(&self.top_logprobs) {
            return Err(bad(format!(
                "top_logprobs must be 1 to 20, got {}",
                self.top_logprobs
            )));
        }
        let url = if base.ends_with("/completions") {
            base.to_string()
        } else {
            format!("{base}/v1/completions")
        };
        let client = ureq::AgentBuilder::new()
            .timeout_connect(self.connect_timeout)
            .timeout(self.request_timeout)
            .build();
        Ok(HttpAgent {
            config: self,
            url,
            client,
        })
    }
}

/// The HTTP agent (see the module docs for the protocol).
#[derive(Debug)]
pub struct HttpAgent {
    config: HttpAgentConfig,
    url: String,
    client: ureq::Agent,
}

impl HttpAgent {
    /// The URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The request body for a prompt (documented in the module docs).
    pub fn request_body(&self, prompt: &StagePrompt) -> Value {
        let mut body = json!({
            "prompt": prompt.render(),
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": self.config.top_logprobs,
            "echo": false,
        });
        if let Some(m) = &self.config.model {
            body["model"] = Value::String(m.clone());
        }
        body
    }

    fn transport_error(&self, t: &ureq::Transport) -> AgentError {
        let timed_out = std::error::Error::source(t)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|e| {
                matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                )
            })
            || t.to_string().contains("timed out");
        if timed_out {
            self.timeout()
        } else {
            AgentError::Transport {
                url: self.url.clone(),
                message: t.to_string(),
            }
        }
    }

    fn timeout(&self) -> AgentError {
        AgentError::Timeout {
            url: self.url.clone(),
            timeout_ms: self.config.request_timeout.as_millis(),
        }
    }
}

impl Agent for HttpAgent {
    fn name(&self) -> String {
        format!(
            "http({}, model={})",
            self.url,
            self.config.model.as_deref().unwrap_or("-")
        )
    }

    fn respond(&self, prompt: &StagePrompt) -> core::result::Result<OptionProbs, AgentError> {
        let body = self.request_body(prompt).to_string();
        let mut req = self
            .client
            .post(&self.url)
            .set("Content-Type", "application/json");
        if let Some(key) = &self.config.api_key {
            req = req.set("Authorization", &format!("Bearer {key}"));
        }
        let text = match req.send_string(&body) {
            Ok(resp) => resp.into_string().map_err(|e| {
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) {
                    self.timeout()
                } else {
                    AgentError::Transport {
                        url: self.url.clone(),
                        message: format!("reading the body: {e}"),
                    }
                }
            })?,
            Err(ureq::Error::Status(status, resp)) => {
                let body: String = resp
                    .into_string()
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect();
                return Err(AgentError::HttpStatus {
                    url: self.url.clone(),
                    status,
                    body,
                });
            }
            Err(ureq::Error::Transport(t)) => return Err(self.transport_error(&t)),
        };
        parse_completion_response(&text, prompt.n_options())
    }
}

/// Reads option probabilities from a completion response body (fields in the module docs).
pub fn parse_completion_response(
    body: &str,
    n_options: usize,
) -> core::result::Result<OptionProbs, AgentError> {
    let malformed = |reason: String| AgentError::MalformedResponse { reason };
    let v: Value = serde_json::from_str(body).map_err(|e| {
        let start: String = body.chars().take(80).collect();
        malformed(format!("not JSON ({e}): {start:?}"))
    })?;
    let choice = v
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| malformed("no `choices[0]`".into()))?;
    let logprobs = match choice.get("logprobs") {
        None | Some(Value::Null) => {
            return Err(AgentError::MissingLogprobs {
                reason: "`choices[0].logprobs` is missing or null".into(),
            });
        }
        Some(l) => l,
    };
    let mut alternatives: Vec<(String, f64)> = Vec::new();
    if let Some(top) = logprobs.get("top_logprobs").and_then(Value::as_array) {
        let first =
            top.first()
                .and_then(Value::as_object)
                .ok_or_else(|| AgentError::MissingLogprobs {
                    reason: "`choices[0].logprobs.top_logprobs[0]` is missing or not an object"
                        .into(),
                })?;
        for (token, lp) in first {
            let lp = lp
                .as_f64()
                .ok_or_else(|| malformed(format!("logprob of token {token:?} is not a number")))?;
            alternatives.push((token.clone(), lp));
        }
    } else if let Some(content) = logprobs.get("content").and_then(Value::as_array) {
        let top = content
            .first()
            .and_then(|c| c.get("top_logprobs"))
            .and_then(Value::as_array)
            .ok_or_else(|| AgentError::MissingLogprobs {
                reason: "`choices[0].logprobs.content[0].top_logprobs` is missing".into(),
            })?;
        for entry in top {
            let token = entry
                .get("token")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed("a top_logprobs entry has no string `token`".into()))?;
            let lp = entry
                .get("logprob")
                .and_then(Value::as_f64)
                .ok_or_else(|| malformed(format!("token {token:?} has no numeric `logprob`")))?;
            alternatives.push((token.to_string(), lp));
        }
    } else {
        return Err(AgentError::MissingLogprobs {
            reason: "`choices[0].logprobs` has neither `top_logprobs` nor `content`".into(),
        });
    }
    if alternatives.iter().any(|(_, lp)| lp.is_nan() || *lp > 1e-9) {
        return Err(malformed(format!(
            "logprobs must be <= 0, got {alternatives:?}"
        )));
    }
    let mut per_option = vec![Vec::new(); n_options];
    for (token, lp) in &alternatives {
        if let Some(k) = (0..n_options).find(|&k| token.trim() == option_label(k).to_string()) {
            per_option[k].push(*lp);
        }
    }
    let missing: Vec<String> = (0..n_options)
        .filter(|&k| per_option[k].is_empty())
        .map(|k| option_label(k).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(AgentError::OptionsAbsent {
            missing,
            seen: alternatives.into_iter().map(|(t, _)| t).collect(),
        });
    }
    let scores: Vec<f64> = per_option.iter().map(|l| log_sum_exp(l)).collect();
    OptionProbs::from_log_probs(&scores).map_err(|e| AgentError::InvalidOutput {
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_and_chat_shapes_give_the_same_renormalised_probabilities() {
        let legacy = r#"{"choices":[{"text":" A","logprobs":{"tokens":[" A"],
            "top_logprobs":[{" A":-0.5," B":-1.5,"A":-2.0,"C":-3.0}]}}]}"#;
        let p = parse_completion_response(legacy, 2).unwrap();
        let a = (-0.5f64).exp() + (-2.0f64).exp();
        let b = (-1.5f64).exp();
        assert!((p.get(0) - a / (a + b)).abs() < 1e-12);
        let chat = r#"{"choices":[{"logprobs":{"content":[{"token":" A","logprob":-0.5,
            "top_logprobs":[{"token":" A","logprob":-0.5},{"token":" B","logprob":-1.5},
            {"token":"A","logprob":-2.0}]}]}}]}"#;
        let q = parse_completion_response(chat, 2).unwrap();
        assert!((p.get(0) - q.get(0)).abs() < 1e-12);
    }

    #[test]
    fn bad_configs_are_rejected() {
        assert!(HttpAgentConfig::new("localhost:8080").build().is_err());
        let mut c = HttpAgentConfig::new("http://127.0.0.1:1");
        c.top_logprobs = 0;
        assert!(c.build().is_err());
        let a = HttpAgentConfig::new("http://127.0.0.1:1/").build().unwrap();
        assert_eq!(a.url(), "http://127.0.0.1:1/v1/completions");
    }
}
