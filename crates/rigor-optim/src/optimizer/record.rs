//! Helpers for hand-written [`RecordState`](burn::optim::RecordState) impls.
//!
//! Burn's `#[derive(RecordState)]` expands to paths inside burn-optim (`crate::RecordState`),
//! so it cannot be used from another crate; the optimizer states here implement the trait by
//! hand with these helpers, following the derive's naming: `{prefix}.{field}` for a tensor,
//! `{prefix}.{field}.{i}` plus a `{prefix}.{field}.len` scalar for a list of tensors.

use burn::optim::{StateSink, StateSource};
use burn::tensor::{Device, Tensor};

pub(crate) fn put_tensor<const D: usize>(
    out: &mut StateSink,
    prefix: &str,
    leaf: &str,
    t: &Tensor<D>,
) {
    out.push_tensor(prefix, leaf, t.clone().into_data());
}

pub(crate) fn put_tensors<const D: usize>(
    out: &mut StateSink,
    prefix: &str,
    leaf: &str,
    ts: &[Tensor<D>],
) {
    out.push_scalar(prefix, &format!("{leaf}.len"), (ts.len() as u64).into());
    for (i, t) in ts.iter().enumerate() {
        out.push_tensor(prefix, &format!("{leaf}.{i}"), t.clone().into_data());
    }
}

pub(crate) fn put_usize(out: &mut StateSink, prefix: &str, leaf: &str, v: usize) {
    out.push_scalar(prefix, leaf, (v as u64).into());
}

pub(crate) fn take_tensor<const D: usize>(
    src: &mut StateSource,
    prefix: &str,
    leaf: &str,
    device: &Device,
) -> Option<Tensor<D>> {
    let data = src.take_tensor(prefix, leaf)?;
    (data.rank() == D).then(|| Tensor::from_data(data, device))
}

pub(crate) fn take_tensors<const D: usize>(
    src: &mut StateSource,
    prefix: &str,
    leaf: &str,
    device: &Device,
) -> Option<Vec<Tensor<D>>> {
    let len = take_usize(src, prefix, &format!("{leaf}.len"))?;
    (0..len)
        .map(|i| take_tensor(src, prefix, &format!("{leaf}.{i}"), device))
        .collect()
}

pub(crate) fn take_usize(src: &mut StateSource, prefix: &str, leaf: &str) -> Option<usize> {
    let s = src.take_scalar(prefix, leaf)?;
    u64::try_from(s).ok().and_then(|v| usize::try_from(v).ok())
}

pub(crate) fn move_all<const D: usize>(ts: Vec<Tensor<D>>, device: &Device) -> Vec<Tensor<D>> {
    ts.into_iter().map(|t| t.to_device(device)).collect()
}
