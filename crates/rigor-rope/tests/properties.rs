//! Property tests: what must hold for every input, on every device.
//!
//! Tolerances: device math is f32 on O(1) inputs with head_dim ≤ 32, so dot products of 32
//! terms agree to ~1e-5 relative; we use 1e-4·(1 + |value|).

mod common;

use burn::tensor::{Device, Tensor};
use common::*;
use proptest::prelude::*;
use rigor_rope::*;
use rigor_testkit::for_each_device;

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
        "{what}: {a} vs {b}"
    );
}

/// Variants whose rotation is orthogonal (no attention factor, no xPos).
fn orthogonal(d: usize) -> Vec<(&'static str, RopeConfig)> {
    vec![
        ("rope", RopeConfig::new(d)),
        (
            "rope interleaved",
            RopeConfig::new(d).with_layout(Layout::Interleaved),
        ),
        (
            "p-rope 0.25",
            RopeConfig::new(d).with_rotation(Rotation::Proportional { p: 0.25 }),
        ),
        (
            "p-rope 0.75",
            RopeConfig::new(d).with_rotation(Rotation::Proportional { p: 0.75 }),
        ),
        ("nope", RopeConfig::new(d).with_rotation(Rotation::NoPE)),
        (
            "neox 8",
            RopeConfig::new(d).with_rotation(Rotation::NeoxPartial { rotary_dims: 8 }),
        ),
        (
            "linear",
            RopeConfig::new(d).with_scaling(Scaling::Linear { factor: 3.0 }),
        ),
        (
            "ntk",
            RopeConfig::new(d).with_scaling(Scaling::Ntk { factor: 3.0 }),
        ),
        (
            "dynamic",
            RopeConfig::new(d).with_scaling(Scaling::DynamicNtk {
                factor: 3.0,
                original_max_position_embeddings: 8,
            }),
        ),
        (
            "llama3",
            RopeConfig::new(d).with_scaling(Scaling::Llama3(Llama3Config {
                factor: 4.0,
                low_freq_factor: 1.0,
                high_freq_factor: 4.0,
                original_max_position_embeddings: 32,
            })),
        ),
    ]
}

/// Variants with an attention factor a: a rotation times a.
fn scaled(d: usize) -> Vec<(&'static str, RopeConfig)> {
    vec![
        (
            "yarn",
            RopeConfig::new(d).with_scaling(Scaling::Yarn(YarnConfig::new(16.0, 16))),
        ),
        (
            "longrope",
            RopeConfig::new(d).with_scaling(Scaling::LongRope(LongRopeConfig {
                short_factor: (0..d / 2).map(|k| 1.0 + k as f64 * 0.1).collect(),
                long_factor: (0..d / 2).map(|k| 1.0 + k as f64).collect(),
                original_max_position_embeddings: 8,
                max_position_embeddings: 128,
                attention_factor: None,
            })),
        ),
    ]
}

/// Runs q (token 0) and k (token 1) of each batch row through `rope` at the given ids, in one
/// call (so dynamic variants see one sequence length), and returns one logit per row.
fn logits(
    rope: &Rope,
    q: &[f32],
    k: &[f32],
    ids: &[(usize, usize)],
    device: &burn::tensor::Device,
) -> Vec<f64> {
    let d = rope.head_dim();
    let b = ids.len();
    let mut qs = Vec::new();
    let mut ks = Vec::new();
    let mut flat = Vec::new();
    for &(m, n) in ids {
        qs.extend_from_slice(q);
        qs.extend_from_slice(q);
        ks.extend_from_slice(k);
        ks.extend_from_slice(k);
        flat.extend([m, n]);
    }
    let pid = PositionIds::new(flat, b, 2).unwrap();
    let (rq, rk) = rope
        .apply_qk(
            tensor4(qs, [b, 1, 2, d], device),
            tensor4(ks, [b, 1, 2, d], device),
            TensorLayout::Bhsd,
            Positions::Ids(&pid),
        )
        .unwrap();
    let rq = to_f64(&host(rq));
    let rk = to_f64(&host(rk));
    (0..b)
        .map(|i| {
            dot(
                &rq[(2 * i) * d..(2 * i + 1) * d],
                &rk[(2 * i + 1) * d..(2 * i + 2) * d],
            )
        })
        .collect()
}

/// ⟨q, ρ_{r} k⟩ per chunk on the host, times `chunk_scale[k]`.
fn host_relative(
    rope: &Rope,
    q: &[f32],
    k: &[f32],
    r: f64,
    seq_len: usize,
    chunk_scale: &dyn Fn(usize) -> f64,
) -> f64 {
    let f = rope.frequencies(seq_len);
    let rd = rope.rotary_dim();
    let (q, k) = (to_f64(q), to_f64(k));
    let mut s: f64 = (rd..rope.head_dim()).map(|c| q[c] * k[c]).sum();
    for (slot, &g) in f.inv_freq.iter().enumerate() {
        let (a, b) = rope.layout().chunk_coords(slot, rd);
        s += chunk_scale(slot) * theory::drift::chunk_logit([q[a], q[b]], [k[a], k[b]], r, g);
    }
    s
}

fn vecs(d: usize) -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    (
        prop::collection::vec(-2.0f32..2.0, d),
        prop::collection::vec(-2.0f32..2.0, d),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// ‖R_t x‖ = ‖x‖ for orthogonal variants; = a‖x_rot‖ (+ tail) with an attention factor.
    #[test]
    fn rotation_preserves_norms((x, _) in vecs(16), t in 0usize..5000) {
        for_each_device(|device| {
            for (name, cfg) in orthogonal(16).into_iter().chain(scaled(16)) {
                let rope = cfg.init().unwrap();
                let a = rope.frequencies(t + 1).attention_factor;
                let y = to_f64(&host(rope.apply(tensor4(x.clone(), [1, 1, 1, 16], device), TensorLayout::Bhsd, Role::Query, Positions::Offset(t)).unwrap()));
                let xr = to_f64(&x);
                let rd = rope.rotary_dim();
                close(norm(&y[..rd]), a * norm(&xr[..rd]), name);
                close(norm(&y[rd..]), norm(&xr[rd..]), name);
            }
        });
    }

    /// ⟨R_m q, R_n k⟩ = a²·⟨q, ρ_{n−m} k⟩ (a = 1 except YaRN/LongRoPE), and it only depends on
    /// n − m. Dynamic NTK/LongRoPE: at one sequence length (both rows in one call).
    #[test]
    fn relative_position_property((q, k) in vecs(16), m in 0usize..300, n in 0usize..300, shift in 0usize..300) {
        for_each_device(|device| {
            for (name, cfg) in orthogonal(16).into_iter().chain(scaled(16)) {
                let rope = cfg.init().unwrap();
                let l = logits(&rope, &q, &k, &[(m, n), (m + shift, n + shift)], device);
                let seq_len = m.max(n) + shift + 1;
                let a = rope.frequencies(seq_len).attention_factor;
                let want = host_relative(&rope, &q, &k, n as f64 - m as f64, seq_len, &|_| a * a);
                close(l[0], want, &format!("{name}: <R_m q, R_n k> = a^2 <q, rho_(n-m) k>"));
                close(l[1], l[0], &format!("{name}: shift invariance"));
            }
        });
    }

    /// xPos: the pure-rotation identity fails, but with the decay factor ζ_k^{(m−n)/B} per
    /// chunk it holds, and the logit still depends on n − m only.
    #[test]
    fn xpos_relative_property_holds_with_its_decay((q, k) in vecs(16), m in 0usize..300, n in 0usize..300, shift in 0usize..300) {
        for_each_device(|device| {
            let xp = XPosConfig { scale_base: 64.0, gamma: 0.4 };
            let rope = RopeConfig::new(16).with_xpos(xp).init().unwrap();
            let zeta = xp.zeta(16);
            let l = logits(&rope, &q, &k, &[(m, n), (m + shift, n + shift)], device);
            let want = host_relative(&rope, &q, &k, n as f64 - m as f64, 1, &|s| zeta[s].powf((m as f64 - n as f64) / 64.0));
            close(l[0], want, "xpos with decay");
            close(l[1], l[0], "xpos shift invariance");
        });
    }

    /// M-RoPE and 2-D axial: shifting every position of one axis leaves logits unchanged.
    #[test]
    fn multi_axis_relative_property((q, k) in vecs(16), ids in prop::collection::vec(0usize..200, 6), shifts in prop::collection::vec(0usize..200, 3)) {
        for_each_device(|device| {
            for (name, cfg, axes) in [
                ("mrope", RopeConfig::new(16).with_axes(Axes::MRope { sections: vec![2, 3, 3] }), 3usize),
                ("axial", RopeConfig::new(16).with_axes(Axes::Axial2d), 2),
            ] {
                let rope = cfg.init().unwrap();
                let logit = |shift: bool| {
                    // [axes, batch 1, seq 2]: token 0 = query, token 1 = key
                    let flat: Vec<usize> = (0..axes).flat_map(|a| {
                        let s = if shift { shifts[a] } else { 0 };
                        [ids[2 * a] + s, ids[2 * a + 1] + s]
                    }).collect();
                    let pid = PositionIds::multi_axis(flat, axes, 1, 2).unwrap();
                    let qq: Vec<f32> = q.iter().chain(&q).copied().collect();
                    let kk: Vec<f32> = k.iter().chain(&k).copied().collect();
                    let (rq, rk) = rope.apply_qk(tensor4(qq, [1, 1, 2, 16], device), tensor4(kk, [1, 1, 2, 16], device), TensorLayout::Bhsd, Positions::Ids(&pid)).unwrap();
                    dot(&to_f64(&host(rq))[..16], &to_f64(&host(rk))[16..])
                };
                close(logit(true), logit(false), name);
            }
        });
    }

    /// p = 1 is RoPE and p = 0 is NoPE (identity), exactly.
    #[test]
    fn p_one_is_rope_and_p_zero_is_nope((x, _) in vecs(16), t in 0usize..10_000) {
        for_each_device(|device| {
            let run = |cfg: RopeConfig| host(cfg.init().unwrap().apply(tensor4(x.clone(), [1, 1, 1, 16], device), TensorLayout::Bhsd, Role::Query, Positions::Offset(t)).unwrap());
            assert_eq!(run(RopeConfig::new(16).with_rotation(Rotation::Proportional { p: 1.0 })), run(RopeConfig::new(16)));
            assert_eq!(run(RopeConfig::new(16).with_rotation(Rotation::Proportional { p: 0.0 })), x.clone());
            assert_eq!(run(RopeConfig::new(16).with_rotation(Rotation::NoPE)), x.clone());
        });
    }

    /// Linear, YaRN, Llama-3 and static NTK with factor 1 are standard RoPE. (Dynamic NTK is
/// not: with s = 1 its base still grows as θ·(L/L0)^{d/(d−2)} beyond L0 — see
/// `dynamic_ntk_with_factor_one_still_rescales_beyond_l0`.)
    #[test]
    fn factor_one_is_standard_rope((x, _) in vecs(16), t in 0usize..10_000) {
        for_each_device(|device| {
            let run = |cfg: RopeConfig| host(cfg.init().unwrap().apply(tensor4(x.clone(), [1, 1, 1, 16], device), TensorLayout::Bhsd, Role::Query, Positions::Offset(t)).unwrap());
            let want = to_f64(&run(RopeConfig::new(16)));
            for s in [
                Scaling::Linear { factor: 1.0 },
                Scaling::Ntk { factor: 1.0 },
                Scaling::Yarn(YarnConfig::new(1.0, 4)),
                Scaling::Llama3(Llama3Config { factor: 1.0, ..Llama3Config::llama_3_1() }),
            ] {
                let name = s.name();
                // f64 frequencies agree to rounding; outputs to f32 storage
                assert_close(&run(RopeConfig::new(16).with_scaling(s)), &want, 1e-6, 1e-6, name);
            }
        });
    }

    /// Dynamic NTK with s = 1 is plain RoPE up to L0 and NTK-rescaled beyond (HF's formula).
    #[test]
    fn dynamic_ntk_with_factor_one_still_rescales_beyond_l0(l0 in 2usize..5000, extra in 1usize..5000) {
        let rope = RopeConfig::new(16).with_scaling(Scaling::DynamicNtk { factor: 1.0, original_max_position_embeddings: l0 }).init().unwrap();
        prop_assert_eq!(rope.frequencies(l0).inv_freq, default_inv_freq(16, 10_000.0).unwrap());
        let base = 10_000.0 * ((l0 + extra) as f64 / l0 as f64).powf(16.0 / 14.0);
        let want = default_inv_freq(16, base).unwrap();
        for (g, w) in rope.frequencies(l0 + extra).inv_freq.iter().zip(&want) {
            prop_assert!((g - w).abs() <= 1e-12 * w);
        }
    }

    /// A scalar offset and the explicit ids offset..offset+seq give identical outputs.
    #[test]
    fn offset_and_position_ids_agree(offset in 0usize..5000, seq in 1usize..6) {
        for_each_device(|device| {
            let mut rng = SeededRng::new(offset as u64);
            let shape = [2, 2, seq, 16];
            let x = rng.normals(shape.iter().product());
            for (name, cfg) in orthogonal(16).into_iter().chain(scaled(16)) {
                let rope = cfg.init().unwrap();
                let ids = PositionIds::new((0..2).flat_map(|_| offset..offset + seq).collect(), 2, seq).unwrap();
                let a = host(rope.apply(tensor4(x.clone(), shape, device), TensorLayout::Bhsd, Role::Key, Positions::Offset(offset)).unwrap());
                let b = host(rope.apply(tensor4(x.clone(), shape, device), TensorLayout::Bhsd, Role::Key, Positions::Ids(&ids)).unwrap());
                assert_eq!(a, b, "{name}");
            }
        });
    }

    /// Interleaved RoPE on x·W equals half-split RoPE on x·W' (W' = W with per-head columns
    /// permuted): same logits, outputs permuted.
    #[test]
    fn layouts_agree_after_the_weight_permutation(seed in 0u64..1000, offset in 0usize..1000) {
        for_each_device(|device| {
            let (s, m, h, d) = (4, 12, 2, 16);
            let mut rng = SeededRng::new(seed);
            let x = tensor2(rng.normals(s * m), [s, m], device);
            let wq = tensor2(rng.normals(m * h * d), [m, h * d], device);
            let wk = tensor2(rng.normals(m * h * d), [m, h * d], device);
            let perm = layout_permutation(d, d, Layout::Interleaved, Layout::HalfSplit).unwrap();
            let run = |layout: Layout, wq: Tensor<2>, wk: Tensor<2>| {
                let rope = RopeConfig::new(d).with_layout(layout).init().unwrap();
                let q: Tensor<4> = x.clone().matmul(wq).reshape([1, s, h, d]);
                let k: Tensor<4> = x.clone().matmul(wk).reshape([1, s, h, d]);
                let (q, k) = rope.apply_qk(q, k, TensorLayout::Bshd, Positions::Offset(offset)).unwrap();
                let (q, k) = (q.swap_dims(1, 2), k.swap_dims(1, 2));
                (q.clone(), q.matmul(k.swap_dims(2, 3)))
            };
            let (q_int, l_int) = run(Layout::Interleaved, wq.clone(), wk.clone());
            let (q_half, l_half) = run(
                Layout::HalfSplit,
                permute_projection(wq, h, &perm).unwrap(),
                permute_projection(wk, h, &perm).unwrap(),
            );
            assert_close(&host(l_half), &to_f64(&host(l_int)), 1e-3, 1e-4, "logits");
            let q_int_perm = permute_last_dim(q_int.swap_dims(1, 2).reshape([1, s, h * d]), h, &perm).unwrap();
            assert_close(&host(q_half.swap_dims(1, 2).reshape([1, s, h * d])), &to_f64(&host(q_int_perm)), 1e-4, 1e-4, "outputs");
        });
    }

    /// The theorem kit's relative-position checker holds on every configuration of its own
    /// strategy, through the device kernels (Flex: the fused rotation).
    #[test]
    fn kit_relative_position_holds_for_relative_configs(
        cfg in theorems::relative_config(16),
        (q, k) in theorems::qk_pair(16, 2.0),
        pairs in theorems::position_pairs(2000, 1..6),
        shift in 0usize..2000,
    ) {
        let rope = cfg.init().unwrap();
        let v = theorems::check_relative_position(&rope, &q, &k, &pairs, shift, 1e-4, &Device::flex()).unwrap();
        prop_assert!(v.holds && v.cases == pairs.len(), "{v}");
    }

    /// Claim 3 through the kit: on any bounded content the constructed heads peak where
    /// claimed, for standard and p-RoPE (g_0 = 1) in both layouts.
    #[test]
    fn kit_claim_3_heads_peak_for_any_content(
        kind in theorems::head_kind(),
        qc in theorems::content(10, 16, 1.0),
        kc in theorems::content(10, 16, 1.0),
        window in 1usize..9,
        interleaved in any::<bool>(),
        p in 0.3f64..=1.0,
    ) {
        let device = Device::flex();
        let layout = if interleaved { Layout::Interleaved } else { Layout::HalfSplit };
        let rope = RopeConfig::new(16).with_layout(layout).with_rotation(Rotation::Proportional { p }).init().unwrap();
        let v = theorems::check_positional_head(&rope, kind, window, theorems::content_tensor(&qc, 10, 16, &device), theorems::content_tensor(&kc, 10, 16, &device)).unwrap();
        prop_assert!(v.holds && v.cases == 10 - kind.peak(), "{v}");
        // Linear scaling moves g_0 off 1: the construction's premise fails, and the kit says so.
        let scaled = RopeConfig::new(16).with_scaling(Scaling::Linear { factor: 2.0 }).init().unwrap();
        prop_assert!(theorems::check_positional_head(&scaled, kind, window, theorems::content_tensor(&qc, 10, 16, &device), theorems::content_tensor(&kc, 10, 16, &device)).is_err());
    }

    /// Claim 4 through the kit, per chunk of any relative configuration.
    #[test]
    fn kit_claim_4_holds_per_chunk(
        cfg in theorems::relative_config(16),
        (q, k) in theorems::qk_pair(16, 5.0),
        distances in prop::collection::vec(0.0f64..1e5, 1..8),
    ) {
        let rope = cfg.init().unwrap();
        let v = theorems::check_drift_bound(&rope, &q, &k, &distances).unwrap();
        prop_assert!(v.holds && v.cases == rope.frequencies(1).inv_freq.len() * distances.len(), "{v}");
    }

    /// Claim 4: |a_k(r) − a_k(0)| ≤ 2|sin(r g/2)|‖q_k‖‖k_k‖ ≤ r g ‖q_k‖‖k_k‖.
    #[test]
    fn claim_4_drift_bound_holds(q in prop::array::uniform2(-5.0f64..5.0), k in prop::array::uniform2(-5.0f64..5.0), r in 0.0f64..1e5, e in 0.0f64..1.0) {
        let g = 10_000f64.powf(-e);
        let (tight, linear) = theory::drift::drift_bound(r, g, norm(&q), norm(&k));
        let drift = theory::drift::drift(q, k, r, g);
        prop_assert!(drift <= tight * (1.0 + 1e-9) + 1e-9, "drift {} > tight {}", drift, tight);
        prop_assert!(tight <= linear * (1.0 + 1e-12) + 1e-12, "tight {} > linear {}", tight, linear);
    }
}

/// The kit's checkers refuse bad input with errors: vectors of the wrong length, a bad
/// tolerance, positions past the limit or overflowing with the shift, non-finite distances,
/// content that does not match the head.
#[test]
fn kit_checkers_refuse_bad_input() {
    let device = Device::flex();
    let rope = RopeConfig::new(8).init().unwrap();
    let (q, k) = (vec![0.5; 8], vec![-0.5; 8]);
    let short = vec![0.5; 6];
    assert!(
        theorems::check_relative_position(&rope, &short, &k, &[(1, 2)], 3, 1e-4, &device).is_err()
    );
    assert!(
        theorems::check_relative_position(&rope, &q, &k, &[(1, 2)], 3, f64::NAN, &device).is_err()
    );
    assert!(
        theorems::check_relative_position(&rope, &q, &k, &[(usize::MAX - 1, 0)], 5, 1e-4, &device)
            .is_err()
    );
    assert!(
        theorems::check_relative_position(
            &rope,
            &q,
            &k,
            &[(MAX_POSITION + 1, 0)],
            0,
            1e-4,
            &device
        )
        .is_err()
    );
    let v = theorems::check_relative_position(&rope, &q, &k, &[], 3, 1e-4, &device).unwrap();
    assert!(v.holds && v.cases == 0);
    assert!(theorems::check_drift_bound(&rope, &short, &k, &[1.0]).is_err());
    assert!(theorems::check_drift_bound(&rope, &q, &k, &[f64::NAN]).is_err());
    assert!(theorems::check_drift_bound(&rope, &q, &k, &[f64::INFINITY]).is_err());
    let c = |s: usize, d: usize| Tensor::<2>::zeros([s, d], &device);
    let kind = theory::constructions::HeadKind::Diagonal;
    assert!(theorems::check_positional_head(&rope, kind, 4, c(6, 6), c(6, 6)).is_err());
    assert!(theorems::check_positional_head(&rope, kind, 4, c(6, 8), c(5, 8)).is_err());
}
