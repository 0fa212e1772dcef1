//! [`RotaryEmbedding`]: a rotary encoding as a Burn [`Module`], for models that hold their
//! position encoding as a field — in the shape conventions of `burn::nn::RotaryEncoding`.
//!
//! ```
//! use burn::module::Module;
//! use burn::nn::{Linear, LinearConfig};
//! use burn::tensor::{Device, Distribution, Tensor};
//! use rigor_rope::{Positions, RopeConfig, RotaryEmbedding, Rotation};
//!
//! #[derive(Module, Debug)]
//! struct Head {
//!     query: Linear,
//!     key: Linear,
//!     rope: RotaryEmbedding,
//! }
//!
//! let device = Device::flex();
//! let head = Head {
//!     query: LinearConfig::new(32, 16).init(&device),
//!     key: LinearConfig::new(32, 16).init(&device),
//!     // p-RoPE (Round and Round We Go! §5): the top 75% of the frequencies.
//!     rope: RopeConfig::new(16)
//!         .with_rotation(Rotation::Proportional { p: 0.75 })
//!         .init_module()
//!         .unwrap(),
//! };
//! let x = Tensor::<3>::random([2, 10, 32], Distribution::Normal(0.0, 1.0), &device);
//! // [batch, seq, head_dim] (one head) or [batch, heads, seq, head_dim].
//! let (q, k) = head
//!     .rope
//!     .forward(head.query.forward(x.clone()), head.key.forward(x), Positions::Offset(0))
//!     .unwrap();
//! assert_eq!(q.dims(), [2, 10, 16]);
//! assert_eq!(k.dims(), [2, 10, 16]);
//! ```

use burn::module::Module;
use burn::tensor::Tensor;

use crate::apply::{Positions, Role, Rope, TensorLayout};
use crate::config::RopeConfig;
use crate::error::{Result, RopeError};

/// A rotary position encoding (every variant [`RopeConfig`] describes) as a Burn [`Module`]: a
/// model can hold it as a field beside its `Linear` layers, and the model's `Module` derive,
/// `to_device`, `into_record` / `load_record` work as for any other field.
///
/// It has **no parameters**: its record is empty, and the variant lives in the
/// configuration — keep the [`RopeConfig`] (serde) in the model's config, as Burn keeps
/// hyper-parameters in `Config`s and weights in records. A model rebuilt from its config and
/// loaded from its record rotates exactly as the saved one did. The cos/sin tables are a cache
/// built in `f64` on first use and grown on demand, so there is no maximum sequence length
/// (only [`crate::MAX_POSITION`]).
///
/// Shapes follow `burn::nn::RotaryEncoding`: `(..., seq, head_dim)`, i.e.
/// `[batch, seq, head_dim]` (one head) or `[batch, heads, seq, head_dim]`;
/// [`with_tensor_layout`](Self::with_tensor_layout)`(TensorLayout::Bshd)` takes
/// `[batch, seq, heads, head_dim]` instead. Positions are an offset (prefill with
/// `Offset(0)`, decoding after `n` cached tokens with `Offset(n)`) or per-token ids (packed
/// sequences, left padding, M-RoPE grids).
///
/// Unlike `burn::nn::RotaryEncoding`, a bad shape or position is an error, not a panic.
#[derive(Module, Debug)]
pub struct RotaryEmbedding {
    #[module(skip)]
    rope: Rope,
    #[module(skip)]
    layout: TensorLayout,
}

impl From<Rope> for RotaryEmbedding {
    fn from(rope: Rope) -> Self {
        Self {
            rope,
            layout: TensorLayout::Bhsd,
        }
    }
}

impl RopeConfig {
    /// Validates the configuration and builds a [`RotaryEmbedding`] module.
    ///
    /// # Errors
    /// As [`RopeConfig::init`].
    pub fn init_module(self) -> Result<RotaryEmbedding> {
        Ok(self.init()?.into())
    }
}

impl RotaryEmbedding {
    /// Validates `config` and builds the module (same as [`RopeConfig::init_module`]).
    ///
    /// # Errors
    /// As [`RopeConfig::init`].
    pub fn new(config: RopeConfig) -> Result<Self> {
        config.init_module()
    }

    /// Reads 4-D inputs as `layout` (default [`TensorLayout::Bhsd`], Burn's convention).
    pub fn with_tensor_layout(mut self, layout: TensorLayout) -> Self {
        self.layout = layout;
        self
    }

    /// How 4-D inputs are laid out.
    pub fn tensor_layout(&self) -> TensorLayout {
        self.layout
    }

    /// The configuration (serialise it with the model's config).
    pub fn config(&self) -> &RopeConfig {
        self.rope.config()
    }

    /// The underlying [`Rope`] (tables, frequencies, the reference path).
    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    /// Head dimension $d$.
    pub fn head_dim(&self) -> usize {
        self.rope.head_dim()
    }

    /// Encodes queries and keys at the same positions:
    /// $q_t \mapsto R_t\\,q_t$, $k_t \mapsto R_t\\,k_t$ per 2-D chunk (with the variant's scaling,
    /// attention factor and xPos decay — see [`Rope::apply`]). `q` and `k` may have different
    /// head counts (grouped-query attention) but the same batch and sequence length. On Flex
    /// both go through one fused call.
    ///
    /// NaN/±∞ in an input reach only the outputs that read them (the coordinate and its pair).
    ///
    /// # Errors
    /// [`RopeError::ShapeMismatch`] if `D` is not 3 or 4, the last dimension is not
    /// `head_dim`, or `q` and `k` differ in batch or sequence; as [`Rope::apply`] for positions.
    pub fn forward<const D: usize>(
        &self,
        q: Tensor<D>,
        k: Tensor<D>,
        positions: Positions<'_>,
    ) -> Result<(Tensor<D>, Tensor<D>)> {
        let (q_dims, k_dims) = (q.dims(), k.dims());
        let q4 = self.as_4d(q, "RotaryEmbedding::forward")?;
        let k4 = self.as_4d(k, "RotaryEmbedding::forward")?;
        let (q4, k4) = self.rope.apply_qk(q4, k4, self.layout, positions)?;
        Ok((q4.reshape(q_dims), k4.reshape(k_dims)))
    }

    /// Encodes one tensor (a query, or a key: only xPos treats them differently).
    ///
    /// # Errors
    /// As [`forward`](Self::forward).
    pub fn encode<const D: usize>(
        &self,
        x: Tensor<D>,
        role: Role,
        positions: Positions<'_>,
    ) -> Result<Tensor<D>> {
        let dims = x.dims();
        let x4 = self.as_4d(x, "RotaryEmbedding::encode")?;
        Ok(self
            .rope
            .apply(x4, self.layout, role, positions)?
            .reshape(dims))
    }

    /// `[b, s, d]` → one head in this layout (a view); 4-D as is; anything else is an error.
    fn as_4d<const D: usize>(&self, x: Tensor<D>, op: &'static str) -> Result<Tensor<4>> {
        let dims = x.dims();
        match D {
            3 => Ok(match self.layout {
                TensorLayout::Bhsd => x.reshape([dims[0], 1, dims[1], dims[2]]),
                TensorLayout::Bshd => x.reshape([dims[0], dims[1], 1, dims[2]]),
            }),
            4 => Ok(x.reshape([dims[0], dims[1], dims[2], dims[3]])),
            _ => Err(RopeError::ShapeMismatch {
                op,
                detail: format!(
                    "expected [batch, seq, head_dim] or a 4-D [batch, heads, seq, head_dim] \
                     (or [batch, seq, heads, head_dim] with TensorLayout::Bshd); got {D} dims \
                     {dims:?}"
                ),
            }),
        }
    }
}
