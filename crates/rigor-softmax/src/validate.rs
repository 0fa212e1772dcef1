//! Input checks shared by every op: dimension resolution and the optional logits check.
//!
//! The ops themselves never read data back from the device (that would stall a GPU), so they
//! cannot see `NaN` or `+∞`: such a row comes out as `NaN`, which is what every op documents.
//! [`check_logits`] is the explicit, synchronising check for callers who want an error instead.

use burn::tensor::Tensor;

use crate::error::{Result, SoftmaxError};

/// Resolves a possibly negative dimension index (`-1` is the last) for a tensor of rank `rank`.
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] unless `-rank <= dim < rank`.
pub fn resolve_dim(dim: isize, rank: usize) -> Result<usize> {
    let r = rank as isize;
    if dim >= r || dim < -r {
        return Err(SoftmaxError::DimOutOfRange { dim, rank });
    }
    Ok(if dim < 0 {
        (dim + r) as usize
    } else {
        dim as usize
    })
}

/// Checks that `logits` holds only finite values and `−∞` masks.
///
/// This reads two counts back from the device (a synchronisation point), so it belongs in
/// data loading, debugging and tests, not in the inner loop.
///
/// # Errors
/// [`SoftmaxError::NonFiniteLogits`] with the number of `NaN` and `+∞` entries, or
/// [`SoftmaxError::Readback`] if the device could not be read.
pub fn check_logits<const D: usize>(logits: &Tensor<D>) -> Result<()> {
    let nan = count(logits.clone().is_nan().int().sum())?;
    let pos_inf = count(logits.clone().equal_elem(f32::INFINITY).int().sum())?;
    if nan == 0 && pos_inf == 0 {
        Ok(())
    } else {
        Err(SoftmaxError::NonFiniteLogits { nan, pos_inf })
    }
}

fn count(t: Tensor<1, burn::tensor::Int>) -> Result<usize> {
    let v: i64 = t.try_into_scalar().map_err(SoftmaxError::from)?;
    Ok(v as usize)
}

/// `true` where an entry is a mask (`−∞`).
pub(crate) fn masked<const D: usize>(x: &Tensor<D>) -> Tensor<D, burn::tensor::Bool> {
    x.clone().equal_elem(f32::NEG_INFINITY)
}

/// `logits · scale` (broadcast) that keeps `−∞` masks as `−∞` in value *and* keeps the
/// gradient with respect to `scale` finite.
///
/// The naive product fails twice: `0 · −∞ = NaN` in the forward pass when a scale is 0 (SSMax
/// with a single item, ln 1 = 0), and `∂/∂scale = Σ g · logits` picks up `0 · −∞ = NaN` from
/// the masked entries in the backward pass (the paper's own JAX listing has this problem on
/// masked rows). Zeroing the masked logits before the product and re-masking after fixes both.
///
/// The row maximum (detached) is subtracted **before** the product, so a large scale cannot
/// overflow huge-but-finite logits into `±∞`/`NaN`; the softmax that follows is invariant to
/// the shift, in value and gradient.
pub(crate) fn scale_keeping_masks<const D: usize>(
    logits: Tensor<D>,
    scale: Tensor<D>,
    dim: usize,
) -> Tensor<D> {
    let mask = masked(&logits);
    let shifted = logits.clone() - crate::normalizer::softmax::safe_row_max(&logits, dim);
    (shifted.mask_fill(mask.clone(), 0.0) * scale).mask_fill(mask, f32::NEG_INFINITY)
}

/// Zeros of `x`'s shape with `dim` of size 1 (the reduction of rows of no items), uploaded
/// from the host: on Burn 0.22.1's wgpu backend `Tensor::zeros` right after an empty
/// `Tensor::zeros` was seen to return a stale buffer's values.
pub(crate) fn reduced_zeros<const D: usize>(x: &Tensor<D>, dim: usize) -> Tensor<D> {
    let mut shape = x.dims();
    shape[dim] = 1;
    Tensor::<D>::from_data(
        burn::tensor::TensorData::zeros::<f32, _>(shape),
        &x.device(),
    )
    .cast(x.dtype())
}

/// Number of unmasked entries along `dim` (kept as a size-1 dim), as floats.
pub(crate) fn unmasked_count<const D: usize>(x: &Tensor<D>, dim: usize) -> Tensor<D> {
    masked(x).bool_not().float().sum_dim(dim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_dims_count_from_the_end() {
        assert_eq!(resolve_dim(-1, 3), Ok(2));
        assert_eq!(resolve_dim(-3, 3), Ok(0));
        assert_eq!(resolve_dim(2, 3), Ok(2));
    }

    #[test]
    fn out_of_range_dims_are_errors() {
        assert_eq!(
            resolve_dim(3, 3),
            Err(SoftmaxError::DimOutOfRange { dim: 3, rank: 3 })
        );
        assert_eq!(
            resolve_dim(-4, 3),
            Err(SoftmaxError::DimOutOfRange { dim: -4, rank: 3 })
        );
    }
}
