//! Save → load into a freshly initialised model (different random weights) gives identical
//! outputs, on every device; a record does not load into another architecture. The weights
//! are restored bit for bit; the 1e-6 tolerance only allows wgpu's autotuner to pick another
//! kernel for the second forward.

mod common;

use burn::tensor::Device;
use common::{assert_close, host, input3, tokens};
use rigor_nn::*;
use rigor_rope::RopeConfig;
use rigor_softmax::Normalizer;
use rigor_testkit::for_each_device;

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rigor-nn-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn decoder_round_trip_gives_identical_logits() {
    for_each_device(|device: &Device| {
        let config = DecoderLmConfig::new(9, 8, 2, 2)
            .with_positional(PositionalEncoding::Rope(RopeConfig::new(4)))
            .with_normalizer(Normalizer::adaptive());
        let model = config.init(device).unwrap();
        let toks = tokens(&[vec![1, 2, 3, 4]], device);
        let before = host(model.forward(toks.clone(), None).unwrap());
        let path = temp(&format!("decoder-{:?}.bpk", std::thread::current().id()));
        checkpoint::save(model, &path).unwrap();
        let fresh = config.init(device).unwrap();
        assert_ne!(
            host(fresh.forward(toks.clone(), None).unwrap()),
            before,
            "fresh init differs"
        );
        let loaded = checkpoint::load(fresh, &path).unwrap();
        assert_eq!(loaded.normalizer(), &Normalizer::adaptive());
        assert_close(
            &host(loaded.forward(toks, None).unwrap()),
            &before,
            1e-6,
            "decoder",
        );
        std::fs::remove_file(&path).ok();
    });
}

#[test]
fn set_readout_round_trip_gives_identical_logits() {
    for_each_device(|device: &Device| {
        let config = SetReadoutConfig::new(3, 8, 4);
        let model = config.init(device).unwrap();
        let items = input3(2, 5, 3, 1, device);
        let before = host(model.forward(items.clone(), None, None).unwrap().logits);
        let path = temp(&format!("readout-{:?}.bpk", std::thread::current().id()));
        checkpoint::save(model, &path).unwrap();
        let loaded = checkpoint::load(config.init(device).unwrap(), &path).unwrap();
        assert_close(
            &host(loaded.forward(items, None, None).unwrap().logits),
            &before,
            1e-6,
            "readout",
        );
        // another architecture refuses the record
        let other = SetReadoutConfig::new(3, 8, 4)
            .with_head_layers(1)
            .init(device)
            .unwrap();
        assert!(matches!(
            checkpoint::load(other, &path),
            Err(NnError::Io { .. })
        ));
        let missing = checkpoint::load(config.init(device).unwrap(), temp("does-not-exist.bpk"));
        assert!(matches!(missing, Err(NnError::Io { .. })));
        std::fs::remove_file(&path).ok();
    });
}
