//! Feed-forward and Transformer blocks.
//!
//! - [`norm`] — LayerNorm or RMSNorm, picked by [`NormKind`].
//! - [`mlp`] — Linear–GELU–…–Linear.
//! - [`transformer`] — the pre-norm block
//!   $x \leftarrow x + \mathrm{Attn}(\mathrm{Norm}(x)),\ x \leftarrow x + \mathrm{MLP}(\mathrm{Norm}(x))$.

pub mod mlp;
pub mod norm;
pub mod transformer;

pub use mlp::{Mlp, MlpConfig};
pub use norm::{Norm, NormKind};
pub use transformer::{TransformerBlock, TransformerBlockConfig};
