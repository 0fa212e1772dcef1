//! Tiling a matrix into blocks of at most `b × b` (Shampoo's "blocking of large dimensions",
//! Anil et al., arXiv 2002.09018, §3.3): each block gets its own left/right statistics, which
//! bounds the preconditioner cost at `O(b³)` per block.

use core::ops::Range;

use burn::tensor::Tensor;

/// The block layout of an `m × n` matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLayout {
    /// Row ranges, in order.
    pub rows: Vec<Range<usize>>,
    /// Column ranges, in order.
    pub cols: Vec<Range<usize>>,
}

fn ranges(len: usize, block: usize) -> Vec<Range<usize>> {
    let block = block.max(1);
    (0..len.div_ceil(block))
        .map(|i| i * block..((i + 1) * block).min(len))
        .collect()
}

impl BlockLayout {
    /// Splits `m` rows and `n` columns into consecutive chunks of `block` (the last one smaller).
    pub fn new(m: usize, n: usize, block: usize) -> Self {
        Self {
            rows: ranges(m, block),
            cols: ranges(n, block),
        }
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.rows.len() * self.cols.len()
    }

    /// Whether the layout has no block (an empty matrix).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `(rows, cols)` of every block, row-major.
    pub fn shapes(&self) -> Vec<(usize, usize)> {
        self.rows
            .iter()
            .flat_map(|r| self.cols.iter().map(move |c| (r.len(), c.len())))
            .collect()
    }

    /// The blocks of `t`, row-major.
    pub fn split(&self, t: &Tensor<2>) -> Vec<Tensor<2>> {
        if self.len() == 1 {
            return vec![t.clone()];
        }
        self.rows
            .iter()
            .flat_map(|r| {
                self.cols
                    .iter()
                    .map(move |c| t.clone().slice([r.clone(), c.clone()]))
            })
            .collect()
    }

    /// Reassembles blocks produced by [`split`](Self::split) (or blocks of the same shapes).
    pub fn merge(&self, blocks: Vec<Tensor<2>>) -> Tensor<2> {
        let ncol = self.cols.len();
        if blocks.len() == 1 {
            return blocks.into_iter().next().expect("one block");
        }
        let mut it = blocks.into_iter();
        let rows: Vec<Tensor<2>> = (0..self.rows.len())
            .map(|_| Tensor::cat(it.by_ref().take(ncol).collect(), 1))
            .collect();
        Tensor::cat(rows, 0)
    }
}
