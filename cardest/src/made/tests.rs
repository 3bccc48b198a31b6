use ndarray::{Array2, Axis};
use stratus_sim::SimRng;

use super::*;

const DOMAINS: [usize; 4] = [3, 5, 2, 4];

/// A test configuration: two layers, 3-wide embeddings, seed 5.
fn config(
    hidden: usize,
    residual: bool,
    (input, output): (InputEncoding, OutputEncoding),
    reuse_min_domain: usize,
    factor_bits: u32,
) -> MadeConfig {
    MadeConfig {
        hidden,
        layers: 2,
        residual,
        input,
        output,
        embedding: 3,
        reuse_min_domain,
        factor_bits,
        seed: 5,
    }
}

/// Every supported combination of trunk and encodings.
fn configs() -> Vec<MadeConfig> {
    let mut v = Vec::new();
    let embeddings = (InputEncoding::Embedding, OutputEncoding::Embedding);
    for residual in [false, true] {
        for encodings in [
            (InputEncoding::OneHot, OutputEncoding::OneHot),
            (InputEncoding::Binary, OutputEncoding::OneHot),
            (InputEncoding::Embedding, OutputEncoding::OneHot),
            embeddings,
        ] {
            v.push(config(7, residual, encodings, 0, 0));
        }
        // Mixed heads: columns of 4 or more values reuse embeddings, the others do not.
        v.push(config(7, residual, embeddings, 4, 0));
        // Factorized columns: with 1-bit digits every column of more than 2 values is
        // split (3 -> 2 digits, 5 -> 3, 4 -> 2); with 2-bit digits only the 5 (-> 2 digits of
        // 2 and 3 values), here with mixed heads.
        let one_hot = (InputEncoding::OneHot, OutputEncoding::OneHot);
        v.push(config(9, residual, one_hot, 0, 1));
        v.push(config(7, residual, embeddings, 3, 2));
    }
    v
}

/// Every configuration with each degree layout (new models are sorted; files of format 3
/// are cyclic).
fn cases() -> Vec<(MadeConfig, DegreeLayout)> {
    configs()
        .into_iter()
        .flat_map(|c| [(c.clone(), DegreeLayout::Sorted), (c, DegreeLayout::Cyclic)])
        .collect()
}

/// A small f64 network with non-zero biases, and a batch with some inputs masked.
fn tiny(cfg: &MadeConfig, layout: DegreeLayout) -> (Network<f64>, Vec<u32>, Vec<u32>) {
    tiny_on::<f64>(cfg, layout)
}

/// [`tiny`] on any float type.
fn tiny_on<F: Real>(cfg: &MadeConfig, layout: DegreeLayout) -> (Network<F>, Vec<u32>, Vec<u32>) {
    let mut m = Network::<F>::build(&DOMAINS, cfg, layout).unwrap();
    // Non-zero biases keep pre-activations off ReLU's kink at 0, where a finite difference
    // straddles two slopes.
    let mut rng = SimRng::new(11);
    let p = &mut m.params;
    for b in [&mut p.b_in, &mut p.b_out, &mut p.b_logit]
        .into_iter()
        .chain(p.b_hidden.iter_mut())
    {
        b.mapv_inplace(|_| F::of(0.1 * gaussian(&mut rng) + 0.05));
    }
    // Three rows of table codes, some columns masked, encoded as training encodes them.
    let codes: [u32; 12] = [0, 3, 1, 2, 1, 0, 1, 0, 2, 4, 0, 3];
    let masked = [
        false, false, true, false, true, false, false, false, false, true, false, false,
    ];
    let (mut slots, mut targets) = (Vec::new(), Vec::new());
    for (k, &code) in codes.iter().enumerate() {
        m.push_column(k % DOMAINS.len(), code, masked[k], &mut slots, &mut targets);
    }
    (m, slots, targets)
}

/// Central finite differences agree with the hand-written backward pass on every
/// parameter of every configuration; masked-out weights get zero gradient.
#[test]
fn gradient_matches_finite_differences() {
    for (cfg, layout) in cases() {
        let (m, slots, targets) = tiny(&cfg, layout);
        let (_, grads) = m.loss_and_grad(&slots, &targets, 1.0);
        let analytic: Vec<Vec<f64>> = grads.tensors().iter().map(|t| t.to_vec()).collect();
        let eps = 1e-6;
        let (mut checked, mut worst) = (0, 0.0f64);
        for (ti, tensor) in analytic.iter().enumerate() {
            for (k, &ana) in tensor.iter().enumerate() {
                let mut p = m.clone();
                p.params.tensors_mut()[ti][k] += eps;
                let mut q = m.clone();
                q.params.tensors_mut()[ti][k] -= eps;
                let num = (p.loss(&slots, &targets) - q.loss(&slots, &targets)) / (2.0 * eps);
                let masked_out = m.params.tensors()[ti][k] == 0.0 && ana == 0.0;
                if masked_out {
                    // A masked weight: moving it may change the loss, but the optimiser
                    // must never see a gradient for it.
                    continue;
                }
                // Relative error, floored for tiny gradients: the central difference itself
                // carries ~1e-9 of rounding (an ulp of the loss over 2 eps), which a
                // wrong gradient would dwarf.
                worst = worst.max((num - ana).abs() / (num.abs() + ana.abs()).max(1e-3));
                checked += 1;
            }
        }
        assert!(checked > 100, "{cfg:?} {layout:?}: checked {checked}");
        assert!(
            worst < 1e-5,
            "{cfg:?} {layout:?}: worst relative error {worst}"
        );
    }
}

/// Masked-out weights have zero gradient and stay zero.
#[test]
fn masked_weights_get_no_gradient() {
    for (cfg, layout) in cases() {
        let (m, slots, targets) = tiny(&cfg, layout);
        let (_, g) = m.loss_and_grad(&slots, &targets, 1.0);
        for (w, mask) in [(&g.w_in, &m.mask_in), (&g.w_out, &m.mask_out)]
            .into_iter()
            .chain(g.w_hidden.iter().map(|w| (w, &m.mask_hidden)))
        {
            for (x, k) in w.iter().zip(mask.iter()) {
                if *k == 0.0 {
                    assert_eq!(*x, 0.0, "{cfg:?} {layout:?}");
                }
            }
        }
    }
}

/// Output block `i` must not depend on the inputs of columns `>= i`.
#[test]
fn outputs_are_autoregressive() {
    for (cfg, layout) in cases() {
        let (m, slots, _) = tiny(&cfg, layout);
        let n = m.domains.len();
        let row = &slots[..n];
        let base = m.forward(row).logits;
        for col in 0..n {
            for code in [None, Some(0), Some(1)] {
                let mut changed = row.to_vec();
                changed[col] = m.slot(col, code);
                let l = m.forward(&changed).logits;
                for c in 0..=col {
                    let (o, d) = (m.out_offsets[c], m.domains[c]);
                    for k in o..o + d {
                        assert!(
                            (l[(0, k)] - base[(0, k)]).abs() < 1e-12,
                            "{cfg:?} {layout:?}: column {c} depends on {col}"
                        );
                    }
                }
            }
        }
    }
}

/// Training on `f32` (the strided AVX-512 products where the CPU has them) computes the
/// same loss and gradient as on `f64` (`ndarray`'s products, checked by finite differences
/// above), to `f32` accuracy.
#[test]
fn f32_gradient_matches_f64() {
    for (cfg, layout) in cases() {
        let (m64, slots, targets) = tiny_on::<f64>(&cfg, layout);
        let (m32, _, _) = tiny_on::<f32>(&cfg, layout);
        let (l64, g64) = m64.loss_and_grad(&slots, &targets, 1.0);
        let (l32, g32) = m32.loss_and_grad(&slots, &targets, 1.0);
        assert!(
            (l64 - l32).abs() < 1e-4 * l64.abs().max(1.0),
            "{cfg:?} {layout:?}: loss"
        );
        for (t64, t32) in g64.tensors().iter().zip(g32.tensors()) {
            for (&a, &b) in t64.iter().zip(t32.iter()) {
                assert!(
                    (a - f64::from(b)).abs() < 1e-4 * a.abs().max(1.0),
                    "{cfg:?} {layout:?}: {a} vs {b}"
                );
            }
        }
    }
}

/// The folded first layer used for estimation gives the same logits as the training pass:
/// on `f64` (`ndarray`'s products) and on `f32` (the packed AVX-512 kernel where the CPU
/// has it).
#[test]
fn compiled_matches_forward() {
    for (cfg, layout) in cases() {
        compiled_matches_forward_on::<f64>(&cfg, layout, 1e-9);
        compiled_matches_forward_on::<f32>(&cfg, layout, 1e-4);
    }
}

fn compiled_matches_forward_on<F: Real>(cfg: &MadeConfig, layout: DegreeLayout, tolerance: f64) {
    let (m, slots, _) = tiny_on::<F>(cfg, layout);
    let n = m.domains.len();
    let compiled = Compiled::new(&m);
    let full = m.forward(&slots).logits;
    let batch = slots.len() / n;
    let mut z0 = Array2::zeros((batch, cfg.hidden));
    for (b, mut row) in z0.axis_iter_mut(Axis(0)).enumerate() {
        row.assign(compiled.base());
        for c in 0..n {
            let s = slots[b * n + c];
            if (s as usize) < m.domains[c] {
                row += &compiled.delta(c, s);
            }
        }
    }
    for c in 0..n {
        let l = compiled.column_logits(&z0, c);
        let o = m.out_offsets[c];
        for b in 0..batch {
            for v in 0..m.domains[c] {
                let diff = (l[(b, v)] - full[(b, o + v)]).to_f64().abs();
                assert!(diff < tolerance, "{cfg:?} {layout:?}: column {c}");
            }
        }
    }
}

#[test]
fn bad_configurations_are_typed_errors() {
    let bad = [
        MadeConfig {
            hidden: 0,
            ..Default::default()
        },
        MadeConfig {
            layers: 0,
            ..Default::default()
        },
        MadeConfig {
            embedding: 0,
            ..Default::default()
        },
        MadeConfig {
            input: InputEncoding::OneHot,
            output: OutputEncoding::Embedding,
            ..Default::default()
        },
    ];
    for cfg in bad {
        assert!(
            matches!(Made::new(&DOMAINS, &cfg), Err(Error::Config(_))),
            "{cfg:?}"
        );
    }
    assert!(matches!(
        Made::new(&[3, 0], &MadeConfig::default()),
        Err(Error::EmptyTable(_))
    ));
}

#[test]
fn tensor_lengths_match_the_built_model() {
    for cfg in configs() {
        let m = Network::<f32>::new(&DOMAINS, &cfg).unwrap();
        assert_eq!(m.domains(), DOMAINS);
        match cfg.factor_bits {
            1 => assert_eq!(m.sub_domains(), [2; 8]),
            2 => assert_eq!(m.sub_domains(), [3, 2, 3, 2, 4]),
            _ => assert_eq!(m.sub_domains(), DOMAINS),
        }
        let built: Vec<usize> = m.params.tensors().iter().map(|t| t.len()).collect();
        assert_eq!(built, tensor_lengths(&DOMAINS, &cfg), "{cfg:?}");
    }
}
