//! Golden inv_freq and attention factors of every context-extension variant, for real model
//! configurations, against `golden/generate_golden.py` — a float64 numpy transcription of HF
//! transformers' `modeling_rope_utils` (see golden/README.md for the configurations and
//! their sources).
//!
//! Tolerance: relative 1e-12 (plus 1e-300 absolute for exact zeros). Both sides compute in
//! f64 with the same formulas; only `pow`/`ln`/`exp` rounding differs (~1e-15). A wrong
//! formula shows up as an O(1) error in some slot.

use rigor_rope::scaling::yarn::YarnAttention;
use rigor_rope::*;
use serde_json::Value;

const GOLDEN: &str = include_str!("golden/rope_golden.json");

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("missing number `{key}`"))
}

fn u(v: &Value, key: &str) -> usize {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("missing integer `{key}`")) as usize
}

fn list(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn config_of(kind: &str, p: &Value) -> (RopeConfig, usize) {
    let d = u(p, "head_dim");
    let base = RopeConfig::new(d).with_theta(f(p, "theta"));
    let seq = p["seq_len"].as_u64().map_or(1, |s| s as usize);
    let cfg = match kind {
        "default" => base,
        "linear" => base.with_scaling(Scaling::Linear {
            factor: f(p, "factor"),
        }),
        "ntk" => base.with_scaling(Scaling::Ntk {
            factor: f(p, "factor"),
        }),
        "dynamic" => base.with_scaling(Scaling::DynamicNtk {
            factor: f(p, "factor"),
            original_max_position_embeddings: u(p, "original_max_position_embeddings"),
        }),
        "yarn" => {
            let mut y = YarnConfig::new(f(p, "factor"), u(p, "original_max_position_embeddings"))
                .with_betas(f(p, "beta_fast"), f(p, "beta_slow"));
            if let (Some(m), Some(a)) = (p["mscale"].as_f64(), p["mscale_all_dim"].as_f64()) {
                y = y.with_attention(YarnAttention::Mscale {
                    mscale: m,
                    mscale_all_dim: a,
                });
            }
            if let Some(t) = p["truncate"].as_bool() {
                y = y.with_truncate(t);
            }
            base.with_scaling(Scaling::Yarn(y))
        }
        "longrope" => base.with_scaling(Scaling::LongRope(LongRopeConfig {
            short_factor: list(&p["short_factor"]),
            long_factor: list(&p["long_factor"]),
            original_max_position_embeddings: u(p, "original_max_position_embeddings"),
            max_position_embeddings: u(p, "max_position_embeddings"),
            attention_factor: None,
        })),
        "llama3" => base.with_scaling(Scaling::Llama3(Llama3Config {
            factor: f(p, "factor"),
            low_freq_factor: f(p, "low_freq_factor"),
            high_freq_factor: f(p, "high_freq_factor"),
            original_max_position_embeddings: u(p, "original_max_position_embeddings"),
        })),
        "proportional" => base.with_rotation(Rotation::Proportional { p: f(p, "p") }),
        "neox_partial" => base.with_rotation(Rotation::NeoxPartial {
            rotary_dims: u(p, "rotary_dims"),
        }),
        other => panic!("unknown golden kind {other}"),
    };
    (cfg, seq)
}

fn check_case(c: &Value) {
    let name = c["name"].as_str().expect("name");
    let kind = c["kind"].as_str().expect("kind");
    let (cfg, seq) = config_of(kind, &c["params"]);
    let rope = cfg.init().unwrap_or_else(|e| panic!("{name}: {e}"));
    let got = rope.frequencies(seq);
    let want = list(&c["inv_freq"]);
    assert_eq!(got.inv_freq.len(), want.len(), "{name}: number of slots");
    for (k, (&g, &w)) in got.inv_freq.iter().zip(&want).enumerate() {
        let err = (g - w).abs();
        assert!(
            err <= 1e-300 + 1e-12 * w.abs(),
            "{name}: inv_freq[{k}] = {g:e}, golden {w:e} (rel err {:.2e})",
            err / w.abs().max(1e-300)
        );
    }
    let (ga, wa) = (got.attention_factor, f(c, "attention_factor"));
    assert!(
        (ga - wa).abs() <= 1e-12 * wa.abs(),
        "{name}: attention factor {ga}, golden {wa}"
    );
    if kind == "yarn" {
        let p = &c["params"];
        if let Scaling::Yarn(y) = &rope.config().scaling {
            let (lo, hi) = y.correction_range(u(p, "head_dim"), f(p, "theta")).unwrap();
            let r = list(&c["correction_range"]);
            assert!(
                (lo - r[0]).abs() < 1e-9 && (hi - r[1]).abs() < 1e-9,
                "{name}: correction range ({lo}, {hi}) vs {r:?}"
            );
        }
    }
    if kind == "proportional" {
        let live = got.inv_freq.iter().filter(|&&g| g > 0.0).count();
        assert_eq!(live, u(c, "rope_angles"), "{name}: rope_angles");
    }
}

fn cases(kind: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(GOLDEN).expect("golden JSON parses");
    let out: Vec<Value> = v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["kind"] == kind)
        .cloned()
        .collect();
    assert!(
        out.len() >= 2,
        "golden file has fewer than two {kind} configurations"
    );
    out
}

macro_rules! golden_test {
    ($name:ident, $kind:literal) => {
        #[test]
        fn $name() {
            for c in cases($kind) {
                check_case(&c);
            }
        }
    };
}

golden_test!(default_inv_freq_matches_hf, "default");
golden_test!(linear_matches_hf, "linear");
golden_test!(ntk_matches_hf, "ntk");
golden_test!(dynamic_ntk_matches_hf_at_each_length, "dynamic");
golden_test!(yarn_matches_hf_incl_mscale_and_truncate, "yarn");
golden_test!(longrope_matches_hf_short_and_long, "longrope");
golden_test!(llama3_matches_hf, "llama3");
golden_test!(proportional_p_rope_matches_hf_gemma, "proportional");
golden_test!(
    neox_partial_matches_hf_partial_rotary_factor,
    "neox_partial"
);
