//! Applying an encoding to queries and keys.
//!
//! - [`Rope::apply`] / [`Rope::apply_qk`]: `[batch, heads, seq, head_dim]` or
//!   `[batch, seq, heads, head_dim]` ([`TensorLayout`]), positions as an offset or per-token
//!   ids ([`Positions`]).
//! - [`Rope::cos_sin`]: the gathered tables, `[batch or 1, seq, rotary_dim]`.
//! - [`rotate::rotate`]: the reference rotation in composed ops.
//! - [`cache`]: how tables are built (in `f64`) and grown.

pub mod cache;
pub mod positions;
pub mod rotate;

use std::sync::Mutex;

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::RopeConfig;
use crate::error::{Result, RopeError};
use crate::frequencies::Frequencies;
use crate::layout::Layout;
use cache::Tables;
pub use cache::{MAX_CACHED_ELEMENTS, MAX_POSITION};
pub use positions::{PositionIds, Positions};

/// Order of the dimensions of a query/key tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorLayout {
    /// `[batch, heads, seq, head_dim]` (burn, HF after `transpose(1, 2)`).
    Bhsd,
    /// `[batch, seq, heads, head_dim]` (flash-attention style).
    Bshd,
}

impl TensorLayout {
    fn batch_seq_heads(&self, dims: [usize; 4]) -> (usize, usize, usize) {
        match self {
            TensorLayout::Bhsd => (dims[0], dims[2], dims[1]),
            TensorLayout::Bshd => (dims[0], dims[1], dims[2]),
        }
    }

    /// `[P, S, r]` tables → broadcastable against this layout.
    fn broadcast(&self, t: Tensor<3>) -> Tensor<4> {
        match self {
            TensorLayout::Bhsd => t.unsqueeze_dim(1),
            TensorLayout::Bshd => t.unsqueeze_dim(2),
        }
    }
}

/// Query or key: only xPos treats them differently (decay $\zeta^{t/B}$ vs $\zeta^{-t/B}$).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A query.
    Query,
    /// A key.
    Key,
}

/// A validated rotary encoding with its cos/sin cache. Build it with [`RopeConfig::init`].
#[derive(Debug)]
pub struct Rope {
    config: RopeConfig,
    /// Slot of each rotated coordinate (layout applied).
    col_slot: Vec<usize>,
    /// Axis of each rotated coordinate.
    col_axis: Vec<usize>,
    cache: Mutex<Option<Tables>>,
}

impl Clone for Rope {
    fn clone(&self) -> Self {
        Rope::from_validated(self.config.clone())
    }
}

impl Rope {
    pub(crate) fn from_validated(config: RopeConfig) -> Self {
        let r = config.rotary_dim();
        let col_slot: Vec<usize> = (0..r).map(|c| config.layout.slot_of(c, r)).collect();
        let slot_axis = config.axes.slot_axes(r / 2);
        let col_axis = col_slot.iter().map(|&k| slot_axis[k]).collect();
        Self {
            config,
            col_slot,
            col_axis,
            cache: Mutex::new(None),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RopeConfig {
        &self.config
    }

    /// Head dimension $d$.
    pub fn head_dim(&self) -> usize {
        self.config.head_dim
    }

    /// Width of the rotated prefix.
    pub fn rotary_dim(&self) -> usize {
        self.col_slot.len()
    }

    /// Coordinate pairing.
    pub fn layout(&self) -> Layout {
        self.config.layout
    }

    /// Frequencies (one per slot, `f64`) and attention factor at sequence length `seq_len`
    /// (read by dynamic NTK and LongRoPE only).
    pub fn frequencies(&self, seq_len: usize) -> Frequencies {
        self.config.frequencies_unchecked(seq_len)
    }

    /// Number of cached positions on the device (0 before the first call).
    pub fn cached_len(&self) -> usize {
        self.lock().as_ref().map_or(0, |t| t.len)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Tables>> {
        // A panic while holding the lock cannot leave a half-written table (tables are
        // replaced whole), so a poisoned lock is safe to reuse.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks the largest position a call asks for (`needed − 1`) against [`MAX_POSITION`]
    /// and xPos's range.
    fn check_positions(&self, needed: usize) -> Result<()> {
        if needed > MAX_POSITION + 1 {
            return Err(RopeError::PositionOutOfRange {
                position: needed - 1,
                limit: MAX_POSITION,
            });
        }
        if let Some(x) = &self.config.xpos {
            let limit = x.max_position(self.rotary_dim());
            if needed > limit + 1 {
                return Err(RopeError::XposOutOfRange {
                    position: needed - 1,
                    limit,
                });
            }
        }
        Ok(())
    }

    /// Whether positions `0..needed` fit in the cache.
    fn cacheable(&self, needed: usize) -> bool {
        needed <= cache::max_cached_rows(self.rotary_dim())
    }

    /// Tables covering positions `0..needed` for sequence length `needed` (the caller checked
    /// [`Self::check_positions`] and [`Self::cacheable`]).
    fn tables(&self, needed: usize, device: &Device) -> Result<Tables> {
        let key = self.config.scaling.length_key(needed);
        let mut guard = self.lock();
        let stale = match guard.as_ref() {
            None => Some(0),
            Some(t) if &t.device != device || t.key != key => Some(0),
            Some(t) if t.len < needed => Some(t.len),
            Some(_) => None,
        };
        if let Some(old) = stale {
            let mut len = cache::grow(needed, old).min(cache::max_cached_rows(self.rotary_dim()));
            if let Some(x) = &self.config.xpos {
                len = len.min(x.max_position(self.rotary_dim()) + 1);
            }
            let len = len.max(needed);
            *guard = Some(cache::build(
                &self.config,
                &self.col_slot,
                0..len,
                needed,
                key,
                device,
            ));
        }
        Ok(guard.as_ref().expect("cache filled above").clone())
    }

    /// Rows for exactly `positions` (not cached), for sequence length `needed`.
    fn uncached(
        &self,
        positions: impl ExactSizeIterator<Item = usize>,
        needed: usize,
        device: &Device,
    ) -> Tables {
        let key = self.config.scaling.length_key(needed);
        cache::build(&self.config, &self.col_slot, positions, needed, key, device)
    }

    /// The `cos` and `sin` a tensor of `batch` sequences of `seq` tokens is rotated with:
    /// `[P, seq, rotary_dim]` with `P = 1` for an offset and the ids' batch for ids. Includes
    /// the attention factor and (for `role`) the xPos scale.
    ///
    /// # Errors
    /// [`RopeError::PositionIdsShape`] if ids do not match `[axes, batch or 1, seq]`;
    /// [`RopeError::XposOutOfRange`]; [`RopeError::PositionOutOfRange`] for a position above
    /// [`MAX_POSITION`] (positions beyond the cache, [`MAX_CACHED_ELEMENTS`], are computed for
    /// the call without growing it).
    pub fn cos_sin(
        &self,
        role: Role,
        positions: Positions<'_>,
        batch: usize,
        seq: usize,
        device: &Device,
    ) -> Result<(Tensor<3>, Tensor<3>)> {
        let r = self.rotary_dim();
        match positions {
            Positions::Offset(offset) => {
                let needed = offset
                    .checked_add(seq)
                    .ok_or(RopeError::PositionOutOfRange {
                        position: usize::MAX,
                        limit: MAX_POSITION,
                    })?;
                self.check_positions(needed)?;
                if !self.cacheable(needed) {
                    let t = self.uncached(offset..needed, needed, device);
                    let (c, s) = pick(role, &t);
                    return Ok((c.unsqueeze_dim::<3>(0), s.unsqueeze_dim::<3>(0)));
                }
                let t = self.tables(needed, device)?;
                let (c, s) = pick(role, &t);
                let rows = |x: Tensor<2>| x.narrow(0, offset, seq).unsqueeze_dim::<3>(0);
                Ok((rows(c), rows(s)))
            }
            Positions::Ids(ids) => {
                let [axes, pb, ps] = ids.shape();
                let want_axes = self.config.axes.count();
                if axes != want_axes || ps != seq || (pb != batch && pb != 1) {
                    return Err(RopeError::PositionIdsShape {
                        got: ids.shape().to_vec(),
                        expected: vec![want_axes, batch, seq],
                        axes: want_axes,
                    });
                }
                let last = ids.max();
                if last > MAX_POSITION {
                    return Err(RopeError::PositionOutOfRange {
                        position: last,
                        limit: MAX_POSITION,
                    });
                }
                let needed = last + 1;
                self.check_positions(needed)?;
                let cached = if self.cacheable(needed) {
                    Some(self.tables(needed, device)?)
                } else {
                    None
                };
                let mut cos: Option<Tensor<2>> = None;
                let mut sin: Option<Tensor<2>> = None;
                for a in 0..axes {
                    let (mut ca, mut sa) = match &cached {
                        Some(t) => {
                            let (c, s) = pick(role, t);
                            let idx = index_tensor(ids.axis(a), device);
                            (c.select(0, idx.clone()), s.select(0, idx))
                        }
                        // Beyond the cache: the rows of exactly these ids.
                        None => pick(
                            role,
                            &self.uncached(ids.axis(a).iter().copied(), needed, device),
                        ),
                    };
                    if axes > 1 {
                        let m = self.axis_mask(a, device);
                        ca = ca * m.clone();
                        sa = sa * m;
                    }
                    cos = Some(match cos {
                        None => ca,
                        Some(acc) => acc + ca,
                    });
                    sin = Some(match sin {
                        None => sa,
                        Some(acc) => acc + sa,
                    });
                }
                let shape = [pb, seq, r];
                Ok((
                    cos.expect("at least one axis").reshape(shape),
                    sin.expect("at least one axis").reshape(shape),
                ))
            }
        }
    }

    /// `[1, rotary_dim]`: 1 on the coordinates driven by axis `a`, else 0.
    fn axis_mask(&self, a: usize, device: &Device) -> Tensor<2> {
        let m: Vec<f32> = self
            .col_axis
            .iter()
            .map(|&x| if x == a { 1.0 } else { 0.0 })
            .collect();
        let r = m.len();
        Tensor::from_data(TensorData::new(m, [1, r]), device)
    }

    /// Encodes a query or key tensor.
    ///
    /// For every chunk $k$ of token $t$ (per axis for axial/M-RoPE):
    /// $y_k = a\\,\zeta_k^{\pm t/B}\\,\rho(t\\,g_k)\\,x_k$, with $\rho$ the 2-D rotation, $a$ the
    /// attention factor and the xPos factor only when xPos is on. The NeoX tail passes
    /// through. `x` keeps its shape.
    ///
    /// On Flex (f32 or f64, with or without autodiff) this runs the fused kernel
    /// ([`crate::kernel`]: one pass, in place when `x`'s buffer is not shared, fused backward);
    /// elsewhere it runs [`Rope::apply_reference`]. Both give the same values and gradients.
    /// `NaN`/`±∞` in `x` reach only the outputs that read them (the coordinate and its pair
    /// partner).
    ///
    /// # Errors
    /// [`RopeError::ShapeMismatch`] if the last dim is not `head_dim`;
    /// [`RopeError::PositionIdsShape`]; [`RopeError::XposOutOfRange`];
    /// [`RopeError::PositionOutOfRange`].
    pub fn apply(
        &self,
        x: Tensor<4>,
        layout: TensorLayout,
        role: Role,
        positions: Positions<'_>,
    ) -> Result<Tensor<4>> {
        self.apply_path(x, layout, role, positions, true)
    }

    /// [`Rope::apply`] in composed tensor ops only ([`rotate::rotate`] on the gathered
    /// tables): the reference the fused kernel is tested against, and the path every backend
    /// without a kernel takes. Same errors as [`Rope::apply`].
    pub fn apply_reference(
        &self,
        x: Tensor<4>,
        layout: TensorLayout,
        role: Role,
        positions: Positions<'_>,
    ) -> Result<Tensor<4>> {
        self.apply_path(x, layout, role, positions, false)
    }

    fn check_head_dim(&self, x: &Tensor<4>, op: &'static str) -> Result<()> {
        let dims = x.dims();
        if dims[3] != self.head_dim() {
            return Err(RopeError::ShapeMismatch {
                op,
                detail: format!(
                    "last dimension is {}, expected head_dim = {} (input shape {dims:?})",
                    dims[3],
                    self.head_dim()
                ),
            });
        }
        Ok(())
    }

    /// The tables for `x` (cast to its dtype, so `f64` inputs rotate with `f64` tables).
    fn tables_for(
        &self,
        x: &Tensor<4>,
        layout: TensorLayout,
        role: Role,
        positions: Positions<'_>,
    ) -> Result<(Tensor<3>, Tensor<3>)> {
        let (batch, seq, _) = layout.batch_seq_heads(x.dims());
        let (cos, sin) = self.cos_sin(role, positions, batch, seq, &x.device())?;
        let dtype = x.dtype();
        if cos.dtype() == dtype {
            Ok((cos, sin))
        } else {
            Ok((cos.cast(dtype), sin.cast(dtype)))
        }
    }

    #[cfg(feature = "flex")]
    fn spec(&self, layout: TensorLayout) -> crate::kernel::RotateSpec {
        crate::kernel::RotateSpec {
            pairing: self.config.layout,
            layout,
            rotary_dim: self.rotary_dim(),
        }
    }

    fn apply_path(
        &self,
        x: Tensor<4>,
        layout: TensorLayout,
        role: Role,
        positions: Positions<'_>,
        allow_fused: bool,
    ) -> Result<Tensor<4>> {
        self.check_head_dim(&x, "Rope::apply")?;
        if x.shape().num_elements() == 0 {
            return Ok(x);
        }
        let (cos, sin) = self.tables_for(&x, layout, role, positions)?;
        #[cfg(feature = "flex")]
        if allow_fused && crate::kernel::fused_available(&x) {
            return Ok(crate::kernel::fused_rotate(x, cos, sin, self.spec(layout)));
        }
        let _ = allow_fused;
        let (cos, sin) = (layout.broadcast(cos), layout.broadcast(sin));
        let r = self.rotary_dim();
        if r == self.head_dim() {
            Ok(rotate::rotate(x, cos, sin, self.config.layout))
        } else {
            let head = x.clone().narrow(3, 0, r);
            let tail = x.narrow(3, r, self.head_dim() - r);
            Ok(Tensor::cat(
                vec![rotate::rotate(head, cos, sin, self.config.layout), tail],
                3,
            ))
        }
    }

    /// Encodes queries and keys at the same positions; on Flex both go through one fused
    /// call ([`crate::kernel::RopeKernels::rigor_rope_qk`]).
    ///
    /// # Errors
    /// As [`Rope::apply`]; also [`RopeError::ShapeMismatch`] if `q` and `k` differ in batch
    /// or sequence length.
    pub fn apply_qk(
        &self,
        q: Tensor<4>,
        k: Tensor<4>,
        layout: TensorLayout,
        positions: Positions<'_>,
    ) -> Result<(Tensor<4>, Tensor<4>)> {
        check_qk(&q, &k, layout)?;
        #[cfg(feature = "flex")]
        if crate::kernel::fused_available(&q)
            && crate::kernel::fused_available(&k)
            && q.dtype() == k.dtype()
            && q.shape().num_elements() > 0
            && k.shape().num_elements() > 0
        {
            self.check_head_dim(&q, "Rope::apply_qk")?;
            self.check_head_dim(&k, "Rope::apply_qk")?;
            let tq = self.tables_for(&q, layout, Role::Query, positions)?;
            let tk = self.tables_for(&k, layout, Role::Key, positions)?;
            return Ok(crate::kernel::fused_rotate_qk(
                (q, k),
                tq,
                tk,
                self.spec(layout),
            ));
        }
        Ok((
            self.apply(q, layout, Role::Query, positions)?,
            self.apply(k, layout, Role::Key, positions)?,
        ))
    }

    /// [`Rope::apply_qk`] in composed ops only (see [`Rope::apply_reference`]).
    ///
    /// # Errors
    /// As [`Rope::apply_qk`].
    pub fn apply_qk_reference(
        &self,
        q: Tensor<4>,
        k: Tensor<4>,
        layout: TensorLayout,
        positions: Positions<'_>,
    ) -> Result<(Tensor<4>, Tensor<4>)> {
        check_qk(&q, &k, layout)?;
        Ok((
            self.apply_reference(q, layout, Role::Query, positions)?,
            self.apply_reference(k, layout, Role::Key, positions)?,
        ))
    }

    /// Convenience: position ids `0..seq` per sequence (same as `Positions::Offset(0)`).
    pub fn arange_ids(batch: usize, seq: usize) -> PositionIds {
        PositionIds::arange(batch, seq)
    }
}

/// `q` and `k` must agree in batch and sequence length.
fn check_qk(q: &Tensor<4>, k: &Tensor<4>, layout: TensorLayout) -> Result<()> {
    let (bq, sq, _) = layout.batch_seq_heads(q.dims());
    let (bk, sk, _) = layout.batch_seq_heads(k.dims());
    if (bq, sq) != (bk, sk) {
        return Err(RopeError::ShapeMismatch {
            op: "Rope::apply_qk",
            detail: format!(
                "q has shape {:?} and k {:?}: batch and seq must agree",
                q.dims(),
                k.dims()
            ),
        });
    }
    Ok(())
}

fn pick(role: Role, t: &Tables) -> (Tensor<2>, Tensor<2>) {
    match role {
        Role::Query => (t.cos_q.clone(), t.sin_q.clone()),
        Role::Key => (t.cos_k.clone(), t.sin_k.clone()),
    }
}

fn index_tensor(ids: &[usize], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}
