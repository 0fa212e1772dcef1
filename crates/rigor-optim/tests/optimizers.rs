//! Optimizer claims: hand-computed single steps, convex quadratics, Shampoo's orthogonal
//! direction, Powerprop's first-order equivalence, save/load of state, bad input.
//!
//! Tolerances: the optimizers run in f32; hand-computed steps are exact up to f32 round-off
//! (1e-5). Anything routed through an inverse root or an eigenbasis is compared at 1e-3.

use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer, Optimizer, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData, Tolerance};
use rigor_optim::linalg::host::{inverse_pth_root_eigen, to_host};
use rigor_optim::{
    Grafting, OptimError, PowerpropLinear, PowerpropSgdConfig, SelectState, ShampooConfig,
    SignumConfig, SkipNonFinite, SkipNonFiniteOnDevice, SoapConfig, powerprop_weight,
};
use rigor_testkit::{for_each_autodiff_device, for_each_device};

fn t2(rows: &[&[f32]], device: &Device) -> Tensor<2> {
    let m = rows.len();
    let n = rows[0].len();
    let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [m, n]), device)
}

fn assert_close(actual: Tensor<2>, expected: Tensor<2>, tol: f32) {
    actual
        .to_data()
        .assert_approx_eq::<f32>(&expected.to_data(), Tolerance::absolute(tol));
}

fn host_matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
        }
    }
    out
}

fn transpose(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    (0..n * m).map(|idx| a[(idx % m) * n + idx / m]).collect()
}

fn from_f64(v: &[f64], m: usize, n: usize, device: &Device) -> Tensor<2> {
    rigor_optim::linalg::host::from_host(v, m, n, device)
}

// ---------------------------------------------------------------- Signum

#[test]
fn signum_two_steps_match_hand_computation() {
    for_each_device(|device| {
        let opt = SignumConfig::default().build().unwrap(); // β = 0.9
        let w = t2(&[&[1.0, 2.0], &[3.0, 4.0]], device);
        let g1 = t2(&[&[0.5, -1.0], &[0.0, 2.0]], device);
        // m1 = 0.1 g1 → sign = [[1, -1], [0, 1]]
        let (w, s) = opt.step(0.1, w, g1, None);
        assert_close(w.clone(), t2(&[&[0.9, 2.1], &[3.0, 3.9]], device), 1e-6);
        // m2 = 0.9 m1 + 0.1 g2 = [[-0.055, -0.19], [0.1, 0.08]]
        let g2 = t2(&[&[-1.0, -1.0], &[1.0, -1.0]], device);
        let (w, _) = opt.step(0.1, w, g2, s);
        assert_close(w, t2(&[&[1.0, 2.2], &[2.9, 3.8]], device), 1e-6);
    });
}

#[test]
fn sign_sgd_is_stateless_sign_step() {
    for_each_device(|device| {
        let opt = SignumConfig::sign_sgd().build().unwrap();
        let w = t2(&[&[1.0, 2.0]], device);
        let (w, s) = opt.step(0.5, w, t2(&[&[-3.0, 0.0]], device), None);
        assert!(s.is_none());
        assert_close(w, t2(&[&[1.5, 2.0]], device), 1e-6);
    });
}

// ---------------------------------------------------------------- Shampoo

fn plain_shampoo() -> ShampooConfig {
    ShampooConfig {
        grafting: Grafting::None,
        momentum: 0.0,
        epsilon: 1e-10,
        ..ShampooConfig::default()
    }
}

#[test]
fn shampoo_one_step_on_diagonal_gradient_is_hand_computed() {
    // G = diag(2, -3): L = R = diag(4, 9), L^{-1/4} G R^{-1/4} = diag(1, -1).
    for_each_device(|device| {
        let opt = plain_shampoo().build().unwrap();
        let w = t2(&[&[1.0, 1.0], &[1.0, 1.0]], device);
        let g = t2(&[&[2.0, 0.0], &[0.0, -3.0]], device);
        let (w, _) = opt.step(0.1, w, g, None);
        assert_close(w, t2(&[&[0.9, 1.0], &[1.0, 1.1]], device), 1e-4);
    });
}

#[test]
fn shampoo_one_step_matches_eigen_oracle() {
    // Dense 3×4 gradient: update = (GGᵀ+εI)^{-1/4} G (GᵀG+εI)^{-1/4} from the f64 oracle.
    for_each_device(|device| {
        let eps = 1e-3;
        let opt = ShampooConfig {
            epsilon: eps,
            ..plain_shampoo()
        }
        .build()
        .unwrap();
        let g_rows: [&[f32]; 3] = [
            &[0.3, -1.2, 0.5, 0.8],
            &[1.1, 0.4, -0.7, 0.2],
            &[-0.6, 0.9, 1.3, -0.4],
        ];
        let g = t2(&g_rows, device);
        let gh = to_host(g.clone());
        let gt = transpose(&gh, 3, 4);
        let l = inverse_pth_root_eigen(&host_matmul(&gh, &gt, 3, 4, 3), 3, 4, eps);
        let r = inverse_pth_root_eigen(&host_matmul(&gt, &gh, 4, 3, 4), 4, 4, eps);
        let expected = host_matmul(&host_matmul(&l, &gh, 3, 3, 4), &r, 3, 4, 4);
        let w = Tensor::<2>::zeros([3, 4], device);
        let (w, _) = opt.step(1.0, w, g, None);
        assert_close(w.neg(), from_f64(&expected, 3, 4, device), 2e-3);
    });
}

#[test]
fn shampoo_without_history_gives_orthogonal_polar_factor() {
    // β₂ = 0, ε → 0, no grafting/momentum: (GGᵀ)^{-1/4} G (GᵀG)^{-1/4} = UVᵀ = G (GᵀG)^{-1/2}.
    for_each_device(|device| {
        let opt = ShampooConfig {
            beta2: 0.0,
            ..plain_shampoo()
        }
        .build()
        .unwrap();
        let g = t2(
            &[&[1.2, 0.3, -0.2], &[0.1, 0.9, 0.4], &[-0.3, 0.2, 1.1]],
            device,
        );
        let gh = to_host(g.clone());
        let gtg = host_matmul(&transpose(&gh, 3, 3), &gh, 3, 3, 3);
        let polar = host_matmul(&gh, &inverse_pth_root_eigen(&gtg, 3, 2, 0.0), 3, 3, 3);
        // A second step with another gradient forgets the first (no history).
        let (w, s) = opt.step(1.0, Tensor::zeros([3, 3], device), g.clone().neg(), None);
        let (w2, _) = opt.step(1.0, Tensor::zeros([3, 3], device), g, s);
        let _ = w;
        assert_close(w2.neg(), from_f64(&polar, 3, 3, device), 2e-3);
        // UVᵀ is orthogonal.
        let q = from_f64(&polar, 3, 3, device);
        assert_close(
            q.clone().transpose().matmul(q),
            Tensor::eye(3, device),
            1e-6,
        );
    });
}

#[test]
fn shampoo_blocks_of_one_reduce_to_sign() {
    // Block size 1: every block is a scalar g, L = R = g², update = g/|g| = sign(g).
    for_each_device(|device| {
        let opt = ShampooConfig {
            block_size: 1,
            ..plain_shampoo()
        }
        .build()
        .unwrap();
        let g = t2(&[&[2.0, -0.5, 4.0], &[-1.0, 3.0, -0.25]], device);
        let (w, _) = opt.step(1.0, Tensor::zeros([2, 3], device), g.clone(), None);
        assert_close(w.neg(), g.sign(), 1e-3);
    });
}

#[test]
fn shampoo_adam_grafting_sets_the_block_norm() {
    // Step 1: v̂ = g², Adam direction ≈ sign(g), so ‖update‖_F = √(number of entries).
    for_each_device(|device| {
        let opt = ShampooConfig {
            grafting: Grafting::Adam,
            momentum: 0.0,
            ..ShampooConfig::default()
        }
        .build()
        .unwrap();
        let g = t2(&[&[0.3, -1.2, 0.5], &[1.1, 0.4, -0.7]], device);
        let (w, _) = opt.step(1.0, Tensor::zeros([2, 3], device), g, None);
        let norm = w.square().sum().sqrt().into_scalar::<f32>();
        assert!((norm - 6f32.sqrt()).abs() < 1e-3, "norm {norm}");
    });
}

#[test]
fn shampoo_rank_one_fallback_is_adam_direction() {
    for_each_device(|device| {
        let opt = ShampooConfig {
            momentum: 0.0,
            ..ShampooConfig::default()
        }
        .build()
        .unwrap();
        let g = Tensor::<1>::from_floats([0.5, -2.0, 0.0], device);
        let (w, _) = opt.step(0.1, Tensor::zeros([3], device), g, None);
        w.to_data().assert_approx_eq::<f32>(
            &TensorData::from([-0.1f32, 0.1, 0.0]),
            Tolerance::absolute(1e-5),
        );
    });
}

// ---------------------------------------------------------------- SOAP

#[test]
fn soap_first_call_only_initialises_then_steps_in_eigenbasis() {
    // Call 1 with G₁ = diag(2, -3): factors and eigenbases (signed permutations) only.
    // Call 2 with G₂: G₂' = Q_Lᵀ G₂ Q_R, M' = (1-β₁)G₂', V = (1-β₂)G₂'², so the bias-corrected
    // Adam step is lr · Q_L sign(G₂') Q_Rᵀ = lr · sign(G₂) (signed permutations commute with
    // sign).
    for_each_device(|device| {
        let opt = SoapConfig::default().build().unwrap();
        let w0 = t2(&[&[1.0, 1.0], &[1.0, 1.0]], device);
        let (w, s) = opt.step(
            0.1,
            w0.clone(),
            t2(&[&[2.0, 0.0], &[0.0, -3.0]], device),
            None,
        );
        assert_close(w.clone(), w0, 0.0);
        assert_eq!(s.as_ref().unwrap().step, 0);
        let g2 = t2(&[&[1.0, -2.0], &[3.0, 4.0]], device);
        let (w, s) = opt.step(0.1, w, g2, s);
        assert_close(w, t2(&[&[0.9, 1.1], &[0.9, 0.9]], device), 1e-4);
        assert_eq!(s.unwrap().step, 1);
    });
}

#[test]
fn soap_rank_one_is_adam() {
    for_each_device(|device| {
        let opt = SoapConfig::default().build().unwrap();
        let g = Tensor::<1>::from_floats([0.5, -2.0], device);
        let (w, s) = opt.step(0.1, Tensor::zeros([2], device), g.clone(), None);
        // Rank-1 parameters are plain Adam from the first call: step 1 = lr·sign(g).
        w.to_data()
            .assert_approx_eq::<f32>(&TensorData::from([-0.1f32, 0.1]), Tolerance::absolute(1e-5));
        assert_eq!(s.unwrap().step, 1);
    });
}

// ---------------------------------------------------------------- convex quadratic

/// f(W) = ½ tr((W−T)ᵀ H (W−T)) with H SPD (non-diagonal), ∇f = H (W − T).
fn quadratic_run<O: Optimizer>(
    opt: &O,
    steps: usize,
    lr: impl Fn(usize) -> f64,
    device: &Device,
) -> (f32, f32) {
    let h = t2(
        &[&[3.0, 1.0, 0.0], &[1.0, 2.0, 0.5], &[0.0, 0.5, 1.0]],
        device,
    );
    let target = t2(&[&[1.0, -1.0], &[0.5, 2.0], &[-2.0, 0.0]], device);
    let loss = |w: &Tensor<2>| {
        let d = w.clone() - target.clone();
        (d.clone().transpose().matmul(h.clone().matmul(d)))
            .sum()
            .into_scalar::<f32>()
            * 0.5
    };
    let mut w = Tensor::<2>::zeros([3, 2], device);
    let start = loss(&w);
    let mut state = None;
    for t in 0..steps {
        let grad = h.clone().matmul(w.clone() - target.clone());
        let (nw, ns) = opt.step(lr(t), w, grad, state);
        w = nw;
        state = ns;
    }
    (start, loss(&w))
}

#[test]
fn every_optimizer_minimises_a_convex_quadratic() {
    for_each_device(|device| {
        let geometric = |lr0: f64, rate: f64| move |t: usize| lr0 * rate.powi(t as i32);
        let (s, e) = quadratic_run(
            &SignumConfig::default().build().unwrap(),
            300,
            geometric(0.1, 0.985),
            device,
        );
        assert!(e < 1e-2 * s, "signum {s} -> {e}");
        let (s, e) = quadratic_run(
            &SignumConfig::sign_sgd().build().unwrap(),
            300,
            geometric(0.1, 0.985),
            device,
        );
        assert!(e < 1e-2 * s, "sign-sgd {s} -> {e}");
        let shampoo = ShampooConfig {
            precondition_every: 20,
            ..ShampooConfig::default()
        }
        .build()
        .unwrap();
        let (s, e) = quadratic_run(&shampoo, 300, geometric(0.1, 0.99), device);
        assert!(e < 1e-2 * s, "shampoo {s} -> {e}");
        let soap = SoapConfig {
            precondition_every: 20,
            ..SoapConfig::default()
        }
        .build()
        .unwrap();
        let (s, e) = quadratic_run(&soap, 300, geometric(0.1, 0.99), device);
        assert!(e < 1e-2 * s, "soap {s} -> {e}");
        let pp = PowerpropSgdConfig::new(2.0).build().unwrap();
        // W starts at 0, a fixed point of Powerprop for α > 1: start from α = 1 (plain SGD)
        // then check the α = 2 preconditioner separately below.
        let (s, e) = quadratic_run(
            &PowerpropSgdConfig::new(1.0).build().unwrap(),
            300,
            |_| 0.2,
            device,
        );
        assert!(e < 1e-3 * s, "powerprop α=1 {s} -> {e}");
        let _ = pp;
    });
}

#[test]
fn powerprop_zero_is_a_fixed_point_and_nonzero_weights_converge() {
    for_each_device(|device| {
        let opt = PowerpropSgdConfig::new(2.0).build().unwrap();
        // f(w) = ½‖w − t‖², t = 1: from w = 0 nothing moves; from w = 0.5 it converges.
        let target = t2(&[&[1.0, 1.0]], device);
        let mut w = t2(&[&[0.0, 0.5]], device);
        for _ in 0..200 {
            let grad = w.clone() - target.clone();
            w = opt.step(0.1, w, grad, None).0;
        }
        assert_close(w, t2(&[&[0.0, 1.0]], device), 1e-3);
    });
}

// ---------------------------------------------------------------- Powerprop equivalence

#[test]
fn powerprop_reparameterisation_and_optimizer_agree_to_first_order() {
    // One SGD step on θ for L(w(θ)) vs one PowerpropSgd step on w, L = ½‖w − t‖² + ⅓ Σ w³.
    // The difference must be O(η²): shrinking η by 4 shrinks it by ≈ 16, while the step itself
    // shrinks by 4.
    for_each_autodiff_device(|device| {
        let alpha = 3.0;
        let w0 = t2(&[&[0.8, -0.4, 0.3], &[-0.9, 0.6, -0.2]], device);
        let target = t2(&[&[0.1, 0.2, -0.5], &[0.4, -0.3, 0.7]], device);
        let target_inner = target.clone().inner();
        let loss_grad_w = |w: Tensor<2>| (w.clone() - target_inner.clone()) + w.square();
        let opt = PowerpropSgdConfig::new(alpha).build().unwrap();
        let mut diffs = vec![];
        let mut moves = vec![];
        for eta in [4e-3, 1e-3] {
            // θ path (autodiff).
            let theta = rigor_optim::powerprop_theta(w0.clone(), alpha)
                .detach()
                .require_grad();
            let w = powerprop_weight(theta.clone(), alpha);
            let d = w.clone() - target.clone();
            let loss = d.square().sum().mul_scalar(0.5) + w.powf_scalar(3.0).sum().div_scalar(3.0);
            let grads = loss.backward();
            let g_theta = theta.grad(&grads).unwrap();
            let theta_next = theta.inner() - g_theta.mul_scalar(eta);
            let w_theta = powerprop_weight(theta_next, alpha);
            // w path (the equivalent optimizer).
            let w_start = w0.clone().inner();
            let grad_w = loss_grad_w(w_start.clone());
            let (w_opt, _) = opt.step(eta, w_start.clone(), grad_w, None);
            let diff = (w_theta - w_opt.clone()).abs().max().into_scalar::<f32>();
            let moved = (w_opt - w_start).abs().max().into_scalar::<f32>();
            diffs.push(diff);
            moves.push(moved);
        }
        assert!(
            diffs[1] < 0.05 * moves[1],
            "diff {diffs:?} vs step {moves:?}"
        );
        assert!(diffs[0] / diffs[1] > 8.0, "not second order: {diffs:?}");
    });
}

#[test]
fn powerprop_layer_with_sgd_matches_linear_with_powerprop_sgd() {
    for_each_autodiff_device(|device| {
        let alpha = 2.0;
        let linear: Linear = LinearConfig::new(3, 2).init(device);
        let pp = PowerpropLinear::from_linear(linear.clone(), alpha).unwrap();
        assert_close(pp.weight().inner(), linear.weight.val().inner(), 1e-6);
        let x = t2(&[&[0.5, -1.0, 2.0], &[1.5, 0.3, -0.7]], device);
        let y = t2(&[&[0.2, -0.1], &[0.0, 0.4]], device);
        let lr = 1e-3;

        let loss = (pp.forward(x.clone()) - y.clone()).square().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &pp);
        let mut sgd: ModuleOptimizer = SgdConfig::new().init();
        let pp = sgd.step(lr, pp, grads);

        let loss = (linear.forward(x.clone()) - y.clone()).square().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &linear);
        let mut ppsgd = PowerpropSgdConfig::new(alpha).init().unwrap();
        let linear2 = ppsgd.step(lr, linear.clone(), grads);

        let moved = (linear2.weight.val() - linear.weight.val())
            .abs()
            .max()
            .into_scalar::<f32>();
        let diff = (pp.weight() - linear2.weight.val())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(moved > 0.0);
        assert!(diff < 0.05 * moved + 1e-7, "diff {diff} vs step {moved}");
        // Biases: plain SGD in both forms, identical.
        assert_close(
            pp.bias.unwrap().val().unsqueeze::<2>().inner(),
            linear2.bias.unwrap().val().unsqueeze::<2>().inner(),
            1e-6,
        );
    });
}

// ---------------------------------------------------------------- state save / load

fn assert_resume(make: impl Fn() -> ModuleOptimizer, device: &Device) {
    let mut model: Linear = LinearConfig::new(4, 3).init(device);
    let input = Tensor::<2>::from_floats([[1.0, -0.5, 0.3, 2.0], [0.2, 0.7, -1.1, 0.4]], device);
    let grads = |m: &Linear, scale: f32| {
        GradientsParams::from_grads(
            m.forward(input.clone())
                .square()
                .sum()
                .mul_scalar(scale)
                .backward(),
            m,
        )
    };
    let mut original = make();
    for scale in [1.0, 0.3, -0.5] {
        let g = grads(&model, scale);
        model = original.step(0.01, model, g);
    }
    assert!(!original.to_record().is_empty());
    let bytes = original.into_bytes().unwrap();
    let mut restored = make().from_bytes(bytes).unwrap();
    let expected = original.step(0.01, model.clone(), grads(&model, 0.7));
    let actual = restored.step(0.01, model.clone(), grads(&model, 0.7));
    assert_close(
        expected.weight.val().inner(),
        actual.weight.val().inner(),
        1e-6,
    );
    let moved = (expected.weight.val() - model.weight.val())
        .abs()
        .max()
        .into_scalar::<f32>();
    assert!(moved > 0.0);
}

#[test]
fn optimizer_state_round_trips_through_the_record() {
    for_each_autodiff_device(|device| {
        assert_resume(|| SignumConfig::default().init().unwrap(), device);
        assert_resume(
            || {
                ShampooConfig {
                    precondition_every: 2,
                    block_size: 3,
                    ..ShampooConfig::default()
                }
                .init()
                .unwrap()
            },
            device,
        );
        assert_resume(
            || {
                SoapConfig {
                    precondition_every: 2,
                    ..SoapConfig::default()
                }
                .init()
                .unwrap()
            },
            device,
        );
    });
}

// ---------------------------------------------------------------- bad input

#[test]
fn non_finite_gradients_are_skipped_and_counted() {
    for_each_device(|device| {
        let guarded = SkipNonFinite::new(ShampooConfig::default().build().unwrap());
        let counter = guarded.counter();
        let w = t2(&[&[1.0, 2.0], &[3.0, 4.0]], device);
        let good = t2(&[&[0.1, 0.2], &[0.3, 0.4]], device);
        let (w1, s1) = guarded.step(0.1, w, good, None);
        let bad = t2(&[&[f32::NAN, 0.2], &[0.3, f32::INFINITY]], device);
        let (w2, s2) = guarded.step(0.1, w1.clone(), bad, s1.clone());
        assert_eq!(counter.skipped(), 1);
        assert_close(w2, w1, 0.0);
        let (a, b) = (s1.unwrap().0, s2.unwrap().0);
        assert_eq!(a.step, b.step);
        assert_close(a.left[0].clone(), b.left[0].clone(), 0.0);
        assert!(rigor_optim::check_finite(&t2(&[&[f32::NAN]], device), "gradient").is_err());
    });
}

/// The state's tensors read back (scalars such as step counters left out), in flatten order.
fn state_tensors<S: burn::optim::RecordState>(state: &S) -> Vec<(String, Vec<f32>)> {
    let mut sink = burn::optim::StateSink::default();
    state.state_flatten("p", &mut sink);
    sink.tensors
        .into_iter()
        .map(|(name, data)| (name, data.convert::<f32>().try_to_vec::<f32>().unwrap()))
        .collect()
}

fn bits(t: Tensor<2>) -> Vec<u32> {
    t.to_data()
        .try_to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// Good step, then a non-finite gradient: the device guard returns the weights and every
/// state tensor bit for bit, counts the skip without being asked, and a first step with a
/// non-finite gradient leaves the weights alone.
fn device_guard_skips<O: SelectState>(name: &str, inner: O, device: &Device) {
    let guarded = SkipNonFiniteOnDevice::new(inner);
    let counter = guarded.counter();
    let w = t2(
        &[&[1.0, -2.0, 0.5], &[3.0, 4.0, -1.5], &[0.25, 2.0, 1.0]],
        device,
    );
    let good = t2(
        &[&[0.1, 0.2, -0.3], &[0.3, -0.4, 0.1], &[0.05, 0.2, -0.1]],
        device,
    );
    // Two good steps (SOAP's first call only initialises its factors).
    let (w1, s1) = guarded.step(0.1, w.clone(), good.clone(), None);
    let (w1, s1) = guarded.step(0.1, w1, good.clone(), s1);
    assert_ne!(
        bits(w1.clone()),
        bits(w.clone()),
        "{name}: good steps move the weights"
    );
    let hostile: [&[&[f32]]; 3] = [
        &[&[f32::NAN, 0.2, 0.0], &[0.3, 0.4, 0.1], &[0.0, 0.0, 0.0]],
        &[
            &[0.1, f32::INFINITY, 0.0],
            &[0.3, 0.4, f32::NEG_INFINITY],
            &[0.0; 3],
        ],
        &[&[f32::NAN; 3], &[f32::NAN; 3], &[f32::NAN; 3]],
    ];
    let mut expected_skips = 0;
    for bad in hostile {
        let (w2, s2) = guarded.step(0.1, w1.clone(), t2(bad, device), s1.clone());
        expected_skips += 1;
        assert_eq!(bits(w2), bits(w1.clone()), "{name}: weights kept");
        if let (Some(a), Some(b)) = (&s1, &s2) {
            assert_eq!(
                state_tensors(a),
                state_tensors(b),
                "{name}: state tensors kept"
            );
        }
        // The step after a skipped one is a normal step.
        let (w3, _) = guarded.step(0.1, w1.clone(), good.clone(), s2);
        assert!(
            w3.to_data()
                .try_to_vec::<f32>()
                .unwrap()
                .iter()
                .all(|v| v.is_finite()),
            "{name}: finite after a skip"
        );
    }
    let (w4, s4) = guarded.step(0.1, w.clone(), t2(hostile[0], device), None);
    expected_skips += 1;
    assert_eq!(
        bits(w4),
        bits(w.clone()),
        "{name}: first-step skip keeps the weights"
    );
    if let Some(s) = &s4 {
        for (leaf, v) in state_tensors(s) {
            assert!(v.iter().all(|x| x.is_finite()), "{name}: {leaf} finite");
        }
    }
    assert_eq!(counter.skipped(), expected_skips, "{name}: skips counted");
    assert_eq!(
        counter.skipped(),
        expected_skips,
        "{name}: reading twice counts once"
    );
    counter.reset();
    assert_eq!(counter.skipped(), 0);
}

#[test]
fn device_guard_keeps_weights_and_state_for_every_optimizer() {
    for_each_device(|device| {
        device_guard_skips("signum", SignumConfig::default().build().unwrap(), device);
        device_guard_skips("shampoo", ShampooConfig::default().build().unwrap(), device);
        device_guard_skips("soap", SoapConfig::default().build().unwrap(), device);
        device_guard_skips(
            "powerprop",
            PowerpropSgdConfig::new(2.0).build().unwrap(),
            device,
        );
        device_guard_skips("adamw", burn::optim::AdamWConfig::new().build(), device);
        device_guard_skips("adam", burn::optim::AdamConfig::new().build(), device);
    });
}

#[test]
fn device_guard_matches_the_host_guard_on_finite_runs() {
    // No skip: the two guards are the same optimizer, bit for bit.
    for_each_device(|device| {
        let host = SkipNonFinite::new(ShampooConfig::default().build().unwrap());
        let dev = SkipNonFiniteOnDevice::new(ShampooConfig::default().build().unwrap());
        let (mut wh, mut wd) = (
            t2(&[&[1.0, 2.0], &[3.0, 4.0]], device),
            t2(&[&[1.0, 2.0], &[3.0, 4.0]], device),
        );
        let (mut sh, mut sd) = (None, None);
        for k in 0..4 {
            let g = t2(&[&[0.1 * k as f32, -0.2], &[0.3, 0.05 * k as f32]], device);
            (wh, sh) = host.step(0.05, wh, g.clone(), sh);
            (wd, sd) = dev.step(0.05, wd, g, sd);
            assert_eq!(bits(wh.clone()), bits(wd.clone()), "step {k}");
        }
        assert_eq!(dev.counter().skipped(), 0);
    });
}

#[test]
fn invalid_hyper_parameters_are_errors() {
    fn field(e: OptimError) -> &'static str {
        match e {
            OptimError::InvalidHyperParameter { name, .. } => name,
            other => panic!("unexpected error {other}"),
        }
    }
    let bad = |r: Result<(), OptimError>| field(r.unwrap_err());
    assert_eq!(
        bad(SignumConfig {
            momentum: 1.0,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "momentum"
    );
    assert_eq!(
        bad(SignumConfig {
            weight_decay: -1.0,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "weight_decay"
    );
    assert_eq!(
        bad(ShampooConfig {
            beta2: 1.5,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "beta2"
    );
    assert_eq!(
        bad(ShampooConfig {
            epsilon: 0.0,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "epsilon"
    );
    assert_eq!(
        bad(ShampooConfig {
            epsilon: f64::NAN,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "epsilon"
    );
    assert_eq!(
        bad(ShampooConfig {
            root: 0,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "root"
    );
    assert_eq!(
        bad(ShampooConfig {
            precondition_every: 0,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "precondition_every"
    );
    assert_eq!(
        bad(ShampooConfig {
            block_size: 0,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "block_size"
    );
    assert_eq!(
        bad(ShampooConfig {
            momentum: -0.1,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "momentum"
    );
    assert_eq!(
        bad(SoapConfig {
            beta1: 1.0,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "beta1"
    );
    assert_eq!(
        bad(SoapConfig {
            shampoo_beta: Some(2.0),
            ..Default::default()
        }
        .build()
        .map(drop)),
        "shampoo_beta"
    );
    assert_eq!(
        bad(SoapConfig {
            precondition_every: 0,
            ..Default::default()
        }
        .build()
        .map(drop)),
        "precondition_every"
    );
    assert_eq!(bad(PowerpropSgdConfig::new(0.5).build().map(drop)), "alpha");
    assert_eq!(
        bad(PowerpropSgdConfig::new(f64::INFINITY).build().map(drop)),
        "alpha"
    );
    let linear: Linear = LinearConfig::new(2, 2).init(&Device::flex());
    assert_eq!(
        bad(PowerpropLinear::from_linear(linear, 0.0).map(drop)),
        "alpha"
    );
}
