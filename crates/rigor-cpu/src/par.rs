//! Row-parallel loops: a tensor of `rows × n` values is cut into tasks of
//! [`ROWS_PER_TASK`] rows (as burn-flex's own softmax does), run on rayon's pool when the
//! tensor holds at least [`PARALLEL_MIN_ELEMENTS`] values and on the calling thread otherwise.

/// Rows handed to one rayon task.
pub const ROWS_PER_TASK: usize = 64;
/// Below this many elements a call stays on the calling thread.
pub const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// Splits `total` values, `n` per row, into tasks of [`ROWS_PER_TASK`] rows and runs
/// `f(first_row, rows_in_task)` on each, in parallel when the tensor is large. `n == 0` or
/// `total == 0` runs nothing.
pub fn for_row_chunks(total: usize, n: usize, f: impl Fn(usize, usize) + Sync) {
    for_row_chunks_sized(total, n, ROWS_PER_TASK, f);
}

/// As [`for_row_chunks`] with `rows_per_task` rows per task (at least 1).
pub fn for_row_chunks_sized(
    total: usize,
    n: usize,
    rows_per_task: usize,
    f: impl Fn(usize, usize) + Sync,
) {
    if n == 0 || total == 0 {
        return;
    }
    let per = rows_per_task.max(1);
    let rows = total / n;
    let tasks = rows.div_ceil(per);
    let run = |t: usize| {
        let first = t * per;
        f(first, per.min(rows - first));
    };
    if total < PARALLEL_MIN_ELEMENTS || tasks < 2 {
        (0..tasks).for_each(run);
    } else {
        use rayon::prelude::*;
        (0..tasks).into_par_iter().for_each(run);
    }
}

/// A mutable slice shared by tasks that write disjoint ranges of it (the output of a
/// row-parallel loop).
pub struct DisjointRows<T>(*mut T, usize);

// SAFETY: tasks only reach the buffer through `rows_mut`, whose callers promise disjoint
// ranges; `T: Send` lets each range be written from another thread.
unsafe impl<T: Send> Sync for DisjointRows<T> {}

impl<T> DisjointRows<T> {
    /// Wraps `v` for the duration of the borrow.
    pub fn new(v: &mut [T]) -> Self {
        Self(v.as_mut_ptr(), v.len())
    }

    /// The range `start..start + len` of the buffer.
    ///
    /// # Panics
    /// If the range is out of bounds.
    ///
    /// # Safety
    /// No two live results may overlap, and none may outlive the slice given to
    /// [`DisjointRows::new`].
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn rows_mut(&self, start: usize, len: usize) -> &mut [T] {
        assert!(start.checked_add(len).is_some_and(|end| end <= self.1));
        // SAFETY: in bounds (checked above); disjointness and lifetime are the caller's
        // promise.
        unsafe { core::slice::from_raw_parts_mut(self.0.add(start), len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_row_is_visited_once_in_tasks_of_the_given_size() {
        for (total, n, per) in [
            (0, 4, 64),
            (12, 0, 64),
            (7, 7, 64),
            (1 << 17, 8, 64),
            (130, 10, 3),
        ] {
            let seen: Vec<AtomicUsize> =
                (0..total / n.max(1)).map(|_| AtomicUsize::new(0)).collect();
            for_row_chunks_sized(total, n, per, |first, rows| {
                assert!(rows >= 1 && rows <= per);
                for c in &seen[first..first + rows] {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            });
            if n > 0 {
                assert!(
                    seen.iter().all(|c| c.load(Ordering::Relaxed) == 1),
                    "{total} {n} {per}"
                );
            }
        }
    }

    #[test]
    fn disjoint_rows_write_their_own_ranges() {
        let mut v = vec![0usize; 1 << 16];
        let d = DisjointRows::new(&mut v);
        for_row_chunks(1 << 16, 16, |first, rows| {
            // SAFETY: each task owns rows first..first + rows.
            let out = unsafe { d.rows_mut(first * 16, rows * 16) };
            out.iter_mut()
                .enumerate()
                .for_each(|(i, x)| *x = first * 16 + i);
        });
        assert!(v.iter().enumerate().all(|(i, &x)| i == x));
    }
}
