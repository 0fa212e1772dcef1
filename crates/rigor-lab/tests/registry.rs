//! The registry the `reproduce` example walks: names are unique and folder-safe, every paper
//! reproduction is in it, and the change-of-mind entry runs at tiny scale and writes
//! its section, figures and results.

use burn::tensor::Device;
use rigor_lab::report::{IndexEntry, ReproCtx, Scale, write_index};
use rigor_lab::repro;

#[test]
fn registry_names_are_unique_and_folder_safe() {
    let all = repro::all();
    let mut names: Vec<&str> = all.iter().map(|r| r.name).collect();
    for name in &names {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{name}"
        );
    }
    for expected in ["max_retrieval", "change_of_mind", "perplexity", "rope"] {
        assert!(names.contains(&expected), "{expected} not registered");
    }
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "duplicate names");
}

#[test]
fn change_of_mind_runs_at_tiny_scale_and_writes_its_section() {
    let dir = std::env::temp_dir().join(format!("rigor-lab-com-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let mut ctx = ReproCtx::new(&dir, Scale::Tiny, Device::flex().autodiff());
    ctx.progress = false;
    let reproduction = repro::change_of_mind::reproduction();
    let outcome = (reproduction.run)(&ctx);
    let section = outcome.as_ref().expect("tiny change-of-mind run");
    for f in [
        "bayesian.jsonl",
        "biased.jsonl",
        "results.json",
        "change_of_mind.svg",
        "confidence_change.svg",
        "section.md",
    ] {
        assert!(dir.join("change_of_mind").join(f).exists(), "{f}");
    }
    // The table carries the paper's row and one row per simulated agent.
    assert!(
        section.body.contains("paper (Gemma 3 12B"),
        "{}",
        section.body
    );
    assert!(section.body.contains("bayesian(") && section.body.contains("biased("));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("change_of_mind/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["trials_per_cell"], 4);
    assert_eq!(json["report"]["agents"].as_array().map(Vec::len), Some(2));

    let index = write_index(
        &dir,
        &ctx,
        &[IndexEntry {
            reproduction: &reproduction,
            outcome: &outcome,
            seconds: 0.0,
        }],
    )
    .unwrap();
    let md = std::fs::read_to_string(index).unwrap();
    assert!(md.contains("change_of_mind/change_of_mind.svg"), "{md}");
    assert!(md.contains("| change_of_mind |"), "{md}");
    std::fs::remove_dir_all(&dir).ok();
}
